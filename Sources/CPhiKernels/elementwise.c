// Row-wise activations: SiLU-gated products and RMSNorm.
#include "CPhiKernels.h"
#include <math.h>

void phi_silu_mul_ref(const float *gu, float *out, int64_t rows, int64_t half) {
    for (int64_t t = 0; t < rows; t++) {
        const float *g = gu + t * 2 * half;
        float *o = out + t * half;
        for (int64_t i = 0; i < half; i++) o[i] = (g[i] / (1.0f + expf(-g[i]))) * g[half + i];
    }
}

void phi_rmsnorm_ref(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float ss = 0.0f;
        for (int64_t i = 0; i < n; i++) ss += xr[i] * xr[i];
        float inv = 1.0f / sqrtf(ss / (float)n + eps);
        for (int64_t i = 0; i < n; i++) yr[i] = (xr[i] * inv) * w[i];
    }
}

void phi_rotary_ref(float *x, int64_t ld, int64_t T, int64_t heads, int64_t headDim, int64_t rotaryDim,
                    int interleaved, const float *cos, const float *sin) {
    int64_t h = rotaryDim / 2;
    for (int64_t t = 0; t < T; t++) {
        const float *c = cos + t * rotaryDim, *s = sin + t * rotaryDim;
        for (int64_t head = 0; head < heads; head++) {
            float *v = x + t * ld + head * headDim;
            for (int64_t j = 0; j < h; j++) {
                if (interleaved) {
                    float a = v[2 * j], b = v[2 * j + 1];
                    v[2 * j] = a * c[j] - b * s[j];
                    v[2 * j + 1] = b * c[j] + a * s[j];
                } else {
                    float a = v[j], b = v[j + h];
                    v[j] = a * c[j] - b * s[j];
                    v[j + h] = b * c[j + h] + a * s[j + h];
                }
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

// exp(x) for x in float range: 2^n · e^r with |r| ≤ ln2/2, degree-6 polynomial (≤ 2 ulp), like Cephes expf.
#define PHI_VEXP_AVX512
#include "vexp.h"

AVX512 static void silu_mul_avx512(const float *gu, float *out, int64_t rows, int64_t half) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t t = 0; t < rows; t++) {
        const float *g = gu + t * 2 * half;
        float *o = out + t * half;
        for (int64_t i = 0; i < half; i += 16) {
            __mmask16 m = (half - i >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (half - i)) - 1);
            __m512 z = _mm512_maskz_loadu_ps(m, g + i);
            __m512 u = _mm512_maskz_loadu_ps(m, g + half + i);
            __m512 s = _mm512_div_ps(z, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), z))));
            _mm512_mask_storeu_ps(o + i, m, _mm512_mul_ps(s, u));
        }
    }
}

AVX512 static void rmsnorm_avx512(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = (n - i >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
            acc = _mm512_fmadd_ps(v, v, acc);
        }
        float inv = 1.0f / sqrtf(_mm512_reduce_add_ps(acc) / (float)n + eps);
        __m512 iv = _mm512_set1_ps(inv);
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = (n - i >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
            __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), iv);
            _mm512_mask_storeu_ps(yr + i, m, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i)));
        }
    }
}
#endif

#if defined(__x86_64__)
void phi_silu_mul_avx2(const float *gu, float *out, int64_t rows, int64_t half); // elementwise_avx2.c
void phi_rmsnorm_avx2(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps);
#elif defined(__aarch64__)
void phi_silu_mul_neon(const float *gu, float *out, int64_t rows, int64_t half); // elementwise_neon.c
void phi_rmsnorm_neon(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps);
#endif

#if defined(__x86_64__)
// rotate_half rotary, 16 frequencies per step; the same products and sums as the reference (no FMA), so the
// results are identical.
AVX512 static void rotary_avx512(float *x, int64_t ld, int64_t T, int64_t heads, int64_t headDim, int64_t rotaryDim,
                                 const float *cos, const float *sin) {
    int64_t h = rotaryDim / 2;
    for (int64_t t = 0; t < T; t++) {
        const float *c = cos + t * rotaryDim, *s = sin + t * rotaryDim;
        for (int64_t head = 0; head < heads; head++) {
            float *v = x + t * ld + head * headDim;
            for (int64_t j = 0; j < h; j += 16) {
                __mmask16 m = h - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (h - j)) - 1);
                __m512 a = _mm512_maskz_loadu_ps(m, v + j), b = _mm512_maskz_loadu_ps(m, v + j + h);
                __m512 c0 = _mm512_maskz_loadu_ps(m, c + j), s0 = _mm512_maskz_loadu_ps(m, s + j);
                __m512 c1 = _mm512_maskz_loadu_ps(m, c + j + h), s1 = _mm512_maskz_loadu_ps(m, s + j + h);
                _mm512_mask_storeu_ps(v + j, m, _mm512_sub_ps(_mm512_mul_ps(a, c0), _mm512_mul_ps(b, s0)));
                _mm512_mask_storeu_ps(v + j + h, m, _mm512_add_ps(_mm512_mul_ps(b, c1), _mm512_mul_ps(a, s1)));
            }
        }
    }
}
#endif

void phi_rotary(float *x, int64_t ld, int64_t T, int64_t heads, int64_t headDim, int64_t rotaryDim, int interleaved,
                const float *cos, const float *sin) {
#if defined(__x86_64__)
    if (!interleaved && (phi_cpu_features() & PHI_CPU_AVX512)) {
        rotary_avx512(x, ld, T, heads, headDim, rotaryDim, cos, sin);
        return;
    }
#endif
    phi_rotary_ref(x, ld, T, heads, headDim, rotaryDim, interleaved, cos, sin);
}

void phi_silu_mul(const float *gu, float *out, int64_t rows, int64_t half) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) {
        silu_mul_avx512(gu, out, rows, half);
        return;
    }
    if (phi_cpu_features() & PHI_CPU_AVX2) {
        phi_silu_mul_avx2(gu, out, rows, half);
        return;
    }
#elif defined(__aarch64__)
    if (phi_cpu_features() & PHI_CPU_NEON) {
        phi_silu_mul_neon(gu, out, rows, half);
        return;
    }
#endif
    phi_silu_mul_ref(gu, out, rows, half);
}

void phi_rmsnorm(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) {
        rmsnorm_avx512(x, w, y, rows, n, eps);
        return;
    }
    if (phi_cpu_features() & PHI_CPU_AVX2) {
        phi_rmsnorm_avx2(x, w, y, rows, n, eps);
        return;
    }
#elif defined(__aarch64__)
    if (phi_cpu_features() & PHI_CPU_NEON) {
        phi_rmsnorm_neon(x, w, y, rows, n, eps);
        return;
    }
#endif
    phi_rmsnorm_ref(x, w, y, rows, n, eps);
}
