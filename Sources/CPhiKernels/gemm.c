// Dense matrix products y = x · Wᵀ with W in f32, bf16 or f16.
#include "CPhiKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline float bf16_to_f32(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    uint32_t u;
    if (exp == 0) {
        if (mant == 0) {
            u = sign;
        } else {
            float v = (float)mant * (1.0f / 16777216.0f);
            return sign ? -v : v;
        }
    } else if (exp == 31) {
        u = sign | 0x7F800000u | (mant << 13);
    } else {
        u = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float load_w(const void *W, int wtype, int64_t i) {
    switch (wtype) {
    case PHI_TYPE_BF16: return bf16_to_f32(((const uint16_t *)W)[i]);
    case PHI_TYPE_F16: return f16_to_f32(((const uint16_t *)W)[i]);
    default: return ((const float *)W)[i];
    }
}

void phi_gemm_ref(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype,
                  float *y, int64_t ldy, int64_t n0, int64_t n1) {
    for (int64_t t = 0; t < T; t++) {
        for (int64_t n = n0; n < n1; n++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += x[t * ldx + k] * load_w(W, wtype, n * K + k);
            y[t * ldy + n] = acc;
        }
    }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

AVX512 static inline __m512 w16(const void *W, int wtype, int64_t i, __mmask16 m) {
    switch (wtype) {
    case PHI_TYPE_BF16: {
        __m256i v = _mm256_maskz_loadu_epi16(m, (const uint16_t *)W + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
    }
    case PHI_TYPE_F16: {
        __m256i v = _mm256_maskz_loadu_epi16(m, (const uint16_t *)W + i);
        return _mm512_cvtph_ps(v);
    }
    default:
        return _mm512_maskz_loadu_ps(m, (const float *)W + i);
    }
}

// RN weight rows × RT tokens of accumulators; constant arguments let the compiler keep them in registers.
AVX512 static inline __attribute__((always_inline)) void ftile(const float *x, int64_t ldx, int64_t K, const void *W,
                                                            int wtype, int64_t n, float *y, int64_t ldy,
                                                            const int RN, const int RT) {
    __m512 a[8][8]; // RN <= 8, RT <= 8
    for (int r = 0; r < RN; r++)
        for (int t = 0; t < RT; t++) a[r][t] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 xv[8];
        for (int t = 0; t < RT; t++) xv[t] = _mm512_loadu_ps(x + t * ldx + k);
        for (int r = 0; r < RN; r++) {
            __m512 wv = w16(W, wtype, (n + r) * K + k, (__mmask16)0xFFFF);
            for (int t = 0; t < RT; t++) a[r][t] = _mm512_fmadd_ps(wv, xv[t], a[r][t]);
        }
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        __m512 xv[8];
        for (int t = 0; t < RT; t++) xv[t] = _mm512_maskz_loadu_ps(m, x + t * ldx + k);
        for (int r = 0; r < RN; r++) {
            __m512 wv = w16(W, wtype, (n + r) * K + k, m);
            for (int t = 0; t < RT; t++) a[r][t] = _mm512_fmadd_ps(wv, xv[t], a[r][t]);
        }
    }
    for (int t = 0; t < RT; t++)
        for (int r = 0; r < RN; r++) y[t * ldy + n + r] = _mm512_reduce_add_ps(a[r][t]);
}

#define F_RN 6
#define F_RT 4
AVX512 static void fmain(const float *x, int64_t ldx, int64_t K, const void *W, int wtype, int64_t n, float *y, int64_t ldy) {
    ftile(x, ldx, K, W, wtype, n, y, ldy, F_RN, F_RT);
}
AVX512 static void ftail(const float *x, int64_t ldx, int64_t K, const void *W, int wtype, int64_t n, float *y, int64_t ldy) {
    ftile(x, ldx, K, W, wtype, n, y, ldy, F_RN, 1);
}
AVX512 static void frow(const float *x, int64_t ldx, int64_t K, const void *W, int wtype, int64_t n, float *y, int64_t ldy) {
    ftile(x, ldx, K, W, wtype, n, y, ldy, 1, 1);
}

AVX512 static void gemm_avx512(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype,
                               float *y, int64_t ldy, int64_t n0, int64_t n1) {
    // A block of activations (4 MiB: L2 plus the L3 slice; measured best) stays cached while every weight
    // row streams past it once.
    int64_t TB = 4194304 / (K * 4);
    TB = TB < F_RT ? F_RT : TB - TB % F_RT;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + F_RN <= n1; n += F_RN) {
            int64_t t = tb;
            for (; t + F_RT <= te; t += F_RT) fmain(x + t * ldx, ldx, K, W, wtype, n, y + t * ldy, ldy);
            for (; t < te; t++) ftail(x + t * ldx, ldx, K, W, wtype, n, y + t * ldy, ldy);
        }
        for (; n < n1; n++)
            for (int64_t t = tb; t < te; t++) frow(x + t * ldx, ldx, K, W, wtype, n, y + t * ldy, ldy);
    }
}
#endif

#if defined(__x86_64__)
void phi_gemm_avx2(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype, // gemm_avx2.c
                   float *y, int64_t ldy, int64_t n0, int64_t n1);
#elif defined(__aarch64__)
void phi_gemm_neon(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype, // gemm_neon.c
                   float *y, int64_t ldy, int64_t n0, int64_t n1);
#endif

void phi_gemm(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype,
              float *y, int64_t ldy, int64_t n0, int64_t n1) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) {
        gemm_avx512(x, ldx, T, K, W, wtype, y, ldy, n0, n1);
        return;
    }
    if (phi_cpu_features() & PHI_CPU_AVX2) {
        phi_gemm_avx2(x, ldx, T, K, W, wtype, y, ldy, n0, n1);
        return;
    }
#elif defined(__aarch64__)
    if (phi_cpu_features() & PHI_CPU_NEON) {
        phi_gemm_neon(x, ldx, T, K, W, wtype, y, ldy, n0, n1);
        return;
    }
#endif
    phi_gemm_ref(x, ldx, T, K, W, wtype, y, ldy, n0, n1);
}
