// NEON SiLU-gated products and RMSNorm for aarch64 (elementwise.c's vector versions on 4-lane vectors).
#include "CPhiKernels.h"
#include <math.h>
#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>

#define AI inline __attribute__((always_inline))
#define HIDDEN __attribute__((visibility("hidden")))

// exp(x) exactly as elementwise.c's exp512 (Cephes-style degree-6 polynomial, ≤ 2 ulp); 2^n is applied as
// two exact power-of-two factors so subnormal results round once, as vscalefps does.
#define PHI_VEXP_NEON
#include "vexp.h"

static AI float32x4_t silu_mul4(float32x4_t z, float32x4_t u) {
    float32x4_t e = exp4(vnegq_f32(z));
    return vmulq_f32(vdivq_f32(z, vaddq_f32(vdupq_n_f32(1.0f), e)), u);
}

HIDDEN void phi_silu_mul_neon(const float *gu, float *out, int64_t rows, int64_t half) {
    for (int64_t t = 0; t < rows; t++) {
        const float *g = gu + t * 2 * half;
        float *o = out + t * half;
        int64_t i = 0;
        for (; i + 4 <= half; i += 4) vst1q_f32(o + i, silu_mul4(vld1q_f32(g + i), vld1q_f32(g + half + i)));
        if (i < half) {
            float zb[4] = {0}, ub[4] = {0}, ob[4];
            memcpy(zb, g + i, (size_t)(half - i) * 4);
            memcpy(ub, g + half + i, (size_t)(half - i) * 4);
            vst1q_f32(ob, silu_mul4(vld1q_f32(zb), vld1q_f32(ub)));
            memcpy(o + i, ob, (size_t)(half - i) * 4);
        }
    }
}

HIDDEN void phi_rmsnorm_neon(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
            float32x4_t v0 = vld1q_f32(xr + i), v1 = vld1q_f32(xr + i + 4);
            a0 = vfmaq_f32(a0, v0, v0);
            a1 = vfmaq_f32(a1, v1, v1);
        }
        float ss = vaddvq_f32(vaddq_f32(a0, a1));
        for (; i < n; i++) ss = fmaf(xr[i], xr[i], ss);
        float inv = 1.0f / sqrtf(ss / (float)n + eps);
        for (i = 0; i + 4 <= n; i += 4) vst1q_f32(yr + i, vmulq_f32(vmulq_n_f32(vld1q_f32(xr + i), inv), vld1q_f32(w + i)));
        for (; i < n; i++) yr[i] = (xr[i] * inv) * w[i];
    }
}
#endif
