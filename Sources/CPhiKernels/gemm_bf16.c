// bf16 × bf16 → f32 products with AVX512-BF16 (vdpbf16ps: 32 multiply-adds per instruction).
#include "CPhiKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint16_t f32_to_bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40); // quiet NaN
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float bf16f(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void phi_pack_bf16(const float *x, int64_t ldx, int64_t T, int64_t K, uint16_t *xb, int64_t ldxb) {
    for (int64_t t = 0; t < T; t++) {
        const float *src = x + t * ldx;
        uint16_t *dst = xb + t * ldxb;
        for (int64_t k = 0; k < K; k++) dst[k] = f32_to_bf16_rne(src[k]);
        for (int64_t k = K; k < ldxb; k++) dst[k] = 0;
    }
}

void phi_gemm_bf16_ref(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                       float *y, int64_t ldy, int64_t n0, int64_t n1) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = n0; n < n1; n++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += bf16f(xb[t * ldxb + k]) * bf16f(W[n * K + k]);
            y[t * ldy + n] = acc;
        }
}

#if defined(__x86_64__)
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

BF16 static inline __m512bh wload(const uint16_t *p, __mmask32 m) {
    return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}
BF16 static inline __m512bh xload(const uint16_t *p) { return (__m512bh)_mm512_loadu_si512(p); }
BF16 static inline __mmask32 kmask(int64_t left) {
    return left >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
}

// RN weight rows × RT tokens of accumulators; constant arguments let the compiler keep them in registers.
BF16 static inline __attribute__((always_inline)) void btile(const uint16_t *xb, int64_t ldxb, int64_t K,
                                                          const uint16_t *W, int64_t n, float *y, int64_t ldy,
                                                          const int RN, const int RT) {
    __m512 a[8][8];
    for (int r = 0; r < RN; r++)
        for (int t = 0; t < RT; t++) a[r][t] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512bh x[8];
        for (int t = 0; t < RT; t++) x[t] = xload(xb + t * ldxb + k);
        for (int r = 0; r < RN; r++) {
            __m512bh w = (__m512bh)_mm512_loadu_si512(W + (n + r) * K + k);
            for (int t = 0; t < RT; t++) a[r][t] = _mm512_dpbf16_ps(a[r][t], w, x[t]);
        }
    }
    if (k < K) {
        __mmask32 m = kmask(K - k);
        __m512bh x[8];
        for (int t = 0; t < RT; t++) x[t] = xload(xb + t * ldxb + k);
        for (int r = 0; r < RN; r++) {
            __m512bh w = wload(W + (n + r) * K + k, m);
            for (int t = 0; t < RT; t++) a[r][t] = _mm512_dpbf16_ps(a[r][t], w, x[t]);
        }
    }
    if (RT == 4) {
        // Four sums at once per row: fold 512 → 256 bits, then pairwise horizontal adds (≈17 ops instead of 40).
        for (int r = 0; r < RN; r++) {
            __m256 h[4];
            for (int t = 0; t < 4; t++)
                h[t] = _mm256_add_ps(_mm512_castps512_ps256(a[r][t]),
                                     _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[r][t]), 1)));
            __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
            __m128 v = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
            float out[4];
            _mm_storeu_ps(out, v);
            for (int t = 0; t < 4; t++) y[t * ldy + n + r] = out[t];
        }
        return;
    }
    for (int t = 0; t < RT; t++)
        for (int r = 0; r < RN; r++) y[t * ldy + n + r] = _mm512_reduce_add_ps(a[r][t]);
}

#ifndef PHI_TB_BYTES
#define PHI_TB_BYTES 4194304
#endif
#ifndef PHI_BF16_RN
#define PHI_BF16_RN 6
#endif
#ifndef PHI_BF16_RT
#define PHI_BF16_RT 4
#endif
BF16 static void bmain(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, PHI_BF16_RN, PHI_BF16_RT);
}
BF16 static void btail(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, PHI_BF16_RN, 1);
}

BF16 static void b4x1(const uint16_t *xb, int64_t K, const uint16_t *W, int64_t n, float *y) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    const uint16_t *w0 = W + n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    for (int64_t k = 0; k < K; k += 32) {
        __mmask32 m = kmask(K - k);
        __m512bh x = xload(xb + k);
        a0 = _mm512_dpbf16_ps(a0, wload(w0 + k, m), x);
        a1 = _mm512_dpbf16_ps(a1, wload(w1 + k, m), x);
        a2 = _mm512_dpbf16_ps(a2, wload(w2 + k, m), x);
        a3 = _mm512_dpbf16_ps(a3, wload(w3 + k, m), x);
    }
    y[n] = _mm512_reduce_add_ps(a0);
    y[n + 1] = _mm512_reduce_add_ps(a1);
    y[n + 2] = _mm512_reduce_add_ps(a2);
    y[n + 3] = _mm512_reduce_add_ps(a3);
}

BF16 static void b1x1(const uint16_t *xb, int64_t K, const uint16_t *W, int64_t n, float *y) {
    __m512 a = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 32) a = _mm512_dpbf16_ps(a, wload(W + n * K + k, kmask(K - k)), xload(xb + k));
    y[n] = _mm512_reduce_add_ps(a);
}

BF16 static void gemm_bf16_avx512(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                                  float *y, int64_t ldy, int64_t n0, int64_t n1) {
    // A block of activations stays in L2 while every weight row streams past it once.
    int64_t TB = PHI_TB_BYTES / (ldxb * 2);
    TB = TB < PHI_BF16_RT ? PHI_BF16_RT : TB - TB % PHI_BF16_RT;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + PHI_BF16_RN <= n1; n += PHI_BF16_RN) {
            int64_t t = tb;
            for (; t + PHI_BF16_RT <= te; t += PHI_BF16_RT) bmain(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) btail(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
        }
        for (; n < n1; n++)
            for (int64_t t = tb; t < te; t++) b1x1(xb + t * ldxb, K, W, n, y + t * ldy);
    }
}
#endif

#if defined(__x86_64__)
void phi_gemm_bf16_avx2(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W, // gemm_avx2.c
                        float *y, int64_t ldy, int64_t n0, int64_t n1);
#elif defined(__aarch64__)
void phi_gemm_bf16_neon(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W, // gemm_neon.c
                        float *y, int64_t ldy, int64_t n0, int64_t n1);
#endif

void phi_gemm_bf16(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                   float *y, int64_t ldy, int64_t n0, int64_t n1) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512_BF16) {
        gemm_bf16_avx512(xb, ldxb, T, K, W, y, ldy, n0, n1);
        return;
    }
    if (phi_cpu_features() & PHI_CPU_AVX2) { // also AVX-512 CPUs without BF16: widen and FMA
        phi_gemm_bf16_avx2(xb, ldxb, T, K, W, y, ldy, n0, n1);
        return;
    }
#elif defined(__aarch64__)
    if (phi_cpu_features() & PHI_CPU_NEON) {
        phi_gemm_bf16_neon(xb, ldxb, T, K, W, y, ldy, n0, n1);
        return;
    }
#endif
    phi_gemm_bf16_ref(xb, ldxb, T, K, W, y, ldy, n0, n1);
}
