// AVX2+FMA SiLU-gated products and RMSNorm (elementwise.c's AVX-512 versions on 8-lane vectors).
#include "CPhiKernels.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define V256 __attribute__((target("avx2,fma,f16c")))
#define AI inline __attribute__((always_inline))
#define HIDDEN __attribute__((visibility("hidden")))

V256 static AI __m256i lane_mask(int64_t left) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(left > 8 ? 8 : left)), iota);
}

// exp(x) exactly as elementwise.c's exp512 (Cephes-style degree-6 polynomial, ≤ 2 ulp). vscalefps has no
// AVX2 form: p · 2^n is applied as two exact power-of-two factors, so subnormal results round once, as there.
#define PHI_VEXP_AVX2
#include "vexp.h"

V256 static AI __m256 silu_mul8(__m256 z, __m256 u) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), z));
    return _mm256_mul_ps(_mm256_div_ps(z, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

HIDDEN V256 void phi_silu_mul_avx2(const float *gu, float *out, int64_t rows, int64_t half) {
    for (int64_t t = 0; t < rows; t++) {
        const float *g = gu + t * 2 * half;
        float *o = out + t * half;
        int64_t i = 0;
        for (; i + 8 <= half; i += 8)
            _mm256_storeu_ps(o + i, silu_mul8(_mm256_loadu_ps(g + i), _mm256_loadu_ps(g + half + i)));
        if (i < half) {
            __m256i m = lane_mask(half - i);
            __m256 v = silu_mul8(_mm256_maskload_ps(g + i, m), _mm256_maskload_ps(g + half + i, m));
            _mm256_maskstore_ps(o + i, m, v);
        }
    }
}

V256 static AI float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

HIDDEN V256 void phi_rmsnorm_avx2(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            __m256 v0 = _mm256_loadu_ps(xr + i), v1 = _mm256_loadu_ps(xr + i + 8);
            a0 = _mm256_fmadd_ps(v0, v0, a0);
            a1 = _mm256_fmadd_ps(v1, v1, a1);
        }
        for (; i < n; i += 8) {
            __m256 v = _mm256_maskload_ps(xr + i, lane_mask(n - i));
            a0 = _mm256_fmadd_ps(v, v, a0);
        }
        float inv = 1.0f / sqrtf(hsum(_mm256_add_ps(a0, a1)) / (float)n + eps);
        __m256 iv = _mm256_set1_ps(inv);
        for (i = 0; i + 8 <= n; i += 8)
            _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + i), iv), _mm256_loadu_ps(w + i)));
        if (i < n) {
            __m256i m = lane_mask(n - i);
            __m256 v = _mm256_mul_ps(_mm256_maskload_ps(xr + i, m), iv);
            _mm256_maskstore_ps(yr + i, m, _mm256_mul_ps(v, _mm256_maskload_ps(w + i, m)));
        }
    }
}
#endif
