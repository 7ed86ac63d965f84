// NEON kernels on repacked 16-row panels (layout in quant_repack.c, activations in CPhiQuant.h), for aarch64.
//
// The AVX-512 scheme (quant_avx512.c) on 128-bit vectors: a 64-byte panel vector is 4 q registers of 4 rows
// each, and one dot product multiplies the 4 codes of each of those rows by the same 4 activations, so a
// panel takes 4 int32x4 accumulators per token and no horizontal reductions. Two builds of the same kernels
// (quant_neon_tiles.h): phi_qpanel_neon_dot uses the ARMv8.2 dot product by element (sdot v.4s, v.16b,
// v.4b[lane]; CPUs with PHI_CPU_NEON_DOTPROD, e.g. Apple M-series, Graviton 2+), phi_qpanel_neon emulates it
// with smull/smull2 + addp + sadalp (base ARMv8). Both multiply signed bytes: the weight codes used are
// non-negative (nibbles, 5- and 6-bit codes, with the 8/32 offsets entering as the activation bias exactly as
// in the AVX-512 kernels) except Q8_0, whose +128 storage is undone with one eor. Block sums are exact int32,
// equal to the `_ref` ones; only the f32 accumulation (fused multiply-adds) differs.
// Not timed on real hardware: written for throughput (16 rows per panel, activations as dot lanes,
// each panel block read front to back, two dependency chains for the matvec) but unmeasured.
#include "CPhiQuant.h" // phi_f16_to_f32, phi_f32_to_f16 (quant_ref.c)
#include "quant_blocks.h"
#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>

#define AI inline __attribute__((always_inline))
#define HIDDEN __attribute__((visibility("hidden")))

// Tokens per tile: 4 for the 32-value blocks (16 int32x4 block sums), 2 for the K-quants (block sums and
// super-block sums, 16 registers).
#ifndef QN_RT32
#define QN_RT32 4
#endif
#ifndef QN_RTK
#define QN_RTK 2
#endif

static inline int32_t ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline int16_t ld16(const void *p) { int16_t v; memcpy(&v, p, 2); return v; }
static inline float ldf(const void *p) { float v; memcpy(&v, p, 4); return v; }

// 4 f16 scales (rows 4g..4g+3) widened to f32 (fcvtl: base ARMv8).
static AI float32x4_t h4(const uint8_t *p) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))); }

// Rows r0 <= r < r1 of the 16 sums of one token.
static AI void store16(float *y, const float32x4_t a[4], int r0, int r1) {
    if (r0 == 0 && r1 == 16) {
        for (int g = 0; g < 4; g++) vst1q_f32(y + 4 * g, a[g]);
        return;
    }
    float buf[16];
    for (int g = 0; g < 4; g++) vst1q_f32(buf + 4 * g, a[g]);
    for (int r = r0; r < r1; r++) y[r] = buf[r];
}

// 16 bytes (one per row) → 4 int32x4 (rows 4g..4g+3).
static AI void u8x16_to_s32(uint8x16_t v, int32x4_t o[4]) {
    const uint16x8_t l = vmovl_u8(vget_low_u8(v)), h = vmovl_high_u8(v);
    o[0] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(l)));
    o[1] = vreinterpretq_s32_u32(vmovl_high_u16(l));
    o[2] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h)));
    o[3] = vreinterpretq_s32_u32(vmovl_high_u16(h));
}
static AI void s8x16_to_s32(int8x16_t v, int32x4_t o[4]) {
    const int16x8_t l = vmovl_s8(vget_low_s8(v)), h = vmovl_high_s8(v);
    o[0] = vmovl_s16(vget_low_s16(l));
    o[1] = vmovl_high_s16(l);
    o[2] = vmovl_s16(vget_low_s16(h));
    o[3] = vmovl_high_s16(h);
}

// Q5_K and Q5_0: byte i of row group g's fifth-bit vector comes from mask byte 2g + i/8 (tbl index), bit i%8.
static const uint8_t qn_bit_idx[4][16] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5},
    {6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
};

#include "quant_xrow.h"

// Without the dot product: 4 bytes of x broadcast, 16 int16 products (|w·x| <= 128·127, so a pair sum fits
// int16), pairs added (addp), then pairs of pairs into the int32 lanes (sadalp): the same per-row sums as sdot.
static AI int32x4_t qn_wdot(int32x4_t acc, int8x16_t w, int8x16_t xb) {
    const int16x8_t p0 = vmull_s8(vget_low_s8(w), vget_low_s8(xb)), p1 = vmull_high_s8(w, xb);
    return vpadalq_s16(acc, vpaddq_s16(p0, p1));
}

#define QN_SFX wide
#define QN_TGT
#define QN_ISA neon
#define QN_DOT(acc, w, x, L) qn_wdot(acc, w, vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x), L)))
#include "quant_neon_tiles.h"
#undef QN_SFX
#undef QN_TGT
#undef QN_ISA
#undef QN_DOT

// gcc's arm_neon.h declares the dot product intrinsics for arch=armv8.2-a+dotprod; clang takes the feature.
#if defined(__ARM_FEATURE_DOTPROD)
#define QN_TGT
#elif defined(__clang__)
#define QN_TGT __attribute__((target("dotprod")))
#else
#define QN_TGT __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
#define QN_SFX dot
#define QN_ISA neon_dot
#define QN_DOT(acc, w, x, L) vdotq_laneq_s32(acc, w, x, L)
#include "quant_neon_tiles.h"
#undef QN_SFX
#undef QN_TGT
#undef QN_ISA
#undef QN_DOT

// ---------------------------------------------------------------------------------------------------------------
// Activation quantization, bit-identical to phi_act_row_ref in quant_ref.c: roundf is frinta (ties away from
// zero), nearest_int is fcvtns (ties to even) for the |v| <= 127 values here, and fmaxf/`>` skip NaNs as fmaxnm
// does. The f16 rounding of Q8_0's d uses the scalar conversions.

HIDDEN void phi_act_row_neon(phi_act_kind kind, int offset, const float *x, int64_t K, uint8_t *row) {
    int8_t *qs = (int8_t *)row;
    uint8_t *dp = row + K;
    if (kind == PHI_ACT_Q8_K_SUM32 || kind == PHI_ACT_Q8_K_BIAS16) {
        uint8_t *aux = dp + 4 * (K / 256);
        for (int64_t b = 0; b < K / 256; b++) {
            const float *xb = x + 256 * b;
            float32x4_t am = vdupq_n_f32(0.0f);
            for (int i = 0; i < 64; i++) am = vmaxnmq_f32(am, vabsq_f32(vld1q_f32(xb + 4 * i)));
            const float amax = vmaxnmvq_f32(am);
            int16_t bs[16];
            float d = 0.0f;
            if (!amax) {
                memset(qs + 256 * b, 0, 256);
                memset(bs, 0, sizeof bs);
            } else {
                float max = 0.0f;
                for (int j = 0; j < 256; j++) // the first value whose magnitude is amax, as the scalar loop picks
                    if (__builtin_fabsf(xb[j]) == amax) { max = xb[j]; break; }
                const float iscale = -127.f / max;
                const int32x4_t c127 = vdupq_n_s32(127);
                for (int i = 0; i < 16; i++) {
                    int32x4_t q[4];
                    for (int k = 0; k < 4; k++)
                        q[k] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(xb + 16 * i + 4 * k), iscale)), c127);
                    const int16x8_t q01 = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
                    const int16x8_t q23 = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
                    vst1q_s8(qs + 256 * b + 16 * i, vcombine_s8(vmovn_s16(q01), vmovn_s16(q23)));
                    bs[i] = (int16_t)vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3])));
                }
                d = 1 / iscale;
            }
            memcpy(dp + 4 * b, &d, 4);
            xrow_write_k_aux(kind, offset, bs, aux, b);
        }
        return;
    }
    uint8_t *aux = dp + 4 * (K / 32);
    for (int64_t b = 0; b < K / 32; b++) {
        float32x4_t v[8], am = vdupq_n_f32(0.0f);
        for (int k = 0; k < 8; k++) {
            v[k] = vld1q_f32(x + 32 * b + 4 * k);
            am = vmaxnmq_f32(am, vabsq_f32(v[k]));
        }
        const float amax = vmaxnmvq_f32(am);
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        int32x4_t q[8];
        for (int k = 0; k < 8; k++) q[k] = vcvtq_s32_f32(vrndaq_f32(vmulq_n_f32(v[k], id)));
        for (int h = 0; h < 2; h++) {
            const int16x8_t a = vcombine_s16(vmovn_s32(q[4 * h]), vmovn_s32(q[4 * h + 1]));
            const int16x8_t c = vcombine_s16(vmovn_s32(q[4 * h + 2]), vmovn_s32(q[4 * h + 3]));
            vst1q_s8(qs + 32 * b + 16 * h, vcombine_s8(vmovn_s16(a), vmovn_s16(c)));
        }
        int32x4_t sv = q[0];
        for (int k = 1; k < 8; k++) sv = vaddq_s32(sv, q[k]);
        const int32_t sum = vaddvq_s32(sv);
        const float dh = phi_f16_to_f32(phi_f32_to_f16(d));
        memcpy(dp + 4 * b, &dh, 4);
        if (kind == PHI_ACT_Q8_1_SUM32) {
            const float fs = dh * (float)sum;
            memcpy(aux + 4 * b, &fs, 4);
        } else {
            const int32_t bias = -offset * sum;
            memcpy(aux + 4 * b, &bias, 4);
        }
    }
}
#endif
