// Causal attention over a KV cache, one query row at a time: memory stays linear in context length.
#include "CPhiKernels.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

AVX512 static float dot_avx512(const float *a, const float *b, int64_t n) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = (n - i >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

AVX512 static void axpy_avx512(float a, const float *x, float *y, int64_t n) {
    __m512 av = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = (n - i >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 yv = _mm512_maskz_loadu_ps(m, y + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), yv));
    }
}
#endif

static float dot_ref(const float *a, const float *b, int64_t n) {
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

static void axpy_ref(float a, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

float phi_dot_f32(const float *a, const float *b, int64_t n) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) return dot_avx512(a, b, n);
#endif
    return dot_ref(a, b, n);
}

void phi_axpy_f32(float a, const float *x, float *y, int64_t n) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) {
        axpy_avx512(a, x, y, n);
        return;
    }
#endif
    axpy_ref(a, x, y, n);
}

typedef float (*dot_fn)(const float *, const float *, int64_t);
typedef void (*axpy_fn)(float, const float *, float *, int64_t);

static void attention_impl(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim,
                           const float *kcache, const float *vcache, int64_t capacity, int64_t nKV,
                           int64_t past, int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1,
                           float *scores, dot_fn dot, axpy_fn axpy) {
    int64_t group = nHeads / nKV;
    for (int64_t h = h0; h < h1; h++) {
        const float *K = kcache + (h / group) * capacity * headDim;
        const float *V = vcache + (h / group) * capacity * headDim;
        for (int64_t t = 0; t < T; t++) {
            const float *qv = q + t * ldq + h * headDim;
            int64_t n = past + t + 1;
            int64_t j0 = (window > 0 && n > window) ? n - window : 0;
            float mx = -INFINITY;
            for (int64_t j = j0; j < n; j++) {
                float s = dot(qv, K + j * headDim, headDim) * scale;
                scores[j] = s;
                if (s > mx) mx = s;
            }
            float sum = 0.0f;
            for (int64_t j = j0; j < n; j++) {
                float e = expf(scores[j] - mx);
                scores[j] = e;
                sum += e;
            }
            float inv = 1.0f / sum;
            float *o = out + t * ldo + h * headDim;
            for (int64_t d = 0; d < headDim; d++) o[d] = 0.0f;
            for (int64_t j = j0; j < n; j++) axpy(scores[j] * inv, V + j * headDim, o, headDim);
        }
    }
}

void phi_attention_ref(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim,
                       const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                       int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scratch) {
    attention_impl(q, ldq, T, nHeads, headDim, kcache, vcache, capacity, nKV, past, window, scale, out, ldo, h0, h1,
                   scratch, dot_ref, axpy_ref);
}

void phi_attention(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim,
                   const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                   int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scratch) {
    attention_impl(q, ldq, T, nHeads, headDim, kcache, vcache, capacity, nKV, past, window, scale, out, ldo, h0, h1,
                   scratch, phi_dot_f32, phi_axpy_f32);
}
