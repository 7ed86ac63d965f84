// AVX2 kernels on repacked 16-row panels: the AVX-512 scheme (quant_avx512.c) on 8-row halves, with
// vpmaddubsw + vpmaddwd in place of vpdpbusd. vpmaddubsw saturates at ±32767, which unsigned codes up to 63
// times int8 activations never reach; Q8_0 therefore multiplies |w| by sign(w)·x instead of biased codes.
#include "quant_blocks.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define V256 __attribute__((target("avx2,fma,f16c")))
#define AI inline __attribute__((always_inline))

static inline int32_t ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline float ldf(const void *p) { float v; memcpy(&v, p, 4); return v; }

V256 static AI __m256i bx(const int8_t *p) { return _mm256_set1_epi32(ld32(p)); }
V256 static AI __m256i ld(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
V256 static AI __m256 ws8(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
V256 static AI __m256i dp(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}
V256 static AI __m256i sc8(const uint8_t *p, int sgn) {
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return sgn ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

#include "quant_xrow.h"

#define PROLOGUE(nd)                                                                                                \
    xrow x[4];                                                                                                      \
    for (int t = 0; t < RT; t++) x[t] = xr(xq, ldxq, t, K, nd);                                                     \
    __m256 acc[4];                                                                                                  \
    for (int t = 0; t < RT; t++) acc[t] = _mm256_setzero_ps();
#define EPILOGUE                                                                                                    \
    for (int t = 0; t < RT; t++) _mm256_maskstore_ps(y + t * ldy, m, acc[t]);

// hf selects rows 8hf..8hf+7: bytes [32hf, 32hf+32) of every 64-byte vector.
V256 static AI void tile_q4(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                            __m256i m, int hf, const int RT, const int one) {
    const int64_t nb = K / 32, pbb = one ? 320 : 288, qoff = (one ? 64 : 32) + 32 * hf;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    PROLOGUE(nb)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * pbb;
        __m256i s[4];
        for (int t = 0; t < RT; t++) s[t] = one ? _mm256_setzero_si256() : _mm256_set1_epi32(ld32(x[t].aux + 4 * b));
        for (int v = 0; v < 4; v++) {
            const __m256i raw = ld(pb + qoff + 64 * v);
            const __m256i lo = _mm256_and_si256(raw, m4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
            for (int t = 0; t < RT; t++) {
                s[t] = dp(s[t], lo, bx(x[t].qs + 32 * b + 4 * v));
                s[t] = dp(s[t], hi, bx(x[t].qs + 32 * b + 16 + 4 * v));
            }
        }
        const __m256 wd = ws8(pb + 16 * hf);
        for (int t = 0; t < RT; t++) {
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(wd, _mm256_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
            if (one) acc[t] = _mm256_fmadd_ps(ws8(pb + 32 + 16 * hf), _mm256_set1_ps(ldf(x[t].aux + 4 * b)), acc[t]);
        }
    }
    EPILOGUE
}

V256 static AI void tile_q8_0(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                              __m256i m, int hf, const int RT) {
    const int64_t nb = K / 32;
    const __m256i c80 = _mm256_set1_epi8((char)0x80);
    PROLOGUE(nb)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 544;
        __m256i s[4];
        for (int t = 0; t < RT; t++) s[t] = _mm256_setzero_si256();
        for (int v = 0; v < 8; v++) {
            const __m256i w = _mm256_xor_si256(ld(pb + 32 + 32 * hf + 64 * v), c80), aw = _mm256_abs_epi8(w);
            for (int t = 0; t < RT; t++) s[t] = dp(s[t], aw, _mm256_sign_epi8(bx(x[t].qs + 32 * b + 4 * v), w));
        }
        const __m256 wd = ws8(pb + 16 * hf);
        for (int t = 0; t < RT; t++)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(wd, _mm256_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
    }
    EPILOGUE
}

// 32 mask bits → bytes of 16 where the bit is set.
V256 static AI __m256i bits_to_16(uint32_t bits) {
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3,
                                          3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuf), bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(v, bit), _mm256_set1_epi8(16));
}

// Q5_0: Q4_0 plus the 5th bits (bit 4r+i of the 64-bit mask of each unpacked vector; this half's 32 bits).
V256 static AI void tile_q5_0(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                              __m256i m, int hf, const int RT) {
    const int64_t nb = K / 32, qoff = 32 + 32 * hf;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    PROLOGUE(nb)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 352;
        uint64_t hm[8];
        memcpy(hm, pb + 288, sizeof hm);
        __m256i s[4];
        for (int t = 0; t < RT; t++) s[t] = _mm256_set1_epi32(ld32(x[t].aux + 4 * b));
        for (int v = 0; v < 4; v++) {
            const __m256i raw = ld(pb + qoff + 64 * v);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(raw, m4), bits_to_16((uint32_t)(hm[v] >> (32 * hf))));
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(raw, 4), m4),
                                               bits_to_16((uint32_t)(hm[v + 4] >> (32 * hf))));
            for (int t = 0; t < RT; t++) {
                s[t] = dp(s[t], lo, bx(x[t].qs + 32 * b + 4 * v));
                s[t] = dp(s[t], hi, bx(x[t].qs + 32 * b + 16 + 4 * v));
            }
        }
        const __m256 wd = ws8(pb + 16 * hf);
        for (int t = 0; t < RT; t++)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(wd, _mm256_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
    }
    EPILOGUE
}

V256 static AI void tile_q45k(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                              __m256i m, int hf, const int RT, const int five) {
    const int64_t nb = K / 256, pbb = five ? 2880 : 2368;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    PROLOGUE(nb)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * pbb;
        __m256i isum[4], ms[4];
        for (int t = 0; t < RT; t++) isum[t] = ms[t] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++) {
            const uint8_t *pv = pb + 320 + (five ? 640 : 512) * (j / 2) + 32 * hf;
            __m256i s[4];
            for (int t = 0; t < RT; t++) s[t] = _mm256_setzero_si256();
            for (int q = 0; q < 8; q++) {
                const __m256i raw = ld(pv + 64 * q);
                __m256i w = _mm256_and_si256((j & 1) ? _mm256_srli_epi16(raw, 4) : raw, m4);
                if (five) {
                    uint64_t hm;
                    memcpy(&hm, pv - 32 * hf + 512 + 64 * (j & 1) + 8 * q, 8);
                    w = _mm256_or_si256(w, bits_to_16((uint32_t)(hm >> (32 * hf))));
                }
                for (int t = 0; t < RT; t++) s[t] = dp(s[t], w, bx(x[t].qs + 256 * b + 32 * j + 4 * q));
            }
            const __m256i sc = sc8(pb + 64 + 16 * j + 8 * hf, 0);
            for (int t = 0; t < RT; t++) isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(s[t], sc));
        }
        for (int i = 0; i < 4; i++) {
            const __m256i mv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(pb + 192 + 32 * i + 16 * hf)));
            for (int t = 0; t < RT; t++)
                ms[t] = _mm256_add_epi32(ms[t], _mm256_madd_epi16(mv, _mm256_set1_epi32(ld32(x[t].aux + 2 * (8 * b + 2 * i)))));
        }
        const __m256 wd = ws8(pb + 16 * hf), wm = ws8(pb + 32 + 16 * hf);
        for (int t = 0; t < RT; t++) {
            const __m256 xd = _mm256_set1_ps(ldf(x[t].d + 4 * b));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(wd, xd), acc[t]);
            acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(ms[t]), _mm256_mul_ps(wm, xd), acc[t]);
        }
    }
    EPILOGUE
}

V256 static AI void tile_q6k(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                             __m256i m, int hf, const int RT) {
    const int64_t nb = K / 256;
    const __m256i c3f = _mm256_set1_epi8(0x3F), c03 = _mm256_set1_epi8(3), c0f = _mm256_set1_epi8(0x0F);
    PROLOGUE(nb)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 3360;
        __m256i isum[4];
        for (int t = 0; t < RT; t++) isum[t] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++)
            for (int qb = 0; qb < 8; qb += 4)
                for (int e = 0; e < 4; e++) {
                    const int g = 8 * h + 2 * e + qb / 4;
                    __m256i s[4];
                    for (int t = 0; t < RT; t++) s[t] = _mm256_set1_epi32(ld32(x[t].aux + 4 * (16 * b + g)));
                    for (int q = qb; q < qb + 4; q++) {
                        const uint8_t *gp = pb + 288 + 768 * (2 * h + q / 4) + 64 * (q % 4) + 32 * hf;
                        __m256i w;
                        if (e < 3) {
                            w = _mm256_and_si256(ld(gp + 256 * e), c3f);
                        } else { // the top 2 bits of X, Y, Z (layout in quant_repack.c)
                            const __m256i x0 = _mm256_and_si256(_mm256_srli_epi16(ld(gp), 6), c03);
                            const __m256i y0 = _mm256_andnot_si256(c03, _mm256_srli_epi16(ld(gp + 256), 4));
                            const __m256i z0 = _mm256_andnot_si256(c0f, _mm256_srli_epi16(ld(gp + 512), 2));
                            w = _mm256_and_si256(_mm256_or_si256(_mm256_or_si256(x0, _mm256_and_si256(y0, c0f)), z0), c3f);
                        }
                        for (int t = 0; t < RT; t++) s[t] = dp(s[t], w, bx(x[t].qs + 256 * b + 128 * h + 32 * e + 4 * q));
                    }
                    const __m256i sc = sc8(pb + 32 + 16 * g + 8 * hf, 1);
                    for (int t = 0; t < RT; t++) isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(s[t], sc));
                }
        const __m256 wd = ws8(pb + 16 * hf);
        for (int t = 0; t < RT; t++)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(wd, _mm256_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
    }
    EPILOGUE
}

#define TILE_ARGS const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy, __m256i m, int hf
#define TILE_PASS pn, K, xq, ldxq, y, ldy, m, hf
#define GEN_RT(name, call)                                                                                          \
    V256 static void name##_1(TILE_ARGS) { call(1); }                                                               \
    V256 static void name##_2(TILE_ARGS) { call(2); }                                                               \
    V256 static void name##_3(TILE_ARGS) { call(3); }                                                               \
    V256 static void name##_4(TILE_ARGS) { call(4); }                                                               \
    static void (*const name##_tab[5])(TILE_ARGS) = {0, name##_1, name##_2, name##_3, name##_4};

#define C_Q4_0(RT) tile_q4(TILE_PASS, RT, 0)
#define C_Q4_1(RT) tile_q4(TILE_PASS, RT, 1)
#define C_Q5_0(RT) tile_q5_0(TILE_PASS, RT)
#define C_Q8_0(RT) tile_q8_0(TILE_PASS, RT)
#define C_Q4_K(RT) tile_q45k(TILE_PASS, RT, 0)
#define C_Q5_K(RT) tile_q45k(TILE_PASS, RT, 1)
#define C_Q6_K(RT) tile_q6k(TILE_PASS, RT)
GEN_RT(k_q4_0, C_Q4_0)
GEN_RT(k_q4_1, C_Q4_1)
GEN_RT(k_q5_0, C_Q5_0)
GEN_RT(k_q8_0, C_Q8_0)
GEN_RT(k_q4_K, C_Q4_K)
GEN_RT(k_q5_K, C_Q5_K)
GEN_RT(k_q6_K, C_Q6_K)

// The per-type entries the table in quant_traits.c points to: each 8-row half, 4 tokens at a time.
V256 static AI void panel(void (*const *tab)(TILE_ARGS), const uint8_t *panel, int64_t K, const uint8_t *xq,
                          int64_t ldxq, int64_t T, float *y, int64_t ldy, int r0, int r1) {
    for (int hf = 0; hf < 2; hf++) {
        if (r1 <= 8 * hf || r0 >= 8 * hf + 8) continue;
        int lanes[8];
        for (int i = 0; i < 8; i++) lanes[i] = (8 * hf + i >= r0 && 8 * hf + i < r1) ? -1 : 0;
        const __m256i m = _mm256_loadu_si256((const __m256i *)lanes);
        float *yh = y + 8 * hf;
        int64_t t = 0;
        for (; t + 4 <= T; t += 4) tab[4](panel, K, xq + t * ldxq, ldxq, yh + t * ldy, ldy, m, hf);
        if (t < T) tab[T - t](panel, K, xq + t * ldxq, ldxq, yh + t * ldy, ldy, m, hf);
    }
}
#define PANEL_ENTRY(TY)                                                                                              \
    V256 void phi_qpanel_##TY##_avx2(const uint8_t *p, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T,       \
                                    float *y, int64_t ldy, int r0, int r1) {                                         \
        panel(k_##TY##_tab, p, K, xq, ldxq, T, y, ldy, r0, r1);                                                      \
    }
PANEL_ENTRY(q4_0)
PANEL_ENTRY(q4_1)
PANEL_ENTRY(q5_0)
PANEL_ENTRY(q8_0)
PANEL_ENTRY(q4_K)
PANEL_ENTRY(q5_K)
PANEL_ENTRY(q6_K)
#endif
