// Encoder activations, LayerNorm and softmax rows (see CPhiActivations.h). AVX-512 paths use the shared
// vector exp; other CPUs use the scalar twins, which the compiler vectorizes where it can.
#include "CPhiKernels.h"
#include <math.h>

static const float kGeluBeta = 0.7978845608028654f;   // sqrt(2/pi)
static const float kGeluKappa = 0.044715f;

void phi_gelu_tanh_ref(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float inner = kGeluBeta * (v + kGeluKappa * v * v * v);
        x[i] = 0.5f * v * (1.0f + tanhf(inner));
    }
}

void phi_gelu_erf_ref(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void phi_silu_ref(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}

void phi_layernorm_ref(const float *x, const float *w, const float *b, float *y, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += xr[i];
        float mean = (float)(s / (double)n);
        double v = 0;
        for (int64_t i = 0; i < n; i++) { double d = (double)xr[i] - mean; v += d * d; }
        float inv = 1.0f / sqrtf((float)(v / (double)n) + eps);
        for (int64_t i = 0; i < n; i++) yr[i] = (xr[i] - mean) * inv * w[i] + (b ? b[i] : 0.0f);
    }
}

void phi_softmax_rows_ref(float *x, int64_t rows, int64_t n, int64_t ld, float scale) {
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * ld;
        float m = -INFINITY;
        for (int64_t i = 0; i < n; i++) { xr[i] *= scale; if (xr[i] > m) m = xr[i]; }
        if (m == -INFINITY) { for (int64_t i = 0; i < n; i++) xr[i] = 0; continue; }
        float s = 0;
        for (int64_t i = 0; i < n; i++) { xr[i] = expf(xr[i] - m); s += xr[i]; }
        float inv = 1.0f / s;
        for (int64_t i = 0; i < n; i++) xr[i] *= inv;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define PHI_VEXP_AVX512
#include "vexp.h"

#define TAILMASK(n, i) (((n) - (i) >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << ((n) - (i))) - 1))

AVX512 static void gelu_tanh_avx512(float *x, int64_t n) {
    const __m512 beta = _mm512_set1_ps(kGeluBeta), kappa = _mm512_set1_ps(kGeluKappa);
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f), half = _mm512_set1_ps(0.5f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = TAILMASK(n, i);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m512 v3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
        __m512 u = _mm512_mul_ps(beta, _mm512_fmadd_ps(kappa, v3, v));
        // tanh(u) = 1 − 2/(e^{2u} + 1); exp512 clamps, so large |u| gives ±1.
        __m512 t = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp512(_mm512_mul_ps(two, u)), one)));
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, t)));
    }
}

// erf(z) for z >= 0 via Abramowitz–Stegun 7.1.26 refined: use erf(z) = 1 − erfc(z) with
// erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes erfcc, |rel err| < 1.2e-7).
AVX512 static __m512 erf512(__m512 z) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 a = _mm512_abs_ps(z);
    __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.5f), a, one));
    __m512 p = _mm512_set1_ps(0.17087277f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
    __m512 e = _mm512_mul_ps(t, exp512(_mm512_sub_ps(p, _mm512_mul_ps(a, a))));
    __m512 r = _mm512_sub_ps(one, e);
    // erf is odd: copy the sign of z.
    return _mm512_or_ps(r, _mm512_and_ps(z, _mm512_set1_ps(-0.0f)));
}

AVX512 static void gelu_erf_avx512(float *x, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f), half = _mm512_set1_ps(0.5f), r2 = _mm512_set1_ps(0.70710678118654752f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = TAILMASK(n, i);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m512 e = erf512(_mm512_mul_ps(v, r2));
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
    }
}

AVX512 static void silu_avx512(float *x, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = TAILMASK(n, i);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), v))));
        _mm512_mask_storeu_ps(x + i, m, s);
    }
}

AVX512 static void layernorm_avx512(const float *x, const float *w, const float *b, float *y, int64_t rows, int64_t n,
                                    float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += 16) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(TAILMASK(n, i), xr + i));
        float mean = _mm512_reduce_add_ps(acc) / (float)n;
        __m512 mv = _mm512_set1_ps(mean);
        __m512 vacc = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = TAILMASK(n, i);
            __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xr + i), mv);
            vacc = _mm512_fmadd_ps(d, d, vacc);
        }
        __m512 inv = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(vacc) / (float)n + eps));
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = TAILMASK(n, i);
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + i), mv), inv);
            __m512 o = _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, w + i));
            if (b) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(m, b + i));
            _mm512_mask_storeu_ps(yr + i, m, o);
        }
    }
}

AVX512 static void softmax_rows_avx512(float *x, int64_t rows, int64_t n, int64_t ld, float scale) {
    const __m512 sc = _mm512_set1_ps(scale);
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * ld;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = TAILMASK(n, i);
            __m512 v = _mm512_mul_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, xr + i), sc);
            mx = _mm512_max_ps(mx, v);
        }
        float mval = _mm512_reduce_max_ps(mx);
        if (mval == -INFINITY) { for (int64_t i = 0; i < n; i++) xr[i] = 0; continue; }
        __m512 mv = _mm512_set1_ps(mval), sum = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = TAILMASK(n, i);
            __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), sc);
            __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(v, mv)));
            sum = _mm512_add_ps(sum, e);
            _mm512_mask_storeu_ps(xr + i, m, e);
        }
        __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = TAILMASK(n, i);
            _mm512_mask_storeu_ps(xr + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), inv));
        }
    }
}
#define HAVE_AVX512 (phi_cpu_features() & PHI_CPU_AVX512)
#else
#define HAVE_AVX512 0
#define gelu_tanh_avx512 phi_gelu_tanh_ref
#define gelu_erf_avx512 phi_gelu_erf_ref
#define silu_avx512 phi_silu_ref
#define layernorm_avx512 phi_layernorm_ref
#define softmax_rows_avx512 phi_softmax_rows_ref
#endif

void phi_gelu_tanh(float *x, int64_t n) { if (HAVE_AVX512) gelu_tanh_avx512(x, n); else phi_gelu_tanh_ref(x, n); }
void phi_gelu_erf(float *x, int64_t n) { if (HAVE_AVX512) gelu_erf_avx512(x, n); else phi_gelu_erf_ref(x, n); }
void phi_silu(float *x, int64_t n) { if (HAVE_AVX512) silu_avx512(x, n); else phi_silu_ref(x, n); }
void phi_layernorm(const float *x, const float *w, const float *b, float *y, int64_t rows, int64_t n, float eps) {
    if (HAVE_AVX512) layernorm_avx512(x, w, b, y, rows, n, eps); else phi_layernorm_ref(x, w, b, y, rows, n, eps);
}
void phi_softmax_rows(float *x, int64_t rows, int64_t n, int64_t ld, float scale) {
    if (HAVE_AVX512) softmax_rows_avx512(x, rows, n, ld, scale); else phi_softmax_rows_ref(x, rows, n, ld, scale);
}
