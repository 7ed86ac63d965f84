// bf16 × bf16 → f32 products with AVX512-BF16 (vdpbf16ps: 32 multiply-adds per instruction).
#include "CPhiKernels.h"
#include <pthread.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint16_t f32_to_bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40); // quiet NaN
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float bf16f(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void phi_pack_bf16(const float *x, int64_t ldx, int64_t T, int64_t K, uint16_t *xb, int64_t ldxb) {
    for (int64_t t = 0; t < T; t++) {
        const float *src = x + t * ldx;
        uint16_t *dst = xb + t * ldxb;
        for (int64_t k = 0; k < K; k++) dst[k] = f32_to_bf16_rne(src[k]);
        for (int64_t k = K; k < ldxb; k++) dst[k] = 0;
    }
}

void phi_gemm_bf16_ref(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                       float *y, int64_t ldy, int64_t n0, int64_t n1) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = n0; n < n1; n++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += bf16f(xb[t * ldxb + k]) * bf16f(W[n * K + k]);
            y[t * ldy + n] = acc;
        }
}

// Activations packed for the panel kernel: blocks of PHI_BF16_MR rows, each [k-pair][row] dwords holding
// (bf16(x[t][2p]), bf16(x[t][2p+1])) low half first; x[t][K] (odd K) and rows past T read as zero.
#ifndef PHI_BF16_MR
#define PHI_BF16_MR 12
#endif

int64_t phi_bf16_packed_rows(void) { return PHI_BF16_MR; }

// Per-thread buffers (the packed activations of the calling thread; each worker's weight panel), grown as
// needed and unmapped when the thread exits. They are mapped directly rather than malloc'ed: a multi-MiB
// block freed or kept inside the heap raises glibc's mmap threshold and pins heap pages (≈150 MiB more
// resident after a 512-token prefill when the activations were allocated fresh per matmul).
typedef struct {
    void *p;
    size_t bytes;
} phi_tbuf;

static pthread_key_t tbuf_key;
static pthread_once_t tbuf_once = PTHREAD_ONCE_INIT;
static _Thread_local phi_tbuf tl_bufs[2]; // 0: packed activations, 1: weight panel

static void tbuf_release(void *arg) {
    phi_tbuf *b = arg;
    for (int i = 0; i < 2; i++)
        if (b[i].p) munmap(b[i].p, b[i].bytes);
}
static void tbuf_key_init(void) { (void)pthread_key_create(&tbuf_key, tbuf_release); }

static void *tbuf_get(int which, size_t bytes) {
    phi_tbuf *b = &tl_bufs[which];
    if (bytes <= b->bytes) return b->p;
    (void)pthread_once(&tbuf_once, tbuf_key_init);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (b->p) munmap(b->p, b->bytes);
    b->p = p;
    b->bytes = bytes;
    (void)pthread_setspecific(tbuf_key, tl_bufs);
    return p;
}

uint32_t *phi_bf16_packed_scratch(int64_t count) {
    if (count < 1 || count > INT64_MAX / 8) return NULL;
    return tbuf_get(0, (size_t)count * 4);
}

int64_t phi_bf16_packed_count(int64_t T, int64_t K) {
    return (T + PHI_BF16_MR - 1) / PHI_BF16_MR * PHI_BF16_MR * ((K + 1) / 2);
}

static inline uint32_t packed_at(const uint32_t *ap, int64_t K2, int64_t t, int64_t p) {
    return ap[(t / PHI_BF16_MR) * PHI_BF16_MR * K2 + p * PHI_BF16_MR + t % PHI_BF16_MR];
}

void phi_pack_bf16_packed_ref(const float *x, int64_t ldx, int64_t T, int64_t K, uint32_t *ap, int64_t t0, int64_t t1) {
    int64_t K2 = (K + 1) / 2;
    int64_t end = t1 < T ? t1 : (T + PHI_BF16_MR - 1) / PHI_BF16_MR * PHI_BF16_MR; // the last block's padding too
    for (int64_t t = t0; t < end; t++)
        for (int64_t p = 0; p < K2; p++) {
            uint32_t lo = t < T ? f32_to_bf16_rne(x[t * ldx + 2 * p]) : 0;
            uint32_t hi = t < T && 2 * p + 1 < K ? f32_to_bf16_rne(x[t * ldx + 2 * p + 1]) : 0;
            ap[(t / PHI_BF16_MR) * PHI_BF16_MR * K2 + p * PHI_BF16_MR + t % PHI_BF16_MR] = lo | hi << 16;
        }
}

void phi_gemm_bf16_packed_ref(const uint32_t *ap, int64_t T, int64_t K, const uint16_t *W, float *y, int64_t ldy,
                              int64_t n0, int64_t n1) {
    int64_t K2 = (K + 1) / 2;
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = n0; n < n1; n++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < K2; p++) {
                uint32_t v = packed_at(ap, K2, t, p);
                acc += bf16f((uint16_t)v) * bf16f(W[n * K + 2 * p]);
                if (2 * p + 1 < K) acc += bf16f((uint16_t)(v >> 16)) * bf16f(W[n * K + 2 * p + 1]);
            }
            y[t * ldy + n] = acc;
        }
}

#if defined(__x86_64__)
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

BF16 static inline __m512bh wload(const uint16_t *p, __mmask32 m) {
    return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}
BF16 static inline __m512bh xload(const uint16_t *p) { return (__m512bh)_mm512_loadu_si512(p); }
BF16 static inline __mmask32 kmask(int64_t left) {
    return left >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
}

// RN weight rows × RT tokens of accumulators; constant arguments let the compiler keep them in registers.
BF16 static inline __attribute__((always_inline)) void btile(const uint16_t *xb, int64_t ldxb, int64_t K,
                                                          const uint16_t *W, int64_t n, float *y, int64_t ldy,
                                                          const int RN, const int RT) {
    __m512 a[8][8];
    for (int r = 0; r < RN; r++)
        for (int t = 0; t < RT; t++) a[r][t] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512bh x[8];
        for (int t = 0; t < RT; t++) x[t] = xload(xb + t * ldxb + k);
        for (int r = 0; r < RN; r++) {
            __m512bh w = (__m512bh)_mm512_loadu_si512(W + (n + r) * K + k);
            for (int t = 0; t < RT; t++) a[r][t] = _mm512_dpbf16_ps(a[r][t], w, x[t]);
        }
    }
    if (k < K) {
        __mmask32 m = kmask(K - k);
        __m512bh x[8];
        for (int t = 0; t < RT; t++) x[t] = xload(xb + t * ldxb + k);
        for (int r = 0; r < RN; r++) {
            __m512bh w = wload(W + (n + r) * K + k, m);
            for (int t = 0; t < RT; t++) a[r][t] = _mm512_dpbf16_ps(a[r][t], w, x[t]);
        }
    }
    if (RT == 4) {
        // Four sums at once per row: fold 512 → 256 bits, then pairwise horizontal adds (≈17 ops instead of 40).
        for (int r = 0; r < RN; r++) {
            __m256 h[4];
            for (int t = 0; t < 4; t++)
                h[t] = _mm256_add_ps(_mm512_castps512_ps256(a[r][t]),
                                     _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[r][t]), 1)));
            __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
            __m128 v = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
            float out[4];
            _mm_storeu_ps(out, v);
            for (int t = 0; t < 4; t++) y[t * ldy + n + r] = out[t];
        }
        return;
    }
    for (int t = 0; t < RT; t++)
        for (int r = 0; r < RN; r++) y[t * ldy + n + r] = _mm512_reduce_add_ps(a[r][t]);
}

#ifndef PHI_TB_BYTES
#define PHI_TB_BYTES 4194304
#endif
#ifndef PHI_BF16_RN
#define PHI_BF16_RN 6
#endif
#ifndef PHI_BF16_RT
#define PHI_BF16_RT 4
#endif
BF16 static void bmain(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, PHI_BF16_RN, PHI_BF16_RT);
}
BF16 static void btail(const uint16_t *xb, int64_t ldxb, int64_t K, const uint16_t *W, int64_t n, float *y, int64_t ldy) {
    btile(xb, ldxb, K, W, n, y, ldy, PHI_BF16_RN, 1);
}

BF16 static void b4x1(const uint16_t *xb, int64_t K, const uint16_t *W, int64_t n, float *y) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    const uint16_t *w0 = W + n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    for (int64_t k = 0; k < K; k += 32) {
        __mmask32 m = kmask(K - k);
        __m512bh x = xload(xb + k);
        a0 = _mm512_dpbf16_ps(a0, wload(w0 + k, m), x);
        a1 = _mm512_dpbf16_ps(a1, wload(w1 + k, m), x);
        a2 = _mm512_dpbf16_ps(a2, wload(w2 + k, m), x);
        a3 = _mm512_dpbf16_ps(a3, wload(w3 + k, m), x);
    }
    y[n] = _mm512_reduce_add_ps(a0);
    y[n + 1] = _mm512_reduce_add_ps(a1);
    y[n + 2] = _mm512_reduce_add_ps(a2);
    y[n + 3] = _mm512_reduce_add_ps(a3);
}

BF16 static void b1x1(const uint16_t *xb, int64_t K, const uint16_t *W, int64_t n, float *y) {
    __m512 a = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 32) a = _mm512_dpbf16_ps(a, wload(W + n * K + k, kmask(K - k)), xload(xb + k));
    y[n] = _mm512_reduce_add_ps(a);
}

// ---- Packed outer-product path for many rows (prefill) ----
// The weight stays where it lies (memory-mapped, [N, K] row-major). Per thread, a panel of NR = 32 weight rows
// × up to KC2 k-pairs is repacked at run time into an L2-resident buffer laid out [k-pair][32 columns] as
// dwords (two consecutive-k bf16 values), so one zmm holds 16 output columns × 2 k. The microkernel broadcasts
// one activation pair per row and issues MR × 2 vdpbf16ps per k-pair into MR × 32 f32 accumulators: no
// horizontal sums, and the panel is reused by every row of the matmul.
#ifndef PHI_BF16_KC2
#define PHI_BF16_KC2 2048 /* k-pairs per panel: 2048 × 128 B = 256 KiB */
#endif
#define PHI_BF16_NR 32

// 16×16 transpose of dwords: r[i] holds row i; on return r[i] holds column i.
BF16 static inline __attribute__((always_inline)) void tr16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    // r[4b + j] now holds, in 128-bit lane L, the 4 dwords of column (4L + ...) — combine lanes across blocks.
    for (int j = 0; j < 4; j++) {
        __m512i a = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x88);      // lanes 0,2 of r[j] | 0,2 of r[4+j]
        __m512i b = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xDD);      // lanes 1,3
        __m512i c = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x88);
        __m512i d = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xDD);
        t[j] = _mm512_shuffle_i32x4(a, c, 0x88);      // lane 0
        t[8 + j] = _mm512_shuffle_i32x4(a, c, 0xDD);  // lane 2
        t[4 + j] = _mm512_shuffle_i32x4(b, d, 0x88);  // lane 1
        t[12 + j] = _mm512_shuffle_i32x4(b, d, 0xDD); // lane 3
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

// Packs weight rows n .. n+nv (nv <= 32; missing rows are zero) and k-pairs [p0, p1) into
// out[(p - p0) * 32 + column]. A pair past the end of a row (odd K) gets a zero high half.
BF16 static void pack_panel(const uint16_t *W, int64_t K, int64_t n, int64_t nv, int64_t p0, int64_t p1,
                            uint32_t *out) {
    for (int64_t p = p0; p < p1; p += 16) {
        int64_t np = p1 - p < 16 ? p1 - p : 16;
        __mmask32 m = kmask(K - 2 * p);
        for (int half = 0; half < 2; half++) {
            __m512i r[16];
            for (int i = 0; i < 16; i++) {
                int64_t row = half * 16 + i;
                r[i] = row < nv ? _mm512_maskz_loadu_epi16(m, W + (n + row) * K + 2 * p) : _mm512_setzero_si512();
            }
            tr16(r);
            uint32_t *o = out + (p - p0) * 32 + half * 16;
            for (int64_t i = 0; i < np; i++) _mm512_storeu_si512(o + i * 32, r[i]);
        }
    }
}

// C[mr rows, 32 columns] (=|+=) A[mr rows, k-pairs 0..np) · panel. A rows are bf16 with stride lda.
// While it computes, it prefetches (into L2) one cache line per 16 k-pairs from each of the npf rows at
// pf[i] (each npf ≤ PF_MAX): the weight rows the next panel will pack, so packing does not wait on memory.
#define PF_MAX 4
BF16 static inline __attribute__((always_inline)) void ukernel(const uint16_t *a, int64_t lda, const uint32_t *b,
                                                              int64_t np, float *c, int64_t ldc, const int mr,
                                                              __mmask16 m0, __mmask16 m1, int acc,
                                                              const char *const *pf, int npf, int64_t pflen,
                                                              const int packed) {
    __m512 c0[PHI_BF16_MR], c1[PHI_BF16_MR];
    for (int r = 0; r < mr; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    const uint32_t *ar = (const uint32_t *)a;
    // Activation pair (row r, k-pair p): rows of bf16 (stride lda), or packed [p][MR rows] dwords.
    int64_t rs = packed ? 1 : lda / 2, ps = packed ? PHI_BF16_MR : 1;
    int64_t off = 0;
    for (int64_t p0 = 0; p0 < np; p0 += 16) {
        if (off < pflen) {
            for (int i = 0; i < npf; i++) _mm_prefetch(pf[i] + off, _MM_HINT_T1);
            off += 64;
        }
        int64_t pe = p0 + 16 < np ? p0 + 16 : np;
        for (int64_t p = p0; p < pe; p++) {
            __m512bh b0 = (__m512bh)_mm512_load_si512(b + p * 32);
            __m512bh b1 = (__m512bh)_mm512_load_si512(b + p * 32 + 16);
            // Packed activations are one sequential stream (48 B per k-pair, from L3 when K is large): fetch
            // 64 k-pairs ahead so other cores' traffic does not stall it (prefetches never fault past the end).
            if (packed) _mm_prefetch((const char *)(ar + (p + 64) * PHI_BF16_MR), _MM_HINT_T0);
            for (int r = 0; r < mr; r++) {
                __m512bh x = (__m512bh)_mm512_set1_epi32((int)ar[r * rs + p * ps]);
                c0[r] = _mm512_dpbf16_ps(c0[r], x, b0);
                c1[r] = _mm512_dpbf16_ps(c1[r], x, b1);
            }
        }
    }
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        if (acc) {
            c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, cr));
            c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, c0[r]);
        _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
    }
}

#define UK(MR_)                                                                                                   \
    BF16 static void uk##MR_(const uint16_t *a, int64_t lda, const uint32_t *b, int64_t np, float *c, int64_t ldc, \
                             __mmask16 m0, __mmask16 m1, int acc, const char *const *pf, int npf, int64_t pflen) { \
        ukernel(a, lda, b, np, c, ldc, MR_, m0, m1, acc, pf, npf, pflen, 0);                                      \
    }                                                                                                             \
    BF16 static void ukp##MR_(const uint16_t *a, int64_t lda, const uint32_t *b, int64_t np, float *c, int64_t ldc, \
                              __mmask16 m0, __mmask16 m1, int acc, const char *const *pf, int npf, int64_t pflen) { \
        ukernel(a, lda, b, np, c, ldc, MR_, m0, m1, acc, pf, npf, pflen, 1);                                      \
    }
UK(1) UK(2) UK(3) UK(4) UK(5) UK(6) UK(7) UK(8) UK(9) UK(10) UK(11) UK(12)
#if PHI_BF16_MR > 12
UK(13) UK(14)
#endif
typedef void (*uk_fn)(const uint16_t *, int64_t, const uint32_t *, int64_t, float *, int64_t, __mmask16, __mmask16,
                      int, const char *const *, int, int64_t);
static const uk_fn uks[] = {0, uk1, uk2, uk3, uk4, uk5, uk6, uk7, uk8, uk9, uk10, uk11, uk12,
#if PHI_BF16_MR > 12
                            uk13, uk14
#endif
};
static const uk_fn ukps[] = {0, ukp1, ukp2, ukp3, ukp4, ukp5, ukp6, ukp7, ukp8, ukp9, ukp10, ukp11, ukp12,
#if PHI_BF16_MR > 12
                             ukp13, ukp14
#endif
};


// Rows [n0, n1) of the output. After the last panel it prefetches the first panel of rows [nn0, nn1) (the
// caller's next range; empty: none).
BF16 static int gemm_bf16_panels_to(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                                    float *y, int64_t ldy, int64_t n0, int64_t n1, int packed, int64_t nn0,
                                    int64_t nn1) {
    const uk_fn *fns = packed ? ukps : uks;
    uint32_t *panel = tbuf_get(1, (size_t)PHI_BF16_KC2 * PHI_BF16_NR * 4);
    if (!panel) return 0;
    int64_t K2 = (K + 1) / 2;
    int64_t calls = (T + PHI_BF16_MR - 1) / PHI_BF16_MR;
    int rpc = (int)((PHI_BF16_NR + calls - 1) / calls); // next-panel rows to prefetch per microkernel call
    if (rpc > PF_MAX) rpc = PF_MAX;
    for (int64_t n = n0; n < n1; n += PHI_BF16_NR) {
        int64_t nv = n1 - n < PHI_BF16_NR ? n1 - n : PHI_BF16_NR;
        __mmask16 m0 = nv >= 16 ? 0xFFFF : (__mmask16)((1u << nv) - 1);
        __mmask16 m1 = nv >= 32 ? 0xFFFF : nv > 16 ? (__mmask16)((1u << (nv - 16)) - 1) : 0;
        for (int64_t p0 = 0; p0 < K2; p0 += PHI_BF16_KC2) {
            int64_t p1 = p0 + PHI_BF16_KC2 < K2 ? p0 + PHI_BF16_KC2 : K2;
            pack_panel(W, K, n, nv, p0, p1, panel);
            // The panel after this one: same rows, next k-block, or the next rows from k = 0.
            int64_t qn = n, q0 = p1, qe = n1;
            if (q0 >= K2) { qn = n + PHI_BF16_NR; q0 = 0; }
            if (qn >= n1) { qn = nn0; qe = nn1; }
            int64_t q1 = q0 + PHI_BF16_KC2 < K2 ? q0 + PHI_BF16_KC2 : K2;
            int64_t qv = qe - qn < PHI_BF16_NR ? qe - qn : PHI_BF16_NR; // rows that exist (≤ 0: none)
            int64_t pflen = (q1 - q0) * 4;
            int64_t prow = 0;
            for (int64_t t = 0; t < T; t += PHI_BF16_MR) {
                const char *pf[PF_MAX];
                int npf = 0;
                for (; npf < rpc && prow < qv; npf++, prow++) pf[npf] = (const char *)(W + (qn + prow) * K + 2 * q0);
                int mr = (int)(T - t < PHI_BF16_MR ? T - t : PHI_BF16_MR);
                const uint16_t *a = packed ? xb + 2 * (t * K2 + p0 * PHI_BF16_MR) : xb + t * ldxb + 2 * p0;
                fns[mr](a, ldxb, panel, p1 - p0, y + t * ldy + n, ldy, m0, m1, p0 > 0,
                        pf, npf, pflen);
            }
        }
    }
    return 1;
}

// Rounds 16 floats to bf16 exactly as f32_to_bf16_rne does (NaN → quiet NaN), one per dword's low half.
BF16 static inline __m512i round16(__m512 v) {
    __m512i u = _mm512_castps_si512(v);
    __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF),
                                             _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1)))), 16);
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
}

BF16 static void pack_packed_avx512(const float *x, int64_t ldx, int64_t T, int64_t K, uint32_t *ap, int64_t t0,
                                    int64_t t1) {
    int64_t K2 = (K + 1) / 2;
    if (t1 > T) t1 = T;
    for (int64_t t = t0; t < t1; t += PHI_BF16_MR) { // t0 is a block start; the last block's padding rows get zeros
        int mr = (int)(T - t < PHI_BF16_MR ? T - t : PHI_BF16_MR);
        uint32_t *blk = ap + t * K2;
        for (int64_t p = 0; p < K2; p += 16) {
            int64_t left = K - 2 * p, np = K2 - p < 16 ? K2 - p : 16;
            __mmask16 ml = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
            __mmask16 mh = left >= 32 ? 0xFFFF : left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0;
            __m512i r[16];
            for (int i = 0; i < 16; i++) {
                if (i < mr) {
                    const float *src = x + (t + i) * ldx + 2 * p;
                    __m512i lo = round16(_mm512_maskz_loadu_ps(ml, src));
                    __m512i hi = round16(_mm512_maskz_loadu_ps(mh, src + 16));
                    r[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(lo)),
                                              _mm512_cvtepi32_epi16(hi), 1);
                } else {
                    r[i] = _mm512_setzero_si512();
                }
            }
            tr16(r);
            for (int64_t i = 0; i < np; i++)
                _mm512_mask_storeu_epi32(blk + (p + i) * PHI_BF16_MR, (__mmask16)((1u << PHI_BF16_MR) - 1), r[i]);
        }
    }
}

BF16 static int gemm_bf16_panels(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                                 float *y, int64_t ldy, int64_t n0, int64_t n1, int packed) {
    return gemm_bf16_panels_to(xb, ldxb, T, K, W, y, ldy, n0, n1, packed, 0, 0);
}

#ifndef PHI_BF16_PANEL_MIN_T
#define PHI_BF16_PANEL_MIN_T 16
#endif

BF16 static void gemm_bf16_avx512(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                                  float *y, int64_t ldy, int64_t n0, int64_t n1) {
    if (T >= PHI_BF16_PANEL_MIN_T && gemm_bf16_panels(xb, ldxb, T, K, W, y, ldy, n0, n1, 0)) return;
    // A block of activations stays in L2 while every weight row streams past it once.
    int64_t TB = PHI_TB_BYTES / (ldxb * 2);
    TB = TB < PHI_BF16_RT ? PHI_BF16_RT : TB - TB % PHI_BF16_RT;
    for (int64_t tb = 0; tb < T; tb += TB) {
        int64_t te = tb + TB < T ? tb + TB : T;
        int64_t n = n0;
        for (; n + PHI_BF16_RN <= n1; n += PHI_BF16_RN) {
            int64_t t = tb;
            for (; t + PHI_BF16_RT <= te; t += PHI_BF16_RT) bmain(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
            for (; t < te; t++) btail(xb + t * ldxb, ldxb, K, W, n, y + t * ldy, ldy);
        }
        for (; n < n1; n++)
            for (int64_t t = tb; t < te; t++) b1x1(xb + t * ldxb, K, W, n, y + t * ldy);
    }
}
#endif

#if defined(__x86_64__)
void phi_gemm_bf16_avx2(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W, // gemm_avx2.c
                        float *y, int64_t ldy, int64_t n0, int64_t n1);
#elif defined(__aarch64__)
void phi_gemm_bf16_neon(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W, // gemm_neon.c
                        float *y, int64_t ldy, int64_t n0, int64_t n1);
#endif

void phi_gemm_bf16(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                   float *y, int64_t ldy, int64_t n0, int64_t n1) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512_BF16) {
        gemm_bf16_avx512(xb, ldxb, T, K, W, y, ldy, n0, n1);
        return;
    }
    if (phi_cpu_features() & PHI_CPU_AVX2) { // also AVX-512 CPUs without BF16: widen and FMA
        phi_gemm_bf16_avx2(xb, ldxb, T, K, W, y, ldy, n0, n1);
        return;
    }
#elif defined(__aarch64__)
    if (phi_cpu_features() & PHI_CPU_NEON) {
        phi_gemm_bf16_neon(xb, ldxb, T, K, W, y, ldy, n0, n1);
        return;
    }
#endif
    phi_gemm_bf16_ref(xb, ldxb, T, K, W, y, ldy, n0, n1);
}

void phi_pack_bf16_packed(const float *x, int64_t ldx, int64_t T, int64_t K, uint32_t *ap, int64_t t0, int64_t t1) {
#if defined(__x86_64__)
    if (phi_cpu_features() & PHI_CPU_AVX512_BF16) {
        pack_packed_avx512(x, ldx, T, K, ap, t0, t1);
        return;
    }
#endif
    phi_pack_bf16_packed_ref(x, ldx, T, K, ap, t0, t1);
}

int phi_gemm_bf16_prefers_packed(int64_t T) {
#if defined(__x86_64__)
    return (phi_cpu_features() & PHI_CPU_AVX512_BF16) && T >= PHI_BF16_PANEL_MIN_T;
#else
    (void)T;
    return 0;
#endif
}

// Takes the next rows [*n0, *n0 + size) from *counter: guided self-scheduling, chunks shrink from maxRows
// towards 32 as the rows run out, so the threads finish together. Returns the size (0: nothing left).
static int64_t take_rows(int64_t *counter, int64_t N, int64_t maxRows, int64_t threads, int64_t *n0) {
    int64_t cur = __atomic_load_n(counter, __ATOMIC_RELAXED);
    for (;;) {
        if (cur >= N) return 0;
        int64_t size = (N - cur) / (3 * threads) / 32 * 32;
        size = size < 32 ? 32 : size > maxRows ? maxRows : size;
        if (size > N - cur) size = N - cur;
        if (__atomic_compare_exchange_n(counter, &cur, cur + size, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            *n0 = cur;
            return size;
        }
    }
}

void phi_gemm_bf16_packed_chunks(const uint32_t *ap, int64_t T, int64_t K, const uint16_t *W, float *y,
                                 int64_t ldy, int64_t N, int64_t maxRows, int64_t threads, int64_t *counter) {
    if (maxRows < 32) maxRows = 32;
    maxRows = maxRows / 32 * 32;
    if (threads < 1) threads = 1;
    int64_t n0 = 0, size = take_rows(counter, N, maxRows, threads, &n0);
    while (size > 0) {
        int64_t nn0 = 0, nsize = take_rows(counter, N, maxRows, threads, &nn0); // taken now, so this chunk's
        int64_t n1 = n0 + size;                                                // last panel prefetches its first
#if defined(__x86_64__)
        if (!((phi_cpu_features() & PHI_CPU_AVX512_BF16) &&
              gemm_bf16_panels_to((const uint16_t *)ap, 0, T, K, W, y, ldy, n0, n1, 1, nn0, nn0 + nsize)))
#endif
            phi_gemm_bf16_packed_ref(ap, T, K, W, y, ldy, n0, n1);
        n0 = nn0;
        size = nsize;
    }
}

void phi_gemm_bf16_packed(const uint32_t *ap, int64_t T, int64_t K, const uint16_t *W, float *y, int64_t ldy,
                          int64_t n0, int64_t n1) {
#if defined(__x86_64__)
    if ((phi_cpu_features() & PHI_CPU_AVX512_BF16) &&
        gemm_bf16_panels((const uint16_t *)ap, 0, T, K, W, y, ldy, n0, n1, 1))
        return;
#endif
    phi_gemm_bf16_packed_ref(ap, T, K, W, y, ldy, n0, n1);
}
