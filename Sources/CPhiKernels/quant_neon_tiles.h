// The NEON panel kernels of quant_neon.c, written once and included twice: with the ARMv8.2 dot product
// (sdot by element) and with widening multiplies for CPUs without it. Internal; expects arm_neon.h, xrow,
// QN_SFX (suffix of every name), QN_TGT (function attribute), QN_DOT(acc, w, x, LANE) (acc += per 4-byte
// group of w · 4-byte lane LANE of x, LANE a literal), QN_ENTRY (name of the entry point), and the helpers of
// quant_neon.c.
//
// Lane r of accumulator g is row 4g+r of the panel: 4 int32x4 per token cover the 16 rows, and each 16-byte
// piece of a 64-byte panel vector meets 4 activations (one lane of a 16-byte activation load) in one dot.

#define QN_CAT2(a, b) a##_##b
#define QN_CAT(a, b) QN_CAT2(a, b)
#define QN(name) QN_CAT(name, QN_SFX)

// Q4_0 and Q4_1: low nibbles of vector v are codes 4v..4v+3 (activation lane v of xa), high nibbles codes
// 16+4v.. (lane v of xb). Q4_0's -8 offset is the activation bias that seeds the block sum.
QN_TGT static AI void QN(tile_q4)(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y,
                                  int64_t ldy, int r0, int r1, const int RT, const int one) {
    const int64_t nb = K / 32, pbb = one ? 320 : 288, qoff = one ? 64 : 32;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    xrow x[QN_RT32];
    float32x4_t acc[QN_RT32][4];
    for (int t = 0; t < RT; t++) {
        x[t] = xr(xq, ldxq, t, K, nb);
        for (int g = 0; g < 4; g++) acc[t][g] = vdupq_n_f32(0.0f);
    }
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * pbb;
        float32x4_t wd[4], wm[4];
        for (int g = 0; g < 4; g++) {
            wd[g] = h4(pb + 8 * g);
            wm[g] = one ? h4(pb + 32 + 8 * g) : vdupq_n_f32(0.0f);
        }
        int32x4_t s[QN_RT32][4], s2[4]; // s2: a second dependency chain for the matvec
        int8x16_t xa[QN_RT32], xb[QN_RT32];
        for (int t = 0; t < RT; t++) {
            const int32x4_t init = vdupq_n_s32(one ? 0 : ld32(x[t].aux + 4 * b));
            for (int g = 0; g < 4; g++) s[t][g] = init;
            xa[t] = vld1q_s8(x[t].qs + 32 * b);
            xb[t] = vld1q_s8(x[t].qs + 32 * b + 16);
        }
        for (int g = 0; g < 4; g++) s2[g] = vdupq_n_s32(0);
#define QN_Q4_VEC(v)                                                                                               \
    for (int g = 0; g < 4; g++) {                                                                                  \
        const uint8x16_t raw = vld1q_u8(pb + qoff + 64 * (v) + 16 * g);                                            \
        const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(raw, m4)), hi = vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)); \
        if (RT == 1) {                                                                                             \
            s[0][g] = QN_DOT(s[0][g], lo, xa[0], v);                                                               \
            s2[g] = QN_DOT(s2[g], hi, xb[0], v);                                                                   \
        } else {                                                                                                   \
            for (int t = 0; t < RT; t++) {                                                                         \
                s[t][g] = QN_DOT(s[t][g], lo, xa[t], v);                                                           \
                s[t][g] = QN_DOT(s[t][g], hi, xb[t], v);                                                           \
            }                                                                                                      \
        }                                                                                                          \
    }
        QN_Q4_VEC(0) QN_Q4_VEC(1) QN_Q4_VEC(2) QN_Q4_VEC(3)
#undef QN_Q4_VEC
        if (RT == 1)
            for (int g = 0; g < 4; g++) s[0][g] = vaddq_s32(s[0][g], s2[g]);
        for (int t = 0; t < RT; t++) {
            const float xd = ldf(x[t].d + 4 * b), xs = one ? ldf(x[t].aux + 4 * b) : 0.0f;
            for (int g = 0; g < 4; g++) {
                acc[t][g] = vfmaq_f32(acc[t][g], vcvtq_f32_s32(s[t][g]), vmulq_n_f32(wd[g], xd));
                if (one) acc[t][g] = vfmaq_n_f32(acc[t][g], wm[g], xs);
            }
        }
    }
    for (int t = 0; t < RT; t++) store16(y + t * ldy, acc[t], r0, r1);
}

// Q5_0: Q4_0 plus the fifth bits: a u64 mask per unpacked vector (low nibbles of v: mask v, high: mask v+4),
// bit 4r+i for code i of row r (layout in quant_repack.c); row group g reads mask bits 16g..16g+15 as in Q5_K.
QN_TGT static AI void QN(tile_q5_0)(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y,
                                    int64_t ldy, int r0, int r1, const int RT) {
    const int64_t nb = K / 32;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), c16 = vdupq_n_u8(16);
    const uint8x16_t bitsel = vreinterpretq_u8_u64(vdupq_n_u64(0x8040201008040201ULL));
    xrow x[QN_RT32];
    float32x4_t acc[QN_RT32][4];
    for (int t = 0; t < RT; t++) {
        x[t] = xr(xq, ldxq, t, K, nb);
        for (int g = 0; g < 4; g++) acc[t][g] = vdupq_n_f32(0.0f);
    }
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 352;
        float32x4_t wd[4];
        for (int g = 0; g < 4; g++) wd[g] = h4(pb + 8 * g);
        int32x4_t s[QN_RT32][4], s2[4]; // s2: a second dependency chain for the matvec
        int8x16_t xa[QN_RT32], xb[QN_RT32];
        for (int t = 0; t < RT; t++) {
            const int32x4_t init = vdupq_n_s32(ld32(x[t].aux + 4 * b));
            for (int g = 0; g < 4; g++) s[t][g] = init;
            xa[t] = vld1q_s8(x[t].qs + 32 * b);
            xb[t] = vld1q_s8(x[t].qs + 32 * b + 16);
        }
        for (int g = 0; g < 4; g++) s2[g] = vdupq_n_s32(0);
#define QN_Q5_VEC(v)                                                                                               \
    {                                                                                                              \
        const uint8x8_t l8 = vld1_u8(pb + 288 + 8 * (v)), h8 = vld1_u8(pb + 288 + 8 * ((v) + 4));                   \
        const uint8x16_t hl = vcombine_u8(l8, l8), hh = vcombine_u8(h8, h8);                                       \
        for (int g = 0; g < 4; g++) {                                                                              \
            const uint8x16_t raw = vld1q_u8(pb + 32 + 64 * (v) + 16 * g), ix = vld1q_u8(qn_bit_idx[g]);            \
            const int8x16_t lo = vreinterpretq_s8_u8(                                                              \
                vorrq_u8(vandq_u8(raw, m4), vandq_u8(vtstq_u8(vqtbl1q_u8(hl, ix), bitsel), c16)));                 \
            const int8x16_t hi = vreinterpretq_s8_u8(                                                              \
                vorrq_u8(vshrq_n_u8(raw, 4), vandq_u8(vtstq_u8(vqtbl1q_u8(hh, ix), bitsel), c16)));                \
            if (RT == 1) {                                                                                         \
                s[0][g] = QN_DOT(s[0][g], lo, xa[0], v);                                                           \
                s2[g] = QN_DOT(s2[g], hi, xb[0], v);                                                               \
            } else {                                                                                               \
                for (int t = 0; t < RT; t++) {                                                                     \
                    s[t][g] = QN_DOT(s[t][g], lo, xa[t], v);                                                       \
                    s[t][g] = QN_DOT(s[t][g], hi, xb[t], v);                                                       \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
    }
        QN_Q5_VEC(0) QN_Q5_VEC(1) QN_Q5_VEC(2) QN_Q5_VEC(3)
#undef QN_Q5_VEC
        if (RT == 1)
            for (int g = 0; g < 4; g++) s[0][g] = vaddq_s32(s[0][g], s2[g]);
        for (int t = 0; t < RT; t++) {
            const float xd = ldf(x[t].d + 4 * b);
            for (int g = 0; g < 4; g++) acc[t][g] = vfmaq_f32(acc[t][g], vcvtq_f32_s32(s[t][g]), vmulq_n_f32(wd[g], xd));
        }
    }
    for (int t = 0; t < RT; t++) store16(y + t * ldy, acc[t], r0, r1);
}

// Q8_0: codes are stored +128; flipping the top bit gives the signed values back, so no bias is needed.
QN_TGT static AI void QN(tile_q8_0)(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y,
                                    int64_t ldy, int r0, int r1, const int RT) {
    const int64_t nb = K / 32;
    const uint8x16_t c80 = vdupq_n_u8(0x80);
    xrow x[QN_RT32];
    float32x4_t acc[QN_RT32][4];
    for (int t = 0; t < RT; t++) {
        x[t] = xr(xq, ldxq, t, K, nb);
        for (int g = 0; g < 4; g++) acc[t][g] = vdupq_n_f32(0.0f);
    }
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 544;
        float32x4_t wd[4];
        for (int g = 0; g < 4; g++) wd[g] = h4(pb + 8 * g);
        int32x4_t s[QN_RT32][4], s2[4];
        int8x16_t xa[QN_RT32], xb[QN_RT32];
        for (int t = 0; t < RT; t++) {
            for (int g = 0; g < 4; g++) s[t][g] = vdupq_n_s32(0);
            xa[t] = vld1q_s8(x[t].qs + 32 * b);
            xb[t] = vld1q_s8(x[t].qs + 32 * b + 16);
        }
        for (int g = 0; g < 4; g++) s2[g] = vdupq_n_s32(0);
#define QN_Q8_VEC(v, X, L)                                                                                         \
    for (int g = 0; g < 4; g++) {                                                                                  \
        const int8x16_t w = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(pb + 32 + 64 * (v) + 16 * g), c80));             \
        if (RT == 1) {                                                                                             \
            if ((v) < 4) s[0][g] = QN_DOT(s[0][g], w, X[0], L);                                                    \
            else s2[g] = QN_DOT(s2[g], w, X[0], L);                                                                \
        } else {                                                                                                   \
            for (int t = 0; t < RT; t++) s[t][g] = QN_DOT(s[t][g], w, X[t], L);                                    \
        }                                                                                                          \
    }
        QN_Q8_VEC(0, xa, 0) QN_Q8_VEC(1, xa, 1) QN_Q8_VEC(2, xa, 2) QN_Q8_VEC(3, xa, 3)
        QN_Q8_VEC(4, xb, 0) QN_Q8_VEC(5, xb, 1) QN_Q8_VEC(6, xb, 2) QN_Q8_VEC(7, xb, 3)
#undef QN_Q8_VEC
        if (RT == 1)
            for (int g = 0; g < 4; g++) s[0][g] = vaddq_s32(s[0][g], s2[g]);
        for (int t = 0; t < RT; t++) {
            const float xd = ldf(x[t].d + 4 * b);
            for (int g = 0; g < 4; g++) acc[t][g] = vfmaq_f32(acc[t][g], vcvtq_f32_s32(s[t][g]), vmulq_n_f32(wd[g], xd));
        }
    }
    for (int t = 0; t < RT; t++) store16(y + t * ldy, acc[t], r0, r1);
}

// One 64-code chunk of Q4_K/Q5_K (low nibbles: sub-block 2c, high nibbles: 2c+1, both from the same load, with
// their own accumulators), the exact int32 dots times the 6-bit scales added to isum. Q5_K's fifth bits follow
// the chunk's vectors (pv + 512: sub-block 2c, pv + 576: 2c+1). xs: the chunk's 64 activations per token.
QN_TGT static AI void QN(k_chunk)(const uint8_t *pv, const uint8_t *scp, const int8_t *const *xs,
                                  int32x4_t isum[][4], const int RT, const int five) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), c16 = vdupq_n_u8(16);
    const uint8x16_t bitsel = vreinterpretq_u8_u64(vdupq_n_u64(0x8040201008040201ULL));
    int32x4_t se[QN_RTK][4], so[QN_RTK][4];
    int8x16_t x0[QN_RTK], x1[QN_RTK], x2[QN_RTK], x3[QN_RTK];
    for (int t = 0; t < RT; t++) {
        for (int g = 0; g < 4; g++) se[t][g] = so[t][g] = vdupq_n_s32(0);
        x0[t] = vld1q_s8(xs[t]);
        x1[t] = vld1q_s8(xs[t] + 16);
        x2[t] = vld1q_s8(xs[t] + 32);
        x3[t] = vld1q_s8(xs[t] + 48);
    }
#define QN_K_VEC(q, XE, XO, L)                                                                                     \
    {                                                                                                              \
        uint8x16_t he = vdupq_n_u8(0), ho = vdupq_n_u8(0);                                                         \
        if (five) {                                                                                                \
            const uint8x8_t e8 = vld1_u8(pv + 512 + 8 * (q)), o8 = vld1_u8(pv + 576 + 8 * (q));                    \
            he = vcombine_u8(e8, e8);                                                                              \
            ho = vcombine_u8(o8, o8);                                                                              \
        }                                                                                                          \
        for (int g = 0; g < 4; g++) {                                                                              \
            const uint8x16_t raw = vld1q_u8(pv + 64 * (q) + 16 * g);                                               \
            uint8x16_t ue = vandq_u8(raw, m4), uo = vshrq_n_u8(raw, 4);                                            \
            if (five) { /* mask bits 16g..16g+15: bit 4r+i is code i of row 4g+r */                                \
                const uint8x16_t ix = vld1q_u8(qn_bit_idx[g]);                                                     \
                ue = vorrq_u8(ue, vandq_u8(vtstq_u8(vqtbl1q_u8(he, ix), bitsel), c16));                            \
                uo = vorrq_u8(uo, vandq_u8(vtstq_u8(vqtbl1q_u8(ho, ix), bitsel), c16));                            \
            }                                                                                                      \
            for (int t = 0; t < RT; t++) {                                                                         \
                se[t][g] = QN_DOT(se[t][g], vreinterpretq_s8_u8(ue), XE[t], L);                                    \
                so[t][g] = QN_DOT(so[t][g], vreinterpretq_s8_u8(uo), XO[t], L);                                    \
            }                                                                                                      \
        }                                                                                                          \
    }
    QN_K_VEC(0, x0, x2, 0) QN_K_VEC(1, x0, x2, 1) QN_K_VEC(2, x0, x2, 2) QN_K_VEC(3, x0, x2, 3)
    QN_K_VEC(4, x1, x3, 0) QN_K_VEC(5, x1, x3, 1) QN_K_VEC(6, x1, x3, 2) QN_K_VEC(7, x1, x3, 3)
#undef QN_K_VEC
    int32x4_t sce[4], sco[4];
    u8x16_to_s32(vld1q_u8(scp), sce);
    u8x16_to_s32(vld1q_u8(scp + 16), sco);
    for (int t = 0; t < RT; t++)
        for (int g = 0; g < 4; g++) isum[t][g] = vmlaq_s32(vmlaq_s32(isum[t][g], se[t][g], sce[g]), so[t][g], sco[g]);
}

// Q4_K / Q5_K: mins·(activation sums of 32) as int16 × int16 widening multiply-adds, per super-block.
QN_TGT static AI void QN(tile_q45k)(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y,
                                    int64_t ldy, int r0, int r1, const int RT, const int five) {
    const int64_t nb = K / 256, pbb = five ? 2880 : 2368, chunk = five ? 640 : 512;
    xrow x[QN_RTK];
    float32x4_t acc[QN_RTK][4];
    for (int t = 0; t < RT; t++) {
        x[t] = xr(xq, ldxq, t, K, nb);
        for (int g = 0; g < 4; g++) acc[t][g] = vdupq_n_f32(0.0f);
    }
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * pbb;
        float32x4_t wd[4], wm[4];
        for (int g = 0; g < 4; g++) {
            wd[g] = h4(pb + 8 * g);
            wm[g] = h4(pb + 32 + 8 * g);
        }
        int32x4_t isum[QN_RTK][4], ms[QN_RTK][4];
        for (int t = 0; t < RT; t++)
            for (int g = 0; g < 4; g++) isum[t][g] = ms[t][g] = vdupq_n_s32(0);
        for (int i = 0; i < 4; i++) { // min pairs (2i, 2i+1) of the 16 rows
            const uint8x16x2_t mp = vld2q_u8(pb + 192 + 32 * i);
            for (int e = 0; e < 2; e++) {
                const uint8x16_t mv = e ? mp.val[1] : mp.val[0];
                const int16x8_t ml = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mv)));
                const int16x8_t mh = vreinterpretq_s16_u16(vmovl_high_u8(mv));
                for (int t = 0; t < RT; t++) {
                    const int16_t sx = ld16(x[t].aux + 2 * (8 * b + 2 * i + e));
                    ms[t][0] = vmlal_n_s16(ms[t][0], vget_low_s16(ml), sx);
                    ms[t][1] = vmlal_high_n_s16(ms[t][1], ml, sx);
                    ms[t][2] = vmlal_n_s16(ms[t][2], vget_low_s16(mh), sx);
                    ms[t][3] = vmlal_high_n_s16(ms[t][3], mh, sx);
                }
            }
        }
        for (int c = 0; c < 4; c++) {
            const uint8_t *pv = pb + 320 + chunk * c;
            const int8_t *xs[QN_RTK];
            for (int t = 0; t < RT; t++) xs[t] = x[t].qs + 256 * b + 64 * c;
            QN(k_chunk)(pv, pb + 64 + 32 * c, xs, isum, RT, five);
        }
        for (int t = 0; t < RT; t++) {
            const float xd = ldf(x[t].d + 4 * b);
            for (int g = 0; g < 4; g++) {
                acc[t][g] = vfmaq_f32(acc[t][g], vcvtq_f32_s32(isum[t][g]), vmulq_n_f32(wd[g], xd));
                acc[t][g] = vfmsq_f32(acc[t][g], vcvtq_f32_s32(ms[t][g]), vmulq_n_f32(wm[g], xd));
            }
        }
    }
    for (int t = 0; t < RT; t++) store16(y + t * ldy, acc[t], r0, r1);
}

// Q6_K, one group of 16 codes per row (e: which of X, Y, Z or the top bits; layout in quant_repack.c). The -32
// offset is the activation bias per 16 codes that seeds the sum; the int8 scale multiplies it into isum.
QN_TGT static AI void QN(q6_sub)(const uint8_t *gp, const int e, const uint8_t *scp, const uint8_t *const *bias,
                                 const int8_t *const *xs, int32x4_t isum[][4], const int RT) {
    const uint8x16_t c3f = vdupq_n_u8(0x3F);
    // e = 3 reads the X, Y, Z vectors e = 0, 1, 2 read just before: reloading them from L1 is cheaper than the
    // spills clang makes when it keeps all 48 live (the barrier stops it merging the loads).
    __asm__ __volatile__("" ::: "memory");
    int32x4_t s[QN_RTK][4], s2[4];
    int8x16_t xv[QN_RTK];
    for (int t = 0; t < RT; t++) {
        const int32x4_t init = vdupq_n_s32(ld32(bias[t]));
        for (int g = 0; g < 4; g++) s[t][g] = init;
        xv[t] = vld1q_s8(xs[t]);
    }
    for (int g = 0; g < 4; g++) s2[g] = vdupq_n_s32(0);
#define QN_Q6_VEC(q)                                                                                               \
    for (int g = 0; g < 4; g++) {                                                                                  \
        const uint8_t *p = gp + 64 * (q) + 16 * g;                                                                 \
        uint8x16_t u;                                                                                              \
        if (e < 3) u = vandq_u8(vld1q_u8(p + 256 * e), c3f);                                                       \
        else /* X>>6 | (Y>>6)<<2 | (Z>>6)<<4 by two shift-right-inserts */                                       \
            u = vsriq_n_u8(vsriq_n_u8(vshrq_n_u8(vld1q_u8(p + 512), 2), vld1q_u8(p + 256), 4), vld1q_u8(p), 6);    \
        const int8x16_t w = vreinterpretq_s8_u8(u);                                                                \
        if (RT == 1 && ((q) & 1)) s2[g] = QN_DOT(s2[g], w, xv[0], q);                                              \
        else                                                                                                       \
            for (int t = 0; t < RT; t++) s[t][g] = QN_DOT(s[t][g], w, xv[t], q);                                   \
    }
    QN_Q6_VEC(0) QN_Q6_VEC(1) QN_Q6_VEC(2) QN_Q6_VEC(3)
#undef QN_Q6_VEC
    if (RT == 1)
        for (int g = 0; g < 4; g++) s[0][g] = vaddq_s32(s[0][g], s2[g]);
    int32x4_t sc[4];
    s8x16_to_s32(vld1q_s8((const int8_t *)scp), sc);
    for (int t = 0; t < RT; t++)
        for (int g = 0; g < 4; g++) isum[t][g] = vmlaq_s32(isum[t][g], s[t][g], sc[g]);
}

QN_TGT static AI void QN(tile_q6k)(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y,
                                   int64_t ldy, int r0, int r1, const int RT) {
    const int64_t nb = K / 256;
    xrow x[QN_RTK];
    float32x4_t acc[QN_RTK][4];
    for (int t = 0; t < RT; t++) {
        x[t] = xr(xq, ldxq, t, K, nb);
        for (int g = 0; g < 4; g++) acc[t][g] = vdupq_n_f32(0.0f);
    }
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 3360;
        float32x4_t wd[4];
        for (int g = 0; g < 4; g++) wd[g] = h4(pb + 8 * g);
        int32x4_t isum[QN_RTK][4];
        for (int t = 0; t < RT; t++)
            for (int g = 0; g < 4; g++) isum[t][g] = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++)
            for (int qh = 0; qh < 2; qh++) { // q = 4qh .. 4qh+3
                const uint8_t *gp = pb + 288 + 768 * (2 * h + qh);
#define QN_Q6_E(e)                                                                                                 \
    {                                                                                                              \
        const int gi = 8 * h + 2 * (e) + qh; /* the scale of codes 128h+32e+16qh .. +15 */                         \
        const uint8_t *bias[QN_RTK];                                                                               \
        const int8_t *xs[QN_RTK];                                                                                  \
        for (int t = 0; t < RT; t++) {                                                                             \
            bias[t] = x[t].aux + 4 * (16 * b + gi);                                                                \
            xs[t] = x[t].qs + 256 * b + 128 * h + 32 * (e) + 16 * qh;                                              \
        }                                                                                                          \
        QN(q6_sub)(gp, e, pb + 32 + 16 * gi, bias, xs, isum, RT);                                                  \
    }
                QN_Q6_E(0) QN_Q6_E(1) QN_Q6_E(2) QN_Q6_E(3)
#undef QN_Q6_E
            }
        for (int t = 0; t < RT; t++) {
            const float xd = ldf(x[t].d + 4 * b);
            for (int g = 0; g < 4; g++) acc[t][g] = vfmaq_f32(acc[t][g], vcvtq_f32_s32(isum[t][g]), vmulq_n_f32(wd[g], xd));
        }
    }
    for (int t = 0; t < RT; t++) store16(y + t * ldy, acc[t], r0, r1);
}

// One function per (type, RT) so each keeps its accumulators in registers.
#define QN_ARGS const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy, int r0, int r1
#define QN_PASS pn, K, xq, ldxq, y, ldy, r0, r1
#define QN_GEN4(name, call)                                                                                        \
    QN_TGT static void QN(name##_1)(QN_ARGS) { call(1); }                                                          \
    QN_TGT static void QN(name##_2)(QN_ARGS) { call(2); }                                                          \
    QN_TGT static void QN(name##_3)(QN_ARGS) { call(3); }                                                          \
    QN_TGT static void QN(name##_4)(QN_ARGS) { call(4); }                                                          \
    static void (*const QN(name##_tab)[5])(QN_ARGS) = {0, QN(name##_1), QN(name##_2), QN(name##_3), QN(name##_4)};
#define QN_GEN2(name, call)                                                                                        \
    QN_TGT static void QN(name##_1)(QN_ARGS) { call(1); }                                                          \
    QN_TGT static void QN(name##_2)(QN_ARGS) { call(2); }                                                          \
    static void (*const QN(name##_tab)[5])(QN_ARGS) = {0, QN(name##_1), QN(name##_2), 0, 0};

#define QN_C_Q4_0(RT) QN(tile_q4)(QN_PASS, RT, 0)
#define QN_C_Q4_1(RT) QN(tile_q4)(QN_PASS, RT, 1)
#define QN_C_Q5_0(RT) QN(tile_q5_0)(QN_PASS, RT)
#define QN_C_Q8_0(RT) QN(tile_q8_0)(QN_PASS, RT)
#define QN_C_Q4_K(RT) QN(tile_q45k)(QN_PASS, RT, 0)
#define QN_C_Q5_K(RT) QN(tile_q45k)(QN_PASS, RT, 1)
#define QN_C_Q6_K(RT) QN(tile_q6k)(QN_PASS, RT)
QN_GEN4(k_q4_0, QN_C_Q4_0)
QN_GEN4(k_q4_1, QN_C_Q4_1)
QN_GEN4(k_q5_0, QN_C_Q5_0)
QN_GEN4(k_q8_0, QN_C_Q8_0)
QN_GEN2(k_q4_K, QN_C_Q4_K)
QN_GEN2(k_q5_K, QN_C_Q5_K)
QN_GEN2(k_q6_K, QN_C_Q6_K)

// The per-type entries the table in quant_traits.c points to (phi_qpanel_<type>_<QN_ISA>).
#define QN_ENTRY_CAT(t, isa) phi_qpanel_##t##_##isa
#define QN_ENTRY(t, isa) QN_ENTRY_CAT(t, isa)
#define QN_PANEL_ENTRY(TY, RTN)                                                                                     \
    QN_TGT HIDDEN void QN_ENTRY(TY, QN_ISA)(const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq,        \
                                           int64_t T, float *y, int64_t ldy, int r0, int r1) {                     \
        const int rt = RTN;                                                                                        \
        int64_t t = 0;                                                                                             \
        for (; t + rt <= T; t += rt) QN(k_##TY##_tab)[rt](panel, K, xq + t * ldxq, ldxq, y + t * ldy, ldy, r0, r1); \
        if (t < T) QN(k_##TY##_tab)[T - t](panel, K, xq + t * ldxq, ldxq, y + t * ldy, ldy, r0, r1);               \
    }
QN_PANEL_ENTRY(q4_0, QN_RT32)
QN_PANEL_ENTRY(q4_1, QN_RT32)
QN_PANEL_ENTRY(q5_0, QN_RT32)
QN_PANEL_ENTRY(q8_0, QN_RT32)
QN_PANEL_ENTRY(q4_K, QN_RTK)
QN_PANEL_ENTRY(q5_K, QN_RTK)
QN_PANEL_ENTRY(q6_K, QN_RTK)
#undef QN_PANEL_ENTRY
#undef QN_ENTRY
#undef QN_ENTRY_CAT

#undef QN_ARGS
#undef QN_PASS
#undef QN_GEN4
#undef QN_GEN2
#undef QN_C_Q4_0
#undef QN_C_Q4_1
#undef QN_C_Q5_0
#undef QN_C_Q8_0
#undef QN_C_Q4_K
#undef QN_C_Q5_K
#undef QN_C_Q6_K
#undef QN
#undef QN_CAT
#undef QN_CAT2
