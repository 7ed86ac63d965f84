// AVX-512 VNNI kernels on repacked 16-row panels (layout in quant_repack.c, activations in CPhiQuant.h).
//
// Lane r of every accumulator is row r of the panel. One vpdpbusd multiplies 4 unsigned codes of each of the
// 16 rows by the same 4 broadcast int8 activations, so 4-bit codes need only a mask or a shift+mask to be
// usable and no horizontal reductions are needed. Block sums are exact int32; the unsigned-code offset
// (8 for Q4_0, 128 for Q8_0, 32 for Q6_K) enters as the precomputed activation bias that seeds each block's
// accumulator. RT tokens share each unpacked weight vector (prefill); RT = 1 is the bandwidth-bound matvec.
#include "quant_blocks.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define V512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))
#define AI inline __attribute__((always_inline))

// Software prefetch only in the multi-token tiles. With one token (the bandwidth-bound matvec) panels are read
// front to back and the hardware prefetcher does better alone (measured: prefetching the next blocks cost 10-40%
// on DRAM-resident weights). With 2-8 tokens each panel block costs RT times the arithmetic, the loads fall behind
// the prefetcher and memory time adds to compute time instead of hiding under it; fetching 8 KiB ahead into L2
// overlaps them. Measured on DRAM-resident Q4_0 panels, Zen 4, one thread, per token per panel: 2 tokens 970 ->
// 590-780 ns, 4 tokens 830 -> 370-460 ns, 8 tokens 560 -> 310-360 ns (1 token: 1,250-1,900 ns either way).
// The K-quant tiles spread their prefetches over the sub-blocks of each 2-3 KiB block: one burst of ~50 per block
// overflowed the miss queues and hid nothing (Q6_K, 2 tokens: 1,270 -> 870 ns; 4 tokens: 700 -> 590 ns).
// The address may run past the panels (the last blocks, a repack scratch buffer): a prefetch never faults.
#define PANEL_PREFETCH_AHEAD 8192
V512 static AI void prefetch_ahead(const uint8_t *pb, int64_t bytes, const int RT) {
    if (RT > 1)
        for (int64_t l = 0; l < bytes; l += 64) _mm_prefetch((const char *)pb + PANEL_PREFETCH_AHEAD + l, _MM_HINT_T1);
}

static inline int32_t ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline float ldf(const void *p) { float v; memcpy(&v, p, 4); return v; }

V512 static AI __m512i bx(const int8_t *p) { return _mm512_set1_epi32(ld32(p)); }
V512 static AI __m512 ws16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
V512 static AI __m512i ld(const uint8_t *p) { return _mm512_loadu_si512((const void *)p); }
// Per-token activation planes.
#include "quant_xrow.h"

#define ZERO_ACC(RT)                                                                                                \
    __m512 acc[8];                                                                                                  \
    for (int t = 0; t < RT; t++) acc[t] = _mm512_setzero_ps();
#define STORE_ACC(RT)                                                                                               \
    for (int t = 0; t < RT; t++) _mm512_mask_storeu_ps(y + t * ldy, m, acc[t]);

// Q4_0 and Q4_1: 4 packed vectors per block; low nibbles are codes 0..15, high nibbles 16..31, so unpacked
// vector v (0..7) always pairs with activations 4v..4v+3.
V512 static AI void tile_q4(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                            __mmask16 m, const int RT, const int one) {
    const int64_t nb = K / 32, pbb = one ? 320 : 288, qoff = one ? 64 : 32;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    xrow x[8];
    for (int t = 0; t < RT; t++) x[t] = xr(xq, ldxq, t, K, nb);
    ZERO_ACC(RT)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * pbb;
        prefetch_ahead(pb, pbb, RT);
        __m512i w[8];
        for (int v = 0; v < 4; v++) {
            const __m512i raw = ld(pb + qoff + 64 * v);
            w[v] = _mm512_and_si512(raw, m4);
            w[4 + v] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
        }
        const __m512 wd = ws16(pb);
        if (RT == 1) { // two dependency chains
            __m512i s0 = one ? _mm512_setzero_si512() : _mm512_set1_epi32(ld32(x[0].aux + 4 * b)), s1 = _mm512_setzero_si512();
            const int8_t *q = x[0].qs + 32 * b;
            for (int v = 0; v < 8; v += 2) {
                s0 = _mm512_dpbusd_epi32(s0, w[v], bx(q + 4 * v));
                s1 = _mm512_dpbusd_epi32(s1, w[v + 1], bx(q + 4 * v + 4));
            }
            const __m512 s = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            acc[0] = _mm512_fmadd_ps(s, _mm512_mul_ps(wd, _mm512_set1_ps(ldf(x[0].d + 4 * b))), acc[0]);
            if (one) acc[0] = _mm512_fmadd_ps(ws16(pb + 32), _mm512_set1_ps(ldf(x[0].aux + 4 * b)), acc[0]);
        } else {
            __m512i s[8];
            for (int t = 0; t < RT; t++) s[t] = one ? _mm512_setzero_si512() : _mm512_set1_epi32(ld32(x[t].aux + 4 * b));
            for (int v = 0; v < 8; v++)
                for (int t = 0; t < RT; t++) s[t] = _mm512_dpbusd_epi32(s[t], w[v], bx(x[t].qs + 32 * b + 4 * v));
            const __m512 wm = one ? ws16(pb + 32) : wd;
            for (int t = 0; t < RT; t++) {
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(wd, _mm512_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
                if (one) acc[t] = _mm512_fmadd_ps(wm, _mm512_set1_ps(ldf(x[t].aux + 4 * b)), acc[t]);
            }
        }
    }
    STORE_ACC(RT)
}

V512 static AI void tile_q8_0(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                              __mmask16 m, const int RT) {
    const int64_t nb = K / 32;
    xrow x[8];
    for (int t = 0; t < RT; t++) x[t] = xr(xq, ldxq, t, K, nb);
    ZERO_ACC(RT)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 544;
        prefetch_ahead(pb, 544, RT);
        const __m512 wd = ws16(pb);
        if (RT == 1) {
            __m512i s0 = _mm512_set1_epi32(ld32(x[0].aux + 4 * b)), s1 = _mm512_setzero_si512();
            const int8_t *q = x[0].qs + 32 * b;
            for (int v = 0; v < 8; v += 2) {
                s0 = _mm512_dpbusd_epi32(s0, ld(pb + 32 + 64 * v), bx(q + 4 * v));
                s1 = _mm512_dpbusd_epi32(s1, ld(pb + 96 + 64 * v), bx(q + 4 * v + 4));
            }
            const __m512 s = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            acc[0] = _mm512_fmadd_ps(s, _mm512_mul_ps(wd, _mm512_set1_ps(ldf(x[0].d + 4 * b))), acc[0]);
        } else {
            __m512i s[8];
            for (int t = 0; t < RT; t++) s[t] = _mm512_set1_epi32(ld32(x[t].aux + 4 * b));
            for (int v = 0; v < 8; v++) {
                const __m512i w = ld(pb + 32 + 64 * v);
                for (int t = 0; t < RT; t++) s[t] = _mm512_dpbusd_epi32(s[t], w, bx(x[t].qs + 32 * b + 4 * v));
            }
            for (int t = 0; t < RT; t++)
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(wd, _mm512_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
        }
    }
    STORE_ACC(RT)
}

// Q5_0: Q4_0's panels plus a 64-bit mask per unpacked vector whose set bits add 16 (the 5th bit) to a code; the
// -16 offset is the activation bias.
V512 static AI void tile_q5_0(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                              __mmask16 m, const int RT) {
    const int64_t nb = K / 32;
    const __m512i m4 = _mm512_set1_epi8(0x0F), c16 = _mm512_set1_epi8(16);
    xrow x[8];
    for (int t = 0; t < RT; t++) x[t] = xr(xq, ldxq, t, K, nb);
    ZERO_ACC(RT)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 352;
        prefetch_ahead(pb, 352, RT);
        __m512i w[8];
        for (int v = 0; v < 4; v++) {
            const __m512i raw = ld(pb + 32 + 64 * v);
            w[v] = _mm512_and_si512(raw, m4);
            w[4 + v] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
        }
        for (int u = 0; u < 8; u++) {
            uint64_t hm;
            memcpy(&hm, pb + 288 + 8 * u, 8);
            w[u] = _mm512_mask_add_epi8(w[u], _cvtu64_mask64(hm), w[u], c16);
        }
        const __m512 wd = ws16(pb);
        if (RT == 1) { // two dependency chains
            __m512i s0 = _mm512_set1_epi32(ld32(x[0].aux + 4 * b)), s1 = _mm512_setzero_si512();
            const int8_t *q = x[0].qs + 32 * b;
            for (int v = 0; v < 8; v += 2) {
                s0 = _mm512_dpbusd_epi32(s0, w[v], bx(q + 4 * v));
                s1 = _mm512_dpbusd_epi32(s1, w[v + 1], bx(q + 4 * v + 4));
            }
            const __m512 s = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            acc[0] = _mm512_fmadd_ps(s, _mm512_mul_ps(wd, _mm512_set1_ps(ldf(x[0].d + 4 * b))), acc[0]);
        } else {
            __m512i s[8];
            for (int t = 0; t < RT; t++) s[t] = _mm512_set1_epi32(ld32(x[t].aux + 4 * b));
            for (int v = 0; v < 8; v++)
                for (int t = 0; t < RT; t++) s[t] = _mm512_dpbusd_epi32(s[t], w[v], bx(x[t].qs + 32 * b + 4 * v));
            for (int t = 0; t < RT; t++)
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(wd, _mm512_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
        }
    }
    STORE_ACC(RT)
}

// Q4_K / Q5_K: per sub-block j an exact int32 dot, times the 6-bit scale (vpmulld) into the super-block sum;
// mins·(activation sums of 32) come from 4 vpdpwssd on (min pair, sum pair) int16 lanes.
V512 static AI void tile_q45k(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                              __mmask16 m, const int RT, const int five) {
    const int64_t nb = K / 256, pbb = five ? 2880 : 2368;
    const __m512i m4 = _mm512_set1_epi8(0x0F), c16 = _mm512_set1_epi8(16);
    xrow x[8];
    for (int t = 0; t < RT; t++) x[t] = xr(xq, ldxq, t, K, nb);
    ZERO_ACC(RT)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * pbb;
        __m512i isum[8], ms[8];
        for (int t = 0; t < RT; t++) isum[t] = ms[t] = _mm512_setzero_si512();
        for (int j = 0; j < 8; j++) {
            prefetch_ahead(pb + 384 * j, 384, RT); // 8 x 384 bytes cover the 2,368 or 2,880
            const uint8_t *pv = pb + 320 + (five ? 640 : 512) * (j / 2);
            const __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(pb + 64 + 16 * j)));
            __m512i s[8], odd = _mm512_setzero_si512();
            for (int t = 0; t < RT; t++) s[t] = _mm512_setzero_si512();
            for (int q = 0; q < 8; q++) {
                const __m512i raw = ld(pv + 64 * q);
                __m512i w = _mm512_and_si512((j & 1) ? _mm512_srli_epi16(raw, 4) : raw, m4);
                if (five) {
                    uint64_t hm;
                    memcpy(&hm, pv + 512 + 64 * (j & 1) + 8 * q, 8);
                    w = _mm512_mask_add_epi8(w, _cvtu64_mask64(hm), w, c16);
                }
                if (RT == 1 && (q & 1)) odd = _mm512_dpbusd_epi32(odd, w, bx(x[0].qs + 256 * b + 32 * j + 4 * q));
                else
                    for (int t = 0; t < RT; t++) s[t] = _mm512_dpbusd_epi32(s[t], w, bx(x[t].qs + 256 * b + 32 * j + 4 * q));
            }
            if (RT == 1) s[0] = _mm512_add_epi32(s[0], odd); // a second dependency chain for the matvec
            for (int t = 0; t < RT; t++) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(s[t], sc));
        }
        for (int i = 0; i < 4; i++) {
            const __m512i mv = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(pb + 192 + 32 * i)));
            for (int t = 0; t < RT; t++)
                ms[t] = _mm512_dpwssd_epi32(ms[t], mv, _mm512_set1_epi32(ld32(x[t].aux + 2 * (8 * b + 2 * i))));
        }
        const __m512 wd = ws16(pb), wm = ws16(pb + 32);
        for (int t = 0; t < RT; t++) {
            const __m512 xd = _mm512_set1_ps(ldf(x[t].d + 4 * b));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(wd, xd), acc[t]);
            acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(ms[t]), _mm512_mul_ps(wm, xd), acc[t]);
        }
    }
    STORE_ACC(RT)
}

// Q6_K: codes e0..e2 are the low 6 bits of X, Y, Z; e3 gathers the top 2 bits of each (layout in quant_repack.c).
// The -32 offset is the activation bias per 16 codes; int8 scales per 16 codes via vpmulld.
V512 static AI __m512i q6_codes(const uint8_t *pb, int h, int q, int e, __m512i c3f) {
    const uint8_t *g = pb + 288 + 768 * (2 * h + q / 4) + 64 * (q % 4);
    if (e < 3) return _mm512_and_si512(ld(g + 256 * e), c3f);
    const __m512i x = _mm512_srli_epi16(ld(g), 6), y = _mm512_srli_epi16(ld(g + 256), 4), z = _mm512_srli_epi16(ld(g + 512), 2);
    const __m512i xy = _mm512_ternarylogic_epi32(x, y, _mm512_set1_epi8(3), 0xE4);             // bits 0-1 of x, rest of y
    return _mm512_and_si512(_mm512_ternarylogic_epi32(xy, z, _mm512_set1_epi8(0x0F), 0xE4), c3f); // bits 0-3 of xy, rest of z
}

V512 static AI void tile_q6k(const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy,
                             __mmask16 m, const int RT) {
    const int64_t nb = K / 256;
    const __m512i c3f = _mm512_set1_epi8(0x3F);
    xrow x[8];
    for (int t = 0; t < RT; t++) x[t] = xr(xq, ldxq, t, K, nb);
    ZERO_ACC(RT)
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *pb = pn + b * 3360;
        __m512i isum[8];
        for (int t = 0; t < RT; t++) isum[t] = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++)
            for (int qb = 0; qb < 8; qb += 4) {
                for (int e = 0; e < 4; e++) {
                    const int g = 8 * h + 2 * e + qb / 4;
                    prefetch_ahead(pb + 256 * (8 * h + qb + e), 256, RT); // 16 x 256 bytes cover the 3,360
                    const __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(pb + 32 + 16 * g)));
                    __m512i s[8], s1 = _mm512_setzero_si512();
                    for (int t = 0; t < RT; t++) s[t] = _mm512_set1_epi32(ld32(x[t].aux + 4 * (16 * b + g)));
                    for (int q = qb; q < qb + 4; q++) {
                        const __m512i w = q6_codes(pb, h, q, e, c3f);
                        const int64_t xo = 256 * b + 128 * h + 32 * e + 4 * q;
                        if (RT == 1 && (q & 1)) s1 = _mm512_dpbusd_epi32(s1, w, bx(x[0].qs + xo));
                        else
                            for (int t = 0; t < RT; t++) s[t] = _mm512_dpbusd_epi32(s[t], w, bx(x[t].qs + xo));
                    }
                    if (RT == 1) s[0] = _mm512_add_epi32(s[0], s1);
                    for (int t = 0; t < RT; t++) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(s[t], sc));
                }
            }
        const __m512 wd = ws16(pb);
        for (int t = 0; t < RT; t++)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(wd, _mm512_set1_ps(ldf(x[t].d + 4 * b))), acc[t]);
    }
    STORE_ACC(RT)
}

// One function per (type, RT) so each keeps its accumulators in registers.
#define TILE_ARGS const uint8_t *pn, int64_t K, const uint8_t *xq, int64_t ldxq, float *y, int64_t ldy, __mmask16 m
#define TILE_PASS pn, K, xq, ldxq, y, ldy, m
#define GEN_RT(name, call)                                                                                          \
    V512 static void name##_1(TILE_ARGS) { call(1); }                                                               \
    V512 static void name##_2(TILE_ARGS) { call(2); }                                                               \
    V512 static void name##_3(TILE_ARGS) { call(3); }                                                               \
    V512 static void name##_4(TILE_ARGS) { call(4); }                                                               \
    V512 static void name##_5(TILE_ARGS) { call(5); }                                                               \
    V512 static void name##_6(TILE_ARGS) { call(6); }                                                               \
    V512 static void name##_7(TILE_ARGS) { call(7); }                                                               \
    V512 static void name##_8(TILE_ARGS) { call(8); }                                                               \
    static void (*const name##_tab[9])(TILE_ARGS) = {0,         name##_1, name##_2, name##_3, name##_4,             \
                                                      name##_5, name##_6, name##_7, name##_8};

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

#ifndef PHI_Q_RT
#define PHI_Q_RT 8
#endif

// The per-type entries the table in quant_traits.c points to: full blocks of PHI_Q_RT tokens, then the rest.
#define PANEL_ENTRY(TY)                                                                                              \
    void phi_qpanel_##TY##_avx512(const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T,      \
                                 float *y, int64_t ldy, int r0, int r1) {                                            \
        const __mmask16 m = (__mmask16)(((1u << r1) - 1) & ~((1u << r0) - 1));                                     \
        int64_t t = 0;                                                                                              \
        for (; t + PHI_Q_RT <= T; t += PHI_Q_RT) k_##TY##_tab[PHI_Q_RT](panel, K, xq + t * ldxq, ldxq, y + t * ldy, ldy, m); \
        if (t < T) k_##TY##_tab[T - t](panel, K, xq + t * ldxq, ldxq, y + t * ldy, ldy, m);                         \
    }
PANEL_ENTRY(q4_0)
PANEL_ENTRY(q4_1)
PANEL_ENTRY(q5_0)
PANEL_ENTRY(q8_0)
PANEL_ENTRY(q4_K)
PANEL_ENTRY(q5_K)
PANEL_ENTRY(q6_K)

// ---------------------------------------------------------------------------------------------------------------
// On-the-fly repacking of whole 16-row panels of GGML-layout weights: 16-byte pieces of the 16 rows are
// transposed as dwords (4 loads + 3 inserts + 2 permutes per output vector pair), giving lane-per-row vectors.

static inline int64_t q5_vec(int c, int q) { return 320 + 640 * c + 64 * q; }
static inline int64_t q5_mask(int j, int q) { return 320 + 640 * (j / 2) + 512 + 64 * (j & 1) + 8 * q; }

V512 static AI void st(uint8_t *o, __m512i v) { _mm512_storeu_si512((void *)o, v); }
V512 static AI void st16(uint8_t *o, __m512i v) { _mm256_storeu_si256((__m256i *)o, _mm512_cvtepi32_epi16(v)); }
V512 static AI void st8(uint8_t *o, __m512i v) { _mm_storeu_si128((__m128i *)o, _mm512_cvtepi32_epi8(v)); }
// The f16 at byte `off` of 16 rows (plain loads: cheaper than a gather here).
static AI void halves(const uint8_t *w, int64_t rowb, int64_t off, uint8_t *o) {
    for (int r = 0; r < 16; r++) memcpy(o + 2 * r, w + r * rowb + off, 2);
}

// Bytes off..off+15 of 16 rows → 4 panel vectors (dword v of row r in lane r of vector v): 16 row loads and
// 8 permutes, much cheaper than 4 vpgatherdd on Zen 4.
V512 static AI void tr16x4(const uint8_t *w, int64_t rowb, int64_t off, uint8_t *o0, uint8_t *o1, uint8_t *o2,
                           uint8_t *o3, __m512i flip) {
    __m512i z[4];
    for (int g = 0; g < 4; g++) {
        const uint8_t *p = w + off + 4 * g * rowb;
        z[g] = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p));
        z[g] = _mm512_inserti32x4(z[g], _mm_loadu_si128((const __m128i *)(p + rowb)), 1);
        z[g] = _mm512_inserti32x4(z[g], _mm_loadu_si128((const __m128i *)(p + 2 * rowb)), 2);
        z[g] = _mm512_inserti32x4(z[g], _mm_loadu_si128((const __m128i *)(p + 3 * rowb)), 3);
    }
    // In z[0]:z[1] (and z[2]:z[3]) row r's dword v sits at index 4r+v.
    const __m512i i01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    const __m512i i23 = _mm512_add_epi32(i01, _mm512_set1_epi32(2));
    const __m512i a01 = _mm512_permutex2var_epi32(z[0], i01, z[1]), b01 = _mm512_permutex2var_epi32(z[2], i01, z[3]);
    const __m512i a23 = _mm512_permutex2var_epi32(z[0], i23, z[1]), b23 = _mm512_permutex2var_epi32(z[2], i23, z[3]);
    st(o0, _mm512_xor_si512(_mm512_shuffle_i64x2(a01, b01, 0x44), flip));
    st(o1, _mm512_xor_si512(_mm512_shuffle_i64x2(a01, b01, 0xEE), flip));
    st(o2, _mm512_xor_si512(_mm512_shuffle_i64x2(a23, b23, 0x44), flip));
    st(o3, _mm512_xor_si512(_mm512_shuffle_i64x2(a23, b23, 0xEE), flip));
}

static AI int64_t block_elements(int wtype) { return wtype == PHI_TYPE_Q4_K || wtype == PHI_TYPE_Q5_K || wtype == PHI_TYPE_Q6_K ? QKK : QK; }
static AI int64_t block_bytes(int wtype) {
    switch (wtype) {
    case PHI_TYPE_Q4_0: return sizeof(block_q4_0);
    case PHI_TYPE_Q4_1: return sizeof(block_q4_1);
    case PHI_TYPE_Q5_0: return sizeof(block_q5_0);
    case PHI_TYPE_Q8_0: return sizeof(block_q8_0);
    case PHI_TYPE_Q4_K: return sizeof(block_q4_K);
    case PHI_TYPE_Q5_K: return sizeof(block_q5_K);
    default: return sizeof(block_q6_K);
    }
}

// Full panels only (nrows == 16: rows past the range may not exist); returns -1 otherwise and the caller
// repacks in C. Inlined into one entry per type, so `wtype` is a constant.
V512 static AI int repack_panel(int wtype, const uint8_t *W, int64_t rowb, int nrows, int64_t K, uint8_t *o) {
    if (nrows != 16 || rowb <= 0) return -1;
    const __m512i z0 = _mm512_setzero_si512();
    const __m512i c80 = _mm512_set1_epi8((char)0x80), m63 = _mm512_set1_epi32(63), m15 = _mm512_set1_epi32(15);
    const __m512i m3 = _mm512_set1_epi32(3);
    const int64_t qk = block_elements(wtype), bs = block_bytes(wtype);
    for (int64_t b = 0; b < K / qk; b++) {
        const uint8_t *w = W + b * bs;
        // The panel's rows are one contiguous region read here as 16 short streams, which the hardware
        // prefetcher does not follow; fetch the panel after next into L2 front to back instead (2x faster).
        for (int64_t q = 0; q < 16 * bs; q += 64) _mm_prefetch((const char *)W + 32 * rowb + 16 * bs * b + q, _MM_HINT_T1);
        switch (wtype) {
        case PHI_TYPE_Q4_0:
            halves(w, rowb, 0, o);
            tr16x4(w, rowb, 2, o + 32, o + 96, o + 160, o + 224, z0);
            o += 288;
            break;
        case PHI_TYPE_Q4_1: {
            halves(w, rowb, 0, o);
            halves(w, rowb, 2, o + 32);
            tr16x4(w, rowb, 4, o + 64, o + 128, o + 192, o + 256, z0);
            o += 320;
            break;
        }
        case PHI_TYPE_Q5_0: {
            halves(w, rowb, OFF(block_q5_0, d), o);
            tr16x4(w, rowb, OFF(block_q5_0, qs), o + 32, o + 96, o + 160, o + 224, z0);
            uint64_t hm[8] = {0};
            for (int r = 0; r < 16; r++) {
                uint32_t qh;
                memcpy(&qh, w + r * rowb + OFF(block_q5_0, qh), 4);
                for (int u = 0; u < 8; u++) hm[u] |= (uint64_t)((qh >> (4 * u)) & 0xF) << (4 * r);
            }
            memcpy(o + 288, hm, sizeof hm);
            o += 352;
            break;
        }
        case PHI_TYPE_Q8_0:
            halves(w, rowb, 0, o);
            tr16x4(w, rowb, 2, o + 32, o + 96, o + 160, o + 224, c80);
            tr16x4(w, rowb, 18, o + 288, o + 352, o + 416, o + 480, c80);
            o += 544;
            break;
        case PHI_TYPE_Q4_K:
        case PHI_TYPE_Q5_K: {
            const int five = wtype == PHI_TYPE_Q5_K;
            uint8_t hd[4][64]; // bytes 0..15 of the 16 rows: d|dmin, scales 0-3, 4-7, 8-11
            tr16x4(w, rowb, 0, hd[0], hd[1], hd[2], hd[3], z0);
            const __m512i dm = ld(hd[0]), s0 = ld(hd[1]), s1 = ld(hd[2]), s2 = ld(hd[3]);
            st16(o, dm);
            st16(o + 32, _mm512_srli_epi32(dm, 16));
            __m512i mins[8];
            for (int j = 0; j < 8; j++) {
                const int sh = 8 * (j & 3);
                __m512i sc, mn;
                if (j < 4) {
                    sc = _mm512_and_si512(_mm512_srli_epi32(s0, sh), m63);
                    mn = _mm512_and_si512(_mm512_srli_epi32(s1, sh), m63);
                } else {
                    const __m512i lo = _mm512_srli_epi32(s2, sh);
                    sc = _mm512_or_si512(_mm512_and_si512(lo, m15),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(s0, sh + 6), m3), 4));
                    mn = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(lo, 4), m15),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(s1, sh + 6), m3), 4));
                }
                st8(o + 64 + 16 * j, sc);
                mins[j] = mn;
            }
            for (int i = 0; i < 4; i++) st16(o + 192 + 32 * i, _mm512_or_si512(mins[2 * i], _mm512_slli_epi32(mins[2 * i + 1], 8)));
            for (int v = 0; v < 32; v += 4) {
                uint8_t *d0 = o + (five ? q5_vec(v / 8, v % 8) : 320 + 64 * v);
                tr16x4(w, rowb, (five ? 48 : 16) + 4 * v, d0, d0 + 64, d0 + 128, d0 + 192, z0);
            }
            if (five) {
                uint8_t hq[8][64];
                tr16x4(w, rowb, 16, hq[0], hq[1], hq[2], hq[3], z0);
                tr16x4(w, rowb, 32, hq[4], hq[5], hq[6], hq[7], z0);
                for (int q = 0; q < 8; q++) {
                    const __m512i h = ld(hq[q]);
                    for (int j = 0; j < 8; j++) {
                        const uint64_t bits = _cvtmask64_u64(_mm512_test_epi8_mask(h, _mm512_set1_epi8((char)(1 << j))));
                        memcpy(o + q5_mask(j, q), &bits, 8);
                    }
                }
            }
            o += five ? 2880 : 2368;
            break;
        }
        case PHI_TYPE_Q6_K:
            halves(w, rowb, 208, o);
            uint8_t hs[4][64]; // the 16 int8 scales of the 16 rows
            tr16x4(w, rowb, 192, hs[0], hs[1], hs[2], hs[3], z0);
            for (int i = 0; i < 4; i++) {
                const __m512i g = ld(hs[i]);
                for (int e = 0; e < 4; e++) st8(o + 32 + 16 * (4 * i + e), _mm512_srli_epi32(g, 8 * e));
            }
            for (int h = 0; h < 2; h++)
                for (int qb = 0; qb < 8; qb += 4) {
                    // GGML's ql/qh vectors for q = qb..qb+3, transposed into place, then recoded to X, Y, Z.
                    uint8_t *g = o + 288 + 768 * (2 * h + qb / 4);
                    tr16x4(w, rowb, 64 * h + 4 * qb, g, g + 64, g + 128, g + 192, z0);
                    tr16x4(w, rowb, 64 * h + 32 + 4 * qb, g + 256, g + 320, g + 384, g + 448, z0);
                    tr16x4(w, rowb, 128 + 32 * h + 4 * qb, g + 512, g + 576, g + 640, g + 704, z0);
                    const __m512i c0f = _mm512_set1_epi8(0x0F), c03 = _mm512_set1_epi8(3);
                    for (int q = 0; q < 4; q++) {
                        const __m512i a = ld(g + 64 * q), c = ld(g + 256 + 64 * q), hb = ld(g + 512 + 64 * q);
                        const __m512i e0 = _mm512_ternarylogic_epi32(_mm512_slli_epi16(_mm512_and_si512(hb, c03), 4), a, c0f, 0xF8);
                        const __m512i e1 = _mm512_ternarylogic_epi32(_mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hb, 2), c03), 4), c, c0f, 0xF8);
                        const __m512i e2 = _mm512_ternarylogic_epi32(_mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hb, 4), c03), 4), _mm512_srli_epi16(a, 4), c0f, 0xF8);
                        const __m512i e3 = _mm512_ternarylogic_epi32(_mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hb, 6), c03), 4), _mm512_srli_epi16(c, 4), c0f, 0xF8);
                        // X = e0 | e3<<6, Y = e1 | (e3>>2)<<6, Z = e2 | (e3>>4)<<6 (each byte's bits 6-7)
                        const __m512i hi = _mm512_set1_epi8((char)0xC0);
                        st(g + 64 * q, _mm512_ternarylogic_epi32(_mm512_slli_epi16(e3, 6), e0, hi, 0xEC)); // (a & hi) | e
                        st(g + 256 + 64 * q, _mm512_ternarylogic_epi32(_mm512_slli_epi16(e3, 4), e1, hi, 0xEC));
                        st(g + 512 + 64 * q, _mm512_ternarylogic_epi32(_mm512_slli_epi16(e3, 2), e2, hi, 0xEC));
                    }
                }
            o += 3360;
            break;
        default: return -1;
        }
    }
    return 0;
}

#define REPACK_ENTRY(t, T)                                                                                          \
    V512 int phi_qrepack_panel_##t##_avx512(const uint8_t *W, int64_t rowb, int nrows, int64_t K, uint8_t *o) {     \
        return repack_panel(T, W, rowb, nrows, K, o);                                                               \
    }
REPACK_ENTRY(q4_0, PHI_TYPE_Q4_0)
REPACK_ENTRY(q4_1, PHI_TYPE_Q4_1)
REPACK_ENTRY(q5_0, PHI_TYPE_Q5_0)
REPACK_ENTRY(q8_0, PHI_TYPE_Q8_0)
REPACK_ENTRY(q4_K, PHI_TYPE_Q4_K)
REPACK_ENTRY(q5_K, PHI_TYPE_Q5_K)
REPACK_ENTRY(q6_K, PHI_TYPE_Q6_K)

// ---------------------------------------------------------------------------------------------------------------
// Activation quantization, bit-identical to phi_act_row_ref in quant_ref.c (same f32 operations in the same order):
// roundf is trunc + (|v - trunc| >= 0.5 ? ±1 : 0); nearest_int is round-to-nearest-even.

V512 static AI __m512 round_away(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 one = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000),
                                                                     _mm512_castps_si512(_mm512_set1_ps(1.0f)), 0xEA)); // (v & sign) | 1.0
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    return _mm512_mask_add_ps(t, up, t, one);
}

V512 void phi_act_row_avx512(phi_act_kind kind, int offset, const float *x, int64_t K, uint8_t *row) {
    int8_t *qs = (int8_t *)row;
    uint8_t *dp = row + K;
    if (kind == PHI_ACT_Q8_K_SUM32 || kind == PHI_ACT_Q8_K_BIAS16) {
        uint8_t *aux = dp + 4 * (K / 256);
        for (int64_t b = 0; b < K / 256; b++) {
            const float *xb = x + 256 * b;
            __m512 am = _mm512_setzero_ps();
            for (int i = 0; i < 16; i++) am = _mm512_max_ps(am, _mm512_abs_ps(_mm512_loadu_ps(xb + 16 * i)));
            const float amax = _mm512_reduce_max_ps(am);
            float max = 0.0f, d = 0.0f;
            for (int i = 0; i < 16; i++) { // the first value whose magnitude is amax, as the scalar loop picks
                const __mmask16 k = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(xb + 16 * i)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
                if (k) { max = xb[16 * i + __builtin_ctz(k)]; break; }
            }
            int16_t bs[16];
            if (!amax) {
                memset(qs + 256 * b, 0, 256);
                memset(bs, 0, sizeof bs);
            } else {
                const float iscale = -127.f / max;
                const __m512 is = _mm512_set1_ps(iscale);
                for (int i = 0; i < 16; i++) {
                    const __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(is, _mm512_loadu_ps(xb + 16 * i)),
                                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                    const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(127));
                    _mm_storeu_si128((__m128i *)(qs + 256 * b + 16 * i), _mm512_cvtepi32_epi8(q));
                    bs[i] = (int16_t)_mm512_reduce_add_epi32(q);
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
        const __m512 x0 = _mm512_loadu_ps(x + 32 * b), x1 = _mm512_loadu_ps(x + 32 * b + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        const __m512 idv = _mm512_set1_ps(id);
        const __m512i q0 = _mm512_cvtps_epi32(round_away(_mm512_mul_ps(x0, idv)));
        const __m512i q1 = _mm512_cvtps_epi32(round_away(_mm512_mul_ps(x1, idv)));
        _mm_storeu_si128((__m128i *)(qs + 32 * b), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(qs + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
        const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        const float dh = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(d), _MM_FROUND_TO_NEAREST_INT)));
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
