// AVX2+FMA dense products for CPUs without AVX-512 (and phi_gemm_bf16 on AVX-512 CPUs without AVX512-BF16):
// the dot-product tiles of gemm.c / gemm_bf16.c on 8-lane vectors, shaped per weight type to fit 16 ymm registers.
// Tails are loaded through zeroed stack buffers or vmaskmovps, never past the end of a row.
#include "CPhiKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define V256 __attribute__((target("avx2,fma,f16c")))
#define AI inline __attribute__((always_inline))
#define HIDDEN __attribute__((visibility("hidden")))

// Tokens per block: a block of activations stays in L2 while every weight row streams past it once.
#define G_TB_BYTES 1572864

V256 static AI __m256i lane_mask(int64_t left) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(left > 8 ? 8 : left)), iota);
}

V256 static AI float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

V256 static AI __m256 bf16x8(__m128i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16)); }

// 8 weights from element i of W (type WT) as f32.
V256 static AI __m256 w8(const void *W, const int WT, int64_t i) {
    if (WT == PHI_TYPE_F32) return _mm256_loadu_ps((const float *)W + i);
    __m128i v = _mm_loadu_si128((const __m128i *)((const uint16_t *)W + i));
    return WT == PHI_TYPE_BF16 ? bf16x8(v) : _mm256_cvtph_ps(v);
}

// The first `left` (< 8) weights from element i, zeros after.
V256 static AI __m256 w8_tail(const void *W, const int WT, int64_t i, int64_t left) {
    if (WT == PHI_TYPE_F32) return _mm256_maskload_ps((const float *)W + i, lane_mask(left));
    uint16_t buf[8] = {0};
    memcpy(buf, (const uint16_t *)W + i, (size_t)left * 2);
    __m128i v = _mm_loadu_si128((const __m128i *)buf);
    return WT == PHI_TYPE_BF16 ? bf16x8(v) : _mm256_cvtph_ps(v);
}

// y[t, n+r] for r < RN, t < RT: RN weight rows × RT tokens of accumulators.
V256 static AI void ftile(const float *x, int64_t ldx, int64_t K, const void *W, const int WT, int64_t n, float *y,
                          int64_t ldy, const int RN, const int RT) {
    __m256 a[6][3];
    for (int r = 0; r < RN; r++)
        for (int t = 0; t < RT; t++) a[r][t] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 xv[3];
        for (int t = 0; t < RT; t++) xv[t] = _mm256_loadu_ps(x + t * ldx + k);
        for (int r = 0; r < RN; r++) {
            __m256 wv = w8(W, WT, (n + r) * K + k);
            for (int t = 0; t < RT; t++) a[r][t] = _mm256_fmadd_ps(wv, xv[t], a[r][t]);
        }
    }
    if (k < K) {
        __m256i m = lane_mask(K - k);
        __m256 xv[3];
        for (int t = 0; t < RT; t++) xv[t] = _mm256_maskload_ps(x + t * ldx + k, m);
        for (int r = 0; r < RN; r++) {
            __m256 wv = w8_tail(W, WT, (n + r) * K + k, K - k);
            for (int t = 0; t < RT; t++) a[r][t] = _mm256_fmadd_ps(wv, xv[t], a[r][t]);
        }
    }
    for (int t = 0; t < RT; t++)
        for (int r = 0; r < RN; r++) y[t * ldy + n + r] = hsum(a[r][t]);
}

typedef void (*ftile_fn)(const float *, int64_t, int64_t, const void *, int64_t, float *, int64_t);
typedef struct {
    int rn, rt;
    ftile_fn main, tok, rows, row; // RN×RT, RN×1, 1×RT, 1×1
} ftiles;

#define FTILES(WT, sfx, RN, RT)                                                                                      \
    V256 static void fmain_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y,         \
                                 int64_t ldy) {                                                                      \
        ftile(x, ldx, K, W, WT, n, y, ldy, RN, RT);                                                                  \
    }                                                                                                                \
    V256 static void ftok_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y,          \
                                int64_t ldy) {                                                                       \
        ftile(x, ldx, K, W, WT, n, y, ldy, RN, 1);                                                                   \
    }                                                                                                                \
    V256 static void frows_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y,         \
                                 int64_t ldy) {                                                                      \
        ftile(x, ldx, K, W, WT, n, y, ldy, 1, RT);                                                                   \
    }                                                                                                                \
    V256 static void frow_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y,          \
                                int64_t ldy) {                                                                       \
        ftile(x, ldx, K, W, WT, n, y, ldy, 1, 1);                                                                    \
    }                                                                                                                \
    static const ftiles tiles_##sfx = {RN, RT, fmain_##sfx, ftok_##sfx, frows_##sfx, frow_##sfx};
// f32 and bf16 weights: 4 rows × 3 tokens = 12 accumulators + 3 activations + 1 weight, the 16 ymm registers.
// f16: vcvtph2ps needs more room, and 4 × 3 spills; 6 × 2 keeps 12 accumulators with 2 activations.
// Measured on Zen 4, K=3072, one core: f32 76 (6×2: 71), bf16 84 (76), f16 102 (4×3: 45) GFLOPS.
FTILES(PHI_TYPE_F32, f32, 4, 3)
FTILES(PHI_TYPE_BF16, bf16, 4, 3)
FTILES(PHI_TYPE_F16, f16, 6, 2)

HIDDEN V256 void phi_gemm_avx2(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype, float *y,
                               int64_t ldy, int64_t n0, int64_t n1) {
    const ftiles *f = wtype == PHI_TYPE_BF16 ? &tiles_bf16 : wtype == PHI_TYPE_F16 ? &tiles_f16 : &tiles_f32;
    const int64_t RN = f->rn, RT = f->rt;
    int64_t TB = G_TB_BYTES / (K * 4 > 0 ? K * 4 : 1);
    TB = TB < RT ? RT : TB - TB % RT;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + RN <= n1; n += RN) {
            int64_t t = tb;
            for (; t + RT <= te; t += RT) f->main(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) f->tok(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
        }
        for (; n < n1; n++) {
            int64_t t = tb;
            for (; t + RT <= te; t += RT) f->rows(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) f->row(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
        }
    }
}

// bf16 × bf16: no dot instruction, so both sides widen to f32. A 16-element chunk splits into its even
// elements (shift left 16) and odd elements (mask the high half) without crossing lanes; both operands
// get the same permutation, so the products pair up as in the scalar reference.
V256 static AI __m256 bf_even(__m256i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
V256 static AI __m256 bf_odd(__m256i v) {
    return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xFFFF0000u)));
}

// 6 weight rows × 2 tokens: 12 accumulators + 2 activations + 1 weight + the zero that masks odd halves.
// (4 × 3 spills here; measured on Zen 4 at K=3072: 6×2 101, 5×2 88, 3×3 85, 4×3 67 GFLOPS per core.)
#define B_RN 6
#define B_RT 2
V256 static AI void btile(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y,
                          int64_t ldy, const int RN, const int RT) {
    __m256 a[B_RN][B_RT];
    for (int r = 0; r < RN; r++)
        for (int t = 0; t < RT; t++) a[r][t] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m256 xv[B_RT];
        for (int t = 0; t < RT; t++) xv[t] = bf_even(_mm256_loadu_si256((const __m256i *)(xb + t * ldxb + k)));
        for (int r = 0; r < RN; r++) {
            __m256 wv = bf_even(_mm256_loadu_si256((const __m256i *)(W + (n + r) * K + k)));
            for (int t = 0; t < RT; t++) a[r][t] = _mm256_fmadd_ps(wv, xv[t], a[r][t]);
        }
        // Reload the chunk for the odd half: the compiler would otherwise merge the two loads of each row
        // and keep 8 raw vectors alive next to 12 accumulators, spilling. L1 serves the reloads.
        __asm__ volatile("" ::: "memory");
        for (int t = 0; t < RT; t++) xv[t] = bf_odd(_mm256_loadu_si256((const __m256i *)(xb + t * ldxb + k)));
        for (int r = 0; r < RN; r++) {
            __m256 wv = bf_odd(_mm256_loadu_si256((const __m256i *)(W + (n + r) * K + k)));
            for (int t = 0; t < RT; t++) a[r][t] = _mm256_fmadd_ps(wv, xv[t], a[r][t]);
        }
    }
    if (k < K) {
        // Activations are zero-padded to ldxb (a multiple of 32); weight rows are not, so copy their tails.
        __m256i xr[B_RT], wr[B_RN];
        for (int t = 0; t < RT; t++) xr[t] = _mm256_loadu_si256((const __m256i *)(xb + t * ldxb + k));
        for (int r = 0; r < RN; r++) {
            uint16_t buf[16] = {0};
            memcpy(buf, W + (n + r) * K + k, (size_t)(K - k) * 2);
            wr[r] = _mm256_loadu_si256((const __m256i *)buf);
        }
        for (int r = 0; r < RN; r++)
            for (int t = 0; t < RT; t++) {
                a[r][t] = _mm256_fmadd_ps(bf_even(wr[r]), bf_even(xr[t]), a[r][t]);
                a[r][t] = _mm256_fmadd_ps(bf_odd(wr[r]), bf_odd(xr[t]), a[r][t]);
            }
    }
    for (int t = 0; t < RT; t++)
        for (int r = 0; r < RN; r++) y[t * ldy + n + r] = hsum(a[r][t]);
}

V256 static void bmain(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y,
                       int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, B_RN, B_RT);
}
V256 static void btok(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y,
                      int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, B_RN, 1);
}
V256 static void brows(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y,
                       int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, 1, B_RT);
}
V256 static void brow(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y,
                      int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, 1, 1);
}

HIDDEN V256 void phi_gemm_bf16_avx2(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W, float *y,
                               int64_t ldy, int64_t n0, int64_t n1) {
    int64_t TB = G_TB_BYTES / (ldxb * 2 > 0 ? ldxb * 2 : 1);
    TB = TB < B_RT ? B_RT : TB - TB % B_RT;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + B_RN <= n1; n += B_RN) {
            int64_t t = tb;
            for (; t + B_RT <= te; t += B_RT) bmain(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) btok(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
        }
        for (; n < n1; n++) {
            int64_t t = tb;
            for (; t + B_RT <= te; t += B_RT) brows(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) brow(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
        }
    }
}
#endif
