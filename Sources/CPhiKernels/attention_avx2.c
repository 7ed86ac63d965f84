// AVX2+FMA causal attention: attention.c's AVX-512 scheme on 8-lane vectors. Keys are in blocks of 16 positions
// ([kvHeads][capacity/16][headDim][16], see CPhiKernels.h), so 4 queries score one block (16 keys) per step with no
// horizontal sums; steps start at the block holding j0 (the keys before j0 in it are scored, never read back).
#include "CPhiKernels.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define V256 __attribute__((target("avx2,fma,f16c")))
#define AI inline __attribute__((always_inline))
#define HIDDEN __attribute__((visibility("hidden")))
#define QB 4 /* queries per tile */

V256 static AI __m256i lane_mask(int64_t left) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(left > 8 ? 8 : left < 0 ? 0 : left)), iota);
}

// exp as in attention.c's exp512: 2^n · p(r), with p · 2^n applied in two exact halves so results
// that underflow to subnormals round once, like vscalefps.
#define PHI_VEXP_AVX2
#include "vexp.h"

V256 static AI float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

V256 static AI float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Scores of nq (≤ QB) query rows against keys [j0, j1) into s[r*lds + j], times scale.
V256 static void scores_tile(const float *const *qr, int nq, int64_t D, const float *Kt, int64_t j0,
                             int64_t j1, float scale, float *s, int64_t lds) {
    const __m256 sc = _mm256_set1_ps(scale);
    for (int64_t j = j0 - (j0 & 15); j < j1; j += 16) {
        __m256i m0 = lane_mask(j1 - j), m1 = lane_mask(j1 - j - 8);
        const int64_t j8 = j1 - j > 8 ? 8 : 0; // an all-off second vector keeps its address inside the row
        __m256 a[QB][2];
        for (int r = 0; r < QB; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
        for (int64_t d = 0; d < D; d++) {
            __m256 k0, k1;
            const float *kb = Kt + j * D + 16 * d; // the whole block is allocated (capacity is a multiple of 16)
            if (j1 - j >= 16) {
                k0 = _mm256_loadu_ps(kb);
                k1 = _mm256_loadu_ps(kb + 8);
            } else {
                k0 = _mm256_maskload_ps(kb, m0);
                k1 = _mm256_maskload_ps(kb + 8, m1);
            }
            for (int r = 0; r < QB; r++) {
                if (r >= nq) break;
                __m256 qv = _mm256_broadcast_ss(qr[r] + d);
                a[r][0] = _mm256_fmadd_ps(qv, k0, a[r][0]);
                a[r][1] = _mm256_fmadd_ps(qv, k1, a[r][1]);
            }
        }
        for (int r = 0; r < nq; r++) {
            _mm256_maskstore_ps(s + r * lds + j, m0, _mm256_mul_ps(a[r][0], sc));
            _mm256_maskstore_ps(s + r * lds + j + j8, m1, _mm256_mul_ps(a[r][1], sc));
        }
    }
}

// In place: s[j] ← exp(s[j] − max) over [j0, j1); returns the sum.
V256 static float softmax_row(float *s, int64_t j0, int64_t j1) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mx = ninf;
    for (int64_t j = j0; j < j1; j += 8) {
        __m256i m = lane_mask(j1 - j);
        __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(s + j, m), _mm256_castsi256_ps(m));
        mx = _mm256_max_ps(mx, v);
    }
    __m256 mv = _mm256_set1_ps(hmax(mx));
    __m256 sum = _mm256_setzero_ps();
    for (int64_t j = j0; j < j1; j += 8) {
        __m256i m = lane_mask(j1 - j);
        __m256 e = exp256(_mm256_sub_ps(_mm256_maskload_ps(s + j, m), mv));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
        _mm256_maskstore_ps(s + j, m, e);
        sum = _mm256_add_ps(sum, e);
    }
    return hsum(sum);
}

static inline int64_t first_key(int64_t pos, int64_t window) {
    return (window > 0 && pos + 1 > window) ? pos + 1 - window : 0;
}

HIDDEN V256 void phi_attention_avx2(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t D,
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
                for (int64_t d0 = 0; d0 < D; d0 += 32) {
                    __m256i m[4];
                    __m256 acc[4];
                    int64_t off[4]; // all-off vectors past the end of a row load from its start instead
                    for (int v = 0; v < 4; v++) {
                        m[v] = lane_mask(D - d0 - 8 * v);
                        off[v] = D - d0 - 8 * v > 0 ? 8 * v : 0;
                        acc[v] = _mm256_setzero_ps();
                    }
                    if (D - d0 >= 32) {
                        for (int64_t j = lo[r]; j < hi[r]; j++) {
                            __m256 p = _mm256_broadcast_ss(s + j);
                            const float *vr = V + j * D + d0;
                            for (int v = 0; v < 4; v++) acc[v] = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 8 * v), acc[v]);
                        }
                    } else {
                        for (int64_t j = lo[r]; j < hi[r]; j++) {
                            __m256 p = _mm256_broadcast_ss(s + j);
                            const float *vr = V + j * D + d0;
                            for (int v = 0; v < 4; v++)
                                acc[v] = _mm256_fmadd_ps(p, _mm256_maskload_ps(vr + off[v], m[v]), acc[v]);
                        }
                    }
                    __m256 iv = _mm256_set1_ps(inv[r]);
                    for (int v = 0; v < 4; v++) _mm256_maskstore_ps(o + d0 + off[v], m[v], _mm256_mul_ps(acc[v], iv));
                }
            }
        }
    }
}
#endif
