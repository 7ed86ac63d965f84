// NEON causal attention for aarch64: attention.c's scheme on 4-lane vectors. Keys are in blocks of 16 positions
// ([kvHeads][capacity/16][headDim][16], see CPhiKernels.h), so 4 queries score 8 keys (half a block) per step
// with no horizontal sums.
// Key and head-dim tails run the same per-lane sums in scalar code, in the same order.
#include "CPhiKernels.h"
#include <math.h>
#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>

#define AI inline __attribute__((always_inline))
#define HIDDEN __attribute__((visibility("hidden")))
#define QB 4 /* queries per tile */

// exp as in attention.c's exp512: 2^n · p(r), with 2^n applied as two exact power-of-two factors so
// results that underflow to subnormals round once, like vscalefps.
#define PHI_VEXP_NEON
#include "vexp.h"

// Scores of nq (≤ QB) query rows against keys [j0, j1) into s[r*lds + j], times scale.
static void scores_tile(const float *const *qr, int nq, int64_t D, const float *Kt, int64_t j0,
                        int64_t j1, float scale, float *s, int64_t lds) {
    int64_t j = j0;
    for (; j < j1 && (j & 7); j++) // to the first half-block boundary, in the scalar tail's order
        for (int r = 0; r < nq; r++) {
            float acc = 0.0f;
            for (int64_t d = 0; d < D; d++) acc = fmaf(qr[r][d], Kt[phi_key_offset(d, j, D)], acc);
            s[r * lds + j] = acc * scale;
        }
    for (; j + 8 <= j1; j += 8) {
        float32x4_t a[QB][2];
        for (int r = 0; r < QB; r++) a[r][0] = a[r][1] = vdupq_n_f32(0.0f);
        for (int64_t d = 0; d < D; d++) {
            const float *kb = Kt + phi_key_offset(d, j, D); // 8 keys of one half-block
            float32x4_t k0 = vld1q_f32(kb), k1 = vld1q_f32(kb + 4);
            for (int r = 0; r < QB; r++) {
                if (r >= nq) break;
                a[r][0] = vfmaq_n_f32(a[r][0], k0, qr[r][d]);
                a[r][1] = vfmaq_n_f32(a[r][1], k1, qr[r][d]);
            }
        }
        for (int r = 0; r < nq; r++) {
            vst1q_f32(s + r * lds + j, vmulq_n_f32(a[r][0], scale));
            vst1q_f32(s + r * lds + j + 4, vmulq_n_f32(a[r][1], scale));
        }
    }
    for (; j < j1; j++)
        for (int r = 0; r < nq; r++) {
            float acc = 0.0f;
            for (int64_t d = 0; d < D; d++) acc = fmaf(qr[r][d], Kt[phi_key_offset(d, j, D)], acc);
            s[r * lds + j] = acc * scale;
        }
}

// In place: s[j] ← exp(s[j] − max) over [j0, j1); returns the sum.
static float softmax_row(float *s, int64_t j0, int64_t j1) {
    float mx = -INFINITY;
    int64_t j = j0;
    if (j1 - j0 >= 4) {
        float32x4_t m = vdupq_n_f32(-INFINITY);
        for (; j + 4 <= j1; j += 4) m = vmaxq_f32(m, vld1q_f32(s + j));
        mx = vmaxvq_f32(m);
    }
    for (; j < j1; j++) mx = s[j] > mx ? s[j] : mx;
    float32x4_t mv = vdupq_n_f32(mx), sum = vdupq_n_f32(0.0f);
    for (j = j0; j + 4 <= j1; j += 4) {
        float32x4_t e = exp4(vsubq_f32(vld1q_f32(s + j), mv));
        vst1q_f32(s + j, e);
        sum = vaddq_f32(sum, e);
    }
    if (j < j1) {
        float buf[4] = {0};
        memcpy(buf, s + j, (size_t)(j1 - j) * 4);
        float32x4_t e = exp4(vsubq_f32(vld1q_f32(buf), mv));
        vst1q_f32(buf, e);
        memcpy(s + j, buf, (size_t)(j1 - j) * 4);
        static const int32_t iota[4] = {0, 1, 2, 3};
        uint32x4_t keep = vcltq_s32(vld1q_s32(iota), vdupq_n_s32((int)(j1 - j)));
        sum = vaddq_f32(sum, vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(e), keep)));
    }
    return vaddvq_f32(sum);
}

static inline int64_t first_key(int64_t pos, int64_t window) {
    return (window > 0 && pos + 1 > window) ? pos + 1 - window : 0;
}

HIDDEN void phi_attention_neon(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t D,
                               const float *kcache, const float *vcache, int64_t cap, int64_t nKV, int64_t past,
                               int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1,
                               float *scratch) {
    int64_t group = nHeads / nKV;
    int64_t lds = past + T;
    for (int64_t h = h0; h < h1; h++) {
        const float *Kt = kcache + (h / group) * D * cap;
        const float *V = vcache + (h / group) * cap * D;
        for (int64_t t0 = 0; t0 < T; t0 += QB) {
            int nq = (int)(T - t0 < QB ? T - t0 : QB);
            const float *qr[QB];
            int64_t lo[QB], hi[QB];
            for (int r = 0; r < QB; r++) {
                int rr = r < nq ? r : nq - 1;
                qr[r] = q + (t0 + rr) * ldq + h * D;
                lo[r] = first_key(past + t0 + rr, window);
                hi[r] = past + t0 + rr + 1;
            }
            // Scores over the union of the rows' key ranges; each row then uses only its own range.
            scores_tile(qr, nq, D, Kt, lo[0], hi[nq - 1], scale, scratch, lds);
            float inv[QB];
            for (int r = 0; r < nq; r++) inv[r] = 1.0f / softmax_row(scratch + r * lds, lo[r], hi[r]);
            for (int r = 0; r < nq; r++) {
                float *o = out + (t0 + r) * ldo + h * D;
                const float *s = scratch + r * lds;
                int64_t d0 = 0;
                for (; d0 + 16 <= D; d0 += 16) {
                    float32x4_t acc[4];
                    for (int v = 0; v < 4; v++) acc[v] = vdupq_n_f32(0.0f);
                    for (int64_t j = lo[r]; j < hi[r]; j++) {
                        const float *vr = V + j * D + d0;
                        for (int v = 0; v < 4; v++) acc[v] = vfmaq_n_f32(acc[v], vld1q_f32(vr + 4 * v), s[j]);
                    }
                    for (int v = 0; v < 4; v++) vst1q_f32(o + d0 + 4 * v, vmulq_n_f32(acc[v], inv[r]));
                }
                for (; d0 + 4 <= D; d0 += 4) {
                    float32x4_t acc = vdupq_n_f32(0.0f);
                    for (int64_t j = lo[r]; j < hi[r]; j++) acc = vfmaq_n_f32(acc, vld1q_f32(V + j * D + d0), s[j]);
                    vst1q_f32(o + d0, vmulq_n_f32(acc, inv[r]));
                }
                for (; d0 < D; d0++) {
                    float acc = 0.0f;
                    for (int64_t j = lo[r]; j < hi[r]; j++) acc = fmaf(s[j], V[j * D + d0], acc);
                    o[d0] = acc * inv[r];
                }
            }
        }
    }
}
#endif
