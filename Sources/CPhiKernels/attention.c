// Causal attention over a KV cache. Keys are stored in blocks of 16 positions ([kvHeads][capacity/16][headDim][16],
// see CPhiKernels.h) so a block of queries scores 16 keys per vector op with no horizontal sums and reads keys
// front to back; values are [kvHeads][capacity][headDim].
// Memory stays linear in the context length: one row of scores per query in flight.
#include "CPhiKernels.h"
#include <math.h>

static void axpy_ref(float a, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static inline int64_t first_key(int64_t pos, int64_t window) {
    return (window > 0 && pos + 1 > window) ? pos + 1 - window : 0;
}

void phi_attention_ref(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim,
                       const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                       int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scores) {
    int64_t group = nHeads / nKV;
    for (int64_t h = h0; h < h1; h++) {
        const float *Kt = kcache + (h / group) * headDim * capacity;
        const float *V = vcache + (h / group) * capacity * headDim;
        for (int64_t t = 0; t < T; t++) {
            const float *qv = q + t * ldq + h * headDim;
            int64_t pos = past + t, j0 = first_key(pos, window);
            float mx = -INFINITY;
            for (int64_t j = j0; j <= pos; j++) {
                float s = 0.0f;
                for (int64_t d = 0; d < headDim; d++) s += qv[d] * Kt[phi_key_offset(d, j, headDim)];
                s *= scale;
                scores[j] = s;
                if (s > mx) mx = s;
            }
            float sum = 0.0f;
            for (int64_t j = j0; j <= pos; j++) {
                scores[j] = expf(scores[j] - mx);
                sum += scores[j];
            }
            float *o = out + t * ldo + h * headDim;
            for (int64_t d = 0; d < headDim; d++) o[d] = 0.0f;
            for (int64_t j = j0; j <= pos; j++) axpy_ref(scores[j] / sum, V + j * headDim, o, headDim);
        }
    }
}


#if defined(__x86_64__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

#define PHI_VEXP_AVX512
#include "vexp.h"

#define QB 8 /* queries per tile */

// A region to pull into L2 a few lines per loop iteration of other work. Decode reads each kv head's keys, then
// its values, then the next head's keys: left to the hardware prefetcher, every switch starts a cold stream. The
// scoring loop fetches the values it will need next, the value loop the next head's keys.
typedef struct {
    const char *p, *end;
    int64_t lines; // per step
} pf_stream;

static inline pf_stream pf_make(const float *start, int64_t floats, int64_t steps) {
    pf_stream s = {(const char *)start, (const char *)(start + floats), 0};
    if (steps > 0 && floats > 0) s.lines = (floats * 4 / 64 + steps - 1) / steps;
    return s;
}

AVX512 static inline __attribute__((always_inline)) void pf_step(pf_stream *s) {
    for (int64_t i = 0; i < s->lines && s->p < s->end; i++, s->p += 64) _mm_prefetch(s->p, _MM_HINT_T1);
}

static inline __mmask16 mask16(int64_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
}

// Scores of QB query rows against keys [j0, j1) into s[r][j] (row stride lds), times scale: 32 keys × QB rows
// per step (two key blocks share each query broadcast, QB rows share each key load). Steps start at the block
// holding j0; the keys before j0 in it are scored too (real cached positions, never read back).
// NQ (a constant after inlining) rows are computed: decode's single query does not pay for a full tile.
AVX512 static inline __attribute__((always_inline)) void scores_rows(const float *const *qr, int64_t D,
                                                                    const float *Kt, int64_t j0,
                                                                    int64_t j1, float scale, float *s, int64_t lds,
                                                                    pf_stream *pf, const int NQ) {
    for (int64_t j = j0 - (j0 & 15); j < j1; j += 32) {
        __mmask16 m0 = mask16(j1 - j), m1 = mask16(j1 - j - 16);
        __m512 a[QB][2];
        for (int r = 0; r < NQ; r++) a[r][0] = a[r][1] = _mm512_setzero_ps();
        const float *b0 = Kt + j * D, *b1 = b0 + 16 * D; // the two blocks (an all-off mask never touches b1)
        for (int64_t d = 0; d < D; d++) {
            pf_step(pf);
            __m512 k0 = _mm512_maskz_loadu_ps(m0, b0 + 16 * d);
            __m512 k1 = _mm512_maskz_loadu_ps(m1, b1 + 16 * d);
            for (int r = 0; r < NQ; r++) {
                __m512 qv = _mm512_set1_ps(qr[r][d]);
                a[r][0] = _mm512_fmadd_ps(qv, k0, a[r][0]);
                a[r][1] = _mm512_fmadd_ps(qv, k1, a[r][1]);
            }
        }
        __m512 sc = _mm512_set1_ps(scale);
        for (int r = 0; r < NQ; r++) {
            _mm512_mask_storeu_ps(s + r * lds + j, m0, _mm512_mul_ps(a[r][0], sc));
            _mm512_mask_storeu_ps(s + r * lds + j + 16, m1, _mm512_mul_ps(a[r][1], sc));
        }
    }
}

AVX512 static void scores_tile(const float *const *qr, int nq, int64_t D, const float *Kt, int64_t j0,
                               int64_t j1, float scale, float *s, int64_t lds, pf_stream *pf) {
    if (nq == 1) scores_rows(qr, D, Kt, j0, j1, scale, s, lds, pf, 1);
    else if (nq == 2) scores_rows(qr, D, Kt, j0, j1, scale, s, lds, pf, 2);
    else if (nq == 3) scores_rows(qr, D, Kt, j0, j1, scale, s, lds, pf, 3); // a kv head's 3 query heads
    else if (nq == 4) scores_rows(qr, D, Kt, j0, j1, scale, s, lds, pf, 4);
    else scores_rows(qr, D, Kt, j0, j1, scale, s, lds, pf, QB);
}

// In place: s[j] ← exp(s[j] − max) over [j0, j1); returns the sum.
AVX512 static float softmax_row(float *s, int64_t j0, int64_t j1) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t j = j0; j < j1; j += 16) {
        __mmask16 m = mask16(j1 - j);
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, s + j));
    }
    __m512 mv = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = j0; j < j1; j += 16) {
        __mmask16 m = mask16(j1 - j);
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), mv));
        e = _mm512_maskz_mov_ps(m, e);
        _mm512_mask_storeu_ps(s + j, m, e);
        sum = _mm512_add_ps(sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

// o[r] = inv[r] · Σ_j s[r][j] · V[j] for NR (≤ 4) rows over keys [j0, j1) (probabilities outside a row's own
// range are zero), 16·VN dims at a time: each value load serves every row. Up to 3 rows take 128 dims per pass
// (a 128-dim value row is read once; 24 accumulators), 4 rows 64.
AVX512 static inline __attribute__((always_inline)) void pv_rows(const float *s, int64_t lds, const float *V,
                                                                int64_t D, int64_t j0, int64_t j1, float *const *o,
                                                                const float *inv, int nr, pf_stream *pf, const int NR,
                                                                const int VN) {
    for (int64_t d0 = 0; d0 < D; d0 += 16 * VN) {
        __mmask16 m[8];
        __m512 acc[4][8];
        for (int v = 0; v < VN; v++) {
            m[v] = mask16(D - d0 - 16 * v);
            for (int r = 0; r < NR; r++) acc[r][v] = _mm512_setzero_ps();
        }
        for (int64_t j = j0; j < j1; j++) {
            pf_step(pf);
            const float *vr = V + j * D + d0;
            __m512 p[4];
            for (int r = 0; r < NR; r++) p[r] = _mm512_set1_ps(s[r * lds + j]);
            for (int v = 0; v < VN; v++) {
                const __m512 vv = _mm512_maskz_loadu_ps(m[v], vr + 16 * v);
                for (int r = 0; r < NR; r++) acc[r][v] = _mm512_fmadd_ps(p[r], vv, acc[r][v]);
            }
        }
        for (int r = 0; r < nr; r++) {
            __m512 iv = _mm512_set1_ps(inv[r]);
            for (int v = 0; v < VN; v++) _mm512_mask_storeu_ps(o[r] + d0 + 16 * v, m[v], _mm512_mul_ps(acc[r][v], iv));
        }
    }
}

AVX512 static void pv_tile(const float *s, int64_t lds, const float *V, int64_t D, int64_t j0, int64_t j1,
                           float *const *o, const float *inv, int nr, pf_stream *pf) {
    if (nr == 1) pv_rows(s, lds, V, D, j0, j1, o, inv, 1, pf, 1, 8);
    else if (nr == 2) pv_rows(s, lds, V, D, j0, j1, o, inv, 2, pf, 2, 8);
    else if (nr == 3) pv_rows(s, lds, V, D, j0, j1, o, inv, 3, pf, 3, 8);
    else pv_rows(s, lds, V, D, j0, j1, o, inv, nr, pf, 4, 4);
}

// A tile is up to QB (position, head) rows that share one kv head (grouped-query attention): every key and
// value load serves all of them. Rows run position-major, so their key ranges grow with the row index. In
// decode (one position) the tile is the group of query heads of a kv head, which reads the cache once instead
// of once per query head. Each row's arithmetic is the same whichever rows share its tile.
AVX512 static void attention_avx512(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t D,
                                    const float *kcache, const float *vcache, int64_t cap, int64_t nKV,
                                    int64_t past, int64_t window, float scale, float *out, int64_t ldo,
                                    int64_t h0, int64_t h1, float *scratch) {
    int64_t group = nHeads / nKV;
    int64_t lds = past + T;
    for (int64_t g = h0 / group; g * group < h1; g++) {
        const int64_t ha = g * group > h0 ? g * group : h0, hb = (g + 1) * group < h1 ? (g + 1) * group : h1;
        const int64_t nh = hb - ha, total = T * nh;
        const float *Kt = kcache + g * D * cap;
        const float *V = vcache + g * cap * D;
        for (int64_t i0 = 0; i0 < total; i0 += QB) {
            int nq = (int)(total - i0 < QB ? total - i0 : QB);
            const float *qr[QB];
            float *orow[QB];
            int64_t lo[QB], hi[QB];
            for (int r = 0; r < QB; r++) {
                int64_t i = i0 + (r < nq ? r : nq - 1); // missing rows repeat the last one (computed, never stored)
                int64_t t = i / nh, h = ha + i % nh;
                qr[r] = q + t * ldq + h * D;
                orow[r] = out + t * ldo + h * D;
                lo[r] = first_key(past + t, window);
                hi[r] = past + t + 1;
            }
            // Scores over the union of the rows' key ranges; each row's softmax uses only its own range and
            // zeroes the rest, so the value products can run over the union for 4 rows at once.
            int64_t ju0 = lo[0], ju1 = hi[QB - 1];
            int nc = nq <= 4 ? nq : QB; // rows computed (see scores_tile)
            // One tile per kv head (decode, short verify calls): stream its values in while scoring, and the next
            // head's keys while summing values. Longer inputs reuse each head's cache over many tiles instead.
            const int64_t ja = ju0 - (ju0 & 15), chunks = (ju1 - ja + 31) / 32;
            const int one = total <= QB;
            pf_stream pv = pf_make(V + ju0 * D, one ? (ju1 - ju0) * D : 0, chunks * D);
            const int next = one && (g + 1) * group < h1;
            pf_stream pk = pf_make(next ? Kt + D * cap + ja * D : Kt, next ? (ju1 - ja) * D : 0,
                                   (ju1 - ju0) * ((D + 127) / 128));
            scores_tile(qr, nq, D, Kt, ju0, ju1, scale, scratch, lds, &pv);
            float inv[QB];
            for (int r = 0; r < nc; r++) {
                float *s = scratch + r * lds;
                inv[r] = 1.0f / softmax_row(s, lo[r], hi[r]);
                for (int64_t j = ju0; j < lo[r]; j++) s[j] = 0.0f;
                for (int64_t j = hi[r]; j < ju1; j++) s[j] = 0.0f;
            }
            for (int r0 = 0; r0 < nq; r0 += 4) {
                int nr = nq - r0 < 4 ? nq - r0 : 4;
                pv_tile(scratch + r0 * lds, lds, V, D, ju0, ju1, orow + r0, inv + r0, nr, &pk);
            }
        }
    }
}
#endif

#if defined(__x86_64__)
void phi_attention_avx2(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim, // attention_avx2.c
                        const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                        int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scratch);
#elif defined(__aarch64__)
void phi_attention_neon(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim, // attention_neon.c
                        const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                        int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scratch);
#endif

int64_t phi_attention_scratch_count(int64_t T, int64_t past) { return 8 * (past + T); } // QB rows of scores

void phi_attention(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim,
                   const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                   int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scratch) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512) {
        attention_avx512(q, ldq, T, nHeads, headDim, kcache, vcache, capacity, nKV, past, window, scale, out, ldo,
                         h0, h1, scratch);
        return;
    }
    if (phi_cpu_features() & PHI_CPU_AVX2) {
        phi_attention_avx2(q, ldq, T, nHeads, headDim, kcache, vcache, capacity, nKV, past, window, scale, out, ldo,
                           h0, h1, scratch);
        return;
    }
#elif defined(__aarch64__)
    if (phi_cpu_features() & PHI_CPU_NEON) {
        phi_attention_neon(q, ldq, T, nHeads, headDim, kcache, vcache, capacity, nKV, past, window, scale, out, ldo,
                           h0, h1, scratch);
        return;
    }
#endif
    phi_attention_ref(q, ldq, T, nHeads, headDim, kcache, vcache, capacity, nKV, past, window, scale, out, ldo, h0,
                      h1, scratch);
}
