// NEON dense products for aarch64: gemm.c's dot-product tiles on 4-lane vectors, 4 weight rows × 4 tokens
// (16 accumulators of the 32 q registers). bf16 widens by a 16-bit shift, f16 by fcvtl (base ARMv8).
// Tails go through zeroed stack buffers, never past the end of a row.
#include "CPhiKernels.h"
#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>

#define AI inline __attribute__((always_inline))
#define HIDDEN __attribute__((visibility("hidden")))

#define N_RN 4
#define N_RT 4
// Tokens per block: a block of activations stays in L2 while every weight row streams past it once.
#define N_TB_BYTES 1048576

static AI float32x4_t bf16x4(uint16x4_t v) { return vreinterpretq_f32_u32(vshll_n_u16(v, 16)); }
static AI float32x4_t f16x4(uint16x4_t v) { return vcvt_f32_f16(vreinterpret_f16_u16(v)); }

// 4 weights from element i of W (type WT) as f32.
static AI float32x4_t w4(const void *W, const int WT, int64_t i) {
    if (WT == PHI_TYPE_F32) return vld1q_f32((const float *)W + i);
    uint16x4_t v = vld1_u16((const uint16_t *)W + i);
    return WT == PHI_TYPE_BF16 ? bf16x4(v) : f16x4(v);
}

// The first `left` (< 4) weights from element i, zeros after.
static AI float32x4_t w4_tail(const void *W, const int WT, int64_t i, int64_t left) {
    if (WT == PHI_TYPE_F32) {
        float buf[4] = {0};
        memcpy(buf, (const float *)W + i, (size_t)left * 4);
        return vld1q_f32(buf);
    }
    uint16_t buf[4] = {0};
    memcpy(buf, (const uint16_t *)W + i, (size_t)left * 2);
    return w4(buf, WT, 0);
}

static AI void ftile(const float *x, int64_t ldx, int64_t K, const void *W, const int WT, int64_t n, float *y,
                     int64_t ldy, const int RN, const int RT) {
    float32x4_t a[N_RN][N_RT];
    for (int r = 0; r < RN; r++)
        for (int t = 0; t < RT; t++) a[r][t] = vdupq_n_f32(0.0f);
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
        float32x4_t xv[N_RT];
        for (int t = 0; t < RT; t++) xv[t] = vld1q_f32(x + t * ldx + k);
        for (int r = 0; r < RN; r++) {
            float32x4_t wv = w4(W, WT, (n + r) * K + k);
            for (int t = 0; t < RT; t++) a[r][t] = vfmaq_f32(a[r][t], wv, xv[t]);
        }
    }
    if (k < K) {
        float32x4_t xv[N_RT];
        for (int t = 0; t < RT; t++) {
            float buf[4] = {0};
            memcpy(buf, x + t * ldx + k, (size_t)(K - k) * 4);
            xv[t] = vld1q_f32(buf);
        }
        for (int r = 0; r < RN; r++) {
            float32x4_t wv = w4_tail(W, WT, (n + r) * K + k, K - k);
            for (int t = 0; t < RT; t++) a[r][t] = vfmaq_f32(a[r][t], wv, xv[t]);
        }
    }
    for (int t = 0; t < RT; t++)
        for (int r = 0; r < RN; r++) y[t * ldy + n + r] = vaddvq_f32(a[r][t]);
}

#define FTILES(WT, sfx)                                                                                              \
    static void fmain_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y, int64_t ldy) { \
        ftile(x, ldx, K, W, WT, n, y, ldy, N_RN, N_RT);                                                              \
    }                                                                                                                \
    static void ftok_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y, int64_t ldy) {  \
        ftile(x, ldx, K, W, WT, n, y, ldy, N_RN, 1);                                                                 \
    }                                                                                                                \
    static void frows_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y, int64_t ldy) { \
        ftile(x, ldx, K, W, WT, n, y, ldy, 1, N_RT);                                                                 \
    }                                                                                                                \
    static void frow_##sfx(const float *x, int64_t ldx, int64_t K, const void *W, int64_t n, float *y, int64_t ldy) {  \
        ftile(x, ldx, K, W, WT, n, y, ldy, 1, 1);                                                                    \
    }
FTILES(PHI_TYPE_F32, f32)
FTILES(PHI_TYPE_BF16, bf16)
FTILES(PHI_TYPE_F16, f16)

typedef void (*ftile_fn)(const float *, int64_t, int64_t, const void *, int64_t, float *, int64_t);

HIDDEN void phi_gemm_neon(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype, float *y,
                          int64_t ldy, int64_t n0, int64_t n1) {
    ftile_fn fm = fmain_f32, ft = ftok_f32, frs = frows_f32, fr = frow_f32;
    if (wtype == PHI_TYPE_BF16) fm = fmain_bf16, ft = ftok_bf16, frs = frows_bf16, fr = frow_bf16;
    if (wtype == PHI_TYPE_F16) fm = fmain_f16, ft = ftok_f16, frs = frows_f16, fr = frow_f16;
    int64_t TB = N_TB_BYTES / (K * 4 > 0 ? K * 4 : 1);
    TB = TB < N_RT ? N_RT : TB - TB % N_RT;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + N_RN <= n1; n += N_RN) {
            int64_t t = tb;
            for (; t + N_RT <= te; t += N_RT) fm(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) ft(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
        }
        for (; n < n1; n++) {
            int64_t t = tb;
            for (; t + N_RT <= te; t += N_RT) frs(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) fr(x + t * ldx, ldx, K, W, n, y + t * ldy, ldy);
        }
    }
}

// bf16 × bf16 (phi_gemm_bf16): both sides widen to f32. A 4-element step splits into even elements
// (shift left 16) and odd elements (clear the low half) without shuffles; both operands get the same
// permutation, so the products pair up as in the scalar reference.
static AI float32x4_t bf_even(uint32x4_t v) { return vreinterpretq_f32_u32(vshlq_n_u32(v, 16)); }
static AI float32x4_t bf_odd(uint32x4_t v) { return vreinterpretq_f32_u32(vandq_u32(v, vdupq_n_u32(0xFFFF0000u))); }
static AI uint32x4_t ld8(const uint16_t *p) { return vreinterpretq_u32_u16(vld1q_u16(p)); }

static AI void btile(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y,
                     int64_t ldy, const int RN, const int RT) {
    float32x4_t a[N_RN][N_RT];
    for (int r = 0; r < RN; r++)
        for (int t = 0; t < RT; t++) a[r][t] = vdupq_n_f32(0.0f);
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        float32x4_t xe[N_RT], xo[N_RT];
        for (int t = 0; t < RT; t++) {
            uint32x4_t v = ld8(xb + t * ldxb + k);
            xe[t] = bf_even(v);
            xo[t] = bf_odd(v);
        }
        for (int r = 0; r < RN; r++) {
            uint32x4_t v = ld8(W + (n + r) * K + k);
            float32x4_t we = bf_even(v), wo = bf_odd(v);
            for (int t = 0; t < RT; t++) a[r][t] = vfmaq_f32(a[r][t], we, xe[t]);
            for (int t = 0; t < RT; t++) a[r][t] = vfmaq_f32(a[r][t], wo, xo[t]);
        }
    }
    if (k < K) {
        // Activations are zero-padded to ldxb (a multiple of 32); weight rows are not, so copy their tails.
        for (int r = 0; r < RN; r++) {
            uint16_t buf[8] = {0};
            memcpy(buf, W + (n + r) * K + k, (size_t)(K - k) * 2);
            uint32x4_t w = ld8(buf);
            for (int t = 0; t < RT; t++) {
                uint32x4_t v = ld8(xb + t * ldxb + k);
                a[r][t] = vfmaq_f32(a[r][t], bf_even(w), bf_even(v));
                a[r][t] = vfmaq_f32(a[r][t], bf_odd(w), bf_odd(v));
            }
        }
    }
    for (int t = 0; t < RT; t++)
        for (int r = 0; r < RN; r++) y[t * ldy + n + r] = vaddvq_f32(a[r][t]);
}

static void bmain(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, N_RN, N_RT);
}
static void btok(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, N_RN, 1);
}
static void brows(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, 1, N_RT);
}
static void brow(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, 1, 1);
}

HIDDEN void phi_gemm_bf16_neon(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W, float *y,
                               int64_t ldy, int64_t n0, int64_t n1) {
    int64_t TB = N_TB_BYTES / (ldxb * 2 > 0 ? ldxb * 2 : 1);
    TB = TB < N_RT ? N_RT : TB - TB % N_RT;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + N_RN <= n1; n += N_RN) {
            int64_t t = tb;
            for (; t + N_RT <= te; t += N_RT) bmain(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) btok(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
        }
        for (; n < n1; n++) {
            int64_t t = tb;
            for (; t + N_RT <= te; t += N_RT) brows(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) brow(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
        }
    }
}
#endif
