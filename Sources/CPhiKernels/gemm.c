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
    case PHI_WTYPE_BF16: return bf16_to_f32(((const uint16_t *)W)[i]);
    case PHI_WTYPE_F16: return f16_to_f32(((const uint16_t *)W)[i]);
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
    case PHI_WTYPE_BF16: {
        __m256i v = _mm256_maskz_loadu_epi16(m, (const uint16_t *)W + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
    }
    case PHI_WTYPE_F16: {
        __m256i v = _mm256_maskz_loadu_epi16(m, (const uint16_t *)W + i);
        return _mm512_cvtph_ps(v);
    }
    default:
        return _mm512_maskz_loadu_ps(m, (const float *)W + i);
    }
}

// 4 weight rows × 4 tokens: 16 accumulators.
AVX512 static void k4x4(const float *x, int64_t ldx, int64_t K, const void *W, int wtype, int64_t n,
                        float *y, int64_t ldy) {
    __m512 a[4][4];
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < 4; t++) a[r][t] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
        __mmask16 m = (K - k >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        __m512 xv0 = _mm512_maskz_loadu_ps(m, x + k);
        __m512 xv1 = _mm512_maskz_loadu_ps(m, x + ldx + k);
        __m512 xv2 = _mm512_maskz_loadu_ps(m, x + 2 * ldx + k);
        __m512 xv3 = _mm512_maskz_loadu_ps(m, x + 3 * ldx + k);
        for (int r = 0; r < 4; r++) {
            __m512 wv = w16(W, wtype, (n + r) * K + k, m);
            a[r][0] = _mm512_fmadd_ps(wv, xv0, a[r][0]);
            a[r][1] = _mm512_fmadd_ps(wv, xv1, a[r][1]);
            a[r][2] = _mm512_fmadd_ps(wv, xv2, a[r][2]);
            a[r][3] = _mm512_fmadd_ps(wv, xv3, a[r][3]);
        }
    }
    for (int t = 0; t < 4; t++)
        for (int r = 0; r < 4; r++) y[t * ldy + n + r] = _mm512_reduce_add_ps(a[r][t]);
}

// 4 weight rows × 1 token (the decode path).
AVX512 static void k4x1(const float *x, int64_t K, const void *W, int wtype, int64_t n, float *y) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
        __mmask16 m = (K - k >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
        a0 = _mm512_fmadd_ps(w16(W, wtype, n * K + k, m), xv, a0);
        a1 = _mm512_fmadd_ps(w16(W, wtype, (n + 1) * K + k, m), xv, a1);
        a2 = _mm512_fmadd_ps(w16(W, wtype, (n + 2) * K + k, m), xv, a2);
        a3 = _mm512_fmadd_ps(w16(W, wtype, (n + 3) * K + k, m), xv, a3);
    }
    y[n] = _mm512_reduce_add_ps(a0);
    y[n + 1] = _mm512_reduce_add_ps(a1);
    y[n + 2] = _mm512_reduce_add_ps(a2);
    y[n + 3] = _mm512_reduce_add_ps(a3);
}

AVX512 static void k1x1(const float *x, int64_t K, const void *W, int wtype, int64_t n, float *y) {
    __m512 a = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
        __mmask16 m = (K - k >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        a = _mm512_fmadd_ps(w16(W, wtype, n * K + k, m), _mm512_maskz_loadu_ps(m, x + k), a);
    }
    y[n] = _mm512_reduce_add_ps(a);
}

AVX512 static void gemm_avx512(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype,
                               float *y, int64_t ldy, int64_t n0, int64_t n1) {
    // Token blocks keep their activations in L2 while every weight row streams past once per block.
    const int64_t TB = 64;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + 4 <= n1; n += 4) {
            int64_t t = tb;
            for (; t + 4 <= te; t += 4) k4x4(x + t * ldx, ldx, K, W, wtype, n, y + t * ldy, ldy);
            for (; t < te; t++) k4x1(x + t * ldx, K, W, wtype, n, y + t * ldy);
        }
        for (; n < n1; n++)
            for (int64_t t = tb; t < te; t++) k1x1(x + t * ldx, K, W, wtype, n, y + t * ldy);
    }
}
#endif

void phi_gemm(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype,
              float *y, int64_t ldy, int64_t n0, int64_t n1) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) {
        gemm_avx512(x, ldx, T, K, W, wtype, y, ldy, n0, n1);
        return;
    }
#endif
    phi_gemm_ref(x, ldx, T, K, W, wtype, y, ldy, n0, n1);
}
