// Low-level CPU kernels with per-ISA paths chosen at run time. Every fast path has a scalar twin
// (`*_ref`) that is the spec; tests compare them on ragged shapes.
#ifndef CPHIKERNELS_H
#define CPHIKERNELS_H
#include <stddef.h>
#include <stdint.h>

#include "CPhiQuant.h"
#include "CPhiActivations.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PHI_CPU_AVX2 = 1 << 0,
    PHI_CPU_AVX512 = 1 << 1,      // F, BW, VL, DQ
    PHI_CPU_AVX512_BF16 = 1 << 2,
    PHI_CPU_AVX512_VNNI = 1 << 3,
    PHI_CPU_NEON = 1 << 4,
    PHI_CPU_NEON_DOTPROD = 1 << 5, // ARMv8.2 sdot/udot (Linux: HWCAP_ASIMDDP; Apple M-series: always)
};

/// Feature bits of this CPU (PHI_CPU_*), detected once.
int phi_cpu_features(void);

/// Publishing a pointer from one thread to others (Swift's own atomics need macOS 15): the store releases
/// everything written before it, the load acquires it.
static inline void *phi_atomic_load_pointer(void *const *slot) { return __atomic_load_n(slot, __ATOMIC_ACQUIRE); }
static inline void phi_atomic_store_pointer(void **slot, void *value) { __atomic_store_n(slot, value, __ATOMIC_RELEASE); }
/// Reads bytes [0, n) of p once, as fast as the CPU can stream them (for measuring read bandwidth); returns
/// a checksum so the reads cannot be optimized away.
uint64_t phi_read_pass(const void *p, int64_t bytes);

/// Runs fn(ctx, i) for i in [0, n) on the calling thread and the persistent workers (started on first use, up
/// to threads - 1 of them), returning when all are done. Returns -1, running nothing, when another job is in
/// progress (a concurrent caller or a call from inside a job): the caller then uses another way.
typedef void (*phi_pool_fn)(void *ctx, int64_t i);
int phi_pool_run(int64_t n, phi_pool_fn fn, void *ctx, int threads);

/// Restricts the paths the dispatchers may use (a mask of PHI_CPU_*); for tests and benchmarks.
void phi_set_cpu_mask(int mask);

/// y[t*ldy + n] = sum_k x[t*ldx + k] * W[n*K + k] for t < T, n0 <= n < n1.
/// W is [N, K] row-major in `wtype`. x and y are f32. Alignment is not required.
void phi_gemm(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype,
              float *y, int64_t ldy, int64_t n0, int64_t n1);
void phi_gemm_ref(const float *x, int64_t ldx, int64_t T, int64_t K, const void *W, int wtype,
                  float *y, int64_t ldy, int64_t n0, int64_t n1);

/// bf16 weights × activations rounded to bf16 (as the reference does when it runs in bf16), f32 sums.
/// `phi_pack_bf16` rounds x [T, K] (row stride ldx) to bf16 rows of `ldxb` >= K elements, zero-padded;
/// ldxb must be a multiple of 32. `phi_gemm_bf16` then computes y = xb · Wᵀ for n0 <= n < n1 using
/// AVX512-BF16 dot products where the CPU has them, else widening to f32 with AVX2 FMA or NEON, else the
/// scalar reference `phi_gemm_bf16_ref`.
void phi_pack_bf16(const float *x, int64_t ldx, int64_t T, int64_t K, uint16_t *xb, int64_t ldxb);
void phi_gemm_bf16(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                   float *y, int64_t ldy, int64_t n0, int64_t n1);
void phi_gemm_bf16_ref(const uint16_t *xb, int64_t ldxb, int64_t T, int64_t K, const uint16_t *W,
                       float *y, int64_t ldy, int64_t n0, int64_t n1);

/// The prefill path for bf16 weights (AVX512-BF16 CPUs, `phi_gemm_bf16_prefers_packed(T)`): activations are
/// rounded to bf16 once into an interleaved layout — blocks of `phi_bf16_packed_rows()` rows, each stored
/// [k-pair][row] as dwords (bf16 of x[t][2p] in the low half, x[t][2p+1] in the high half; zero past K and past
/// T), `phi_bf16_packed_count(T, K)` dwords in all. `phi_pack_bf16_packed` fills rows [t0, t1) (t0 a multiple of
/// the block rows; t1 too, or >= T, which also zeroes the last block's padding rows).
/// `phi_gemm_bf16_packed` then computes y = x · Wᵀ for n0 <= n < n1, repacking 32-row panels of the
/// weight (which stays where it lies) into a small per-thread buffer; without AVX512-BF16 it runs the
/// scalar reference `phi_gemm_bf16_packed_ref`.
int64_t phi_bf16_packed_rows(void);
int64_t phi_bf16_packed_count(int64_t T, int64_t K);
/// A buffer of at least `count` dwords owned by the calling thread (reused by its next call, freed when it
/// exits); NULL if it cannot be allocated.
uint32_t *phi_bf16_packed_scratch(int64_t count);
int phi_gemm_bf16_prefers_packed(int64_t T);
void phi_pack_bf16_packed(const float *x, int64_t ldx, int64_t T, int64_t K, uint32_t *ap, int64_t t0, int64_t t1);
void phi_pack_bf16_packed_ref(const float *x, int64_t ldx, int64_t T, int64_t K, uint32_t *ap, int64_t t0, int64_t t1);
void phi_gemm_bf16_packed(const uint32_t *ap, int64_t T, int64_t K, const uint16_t *W, float *y, int64_t ldy,
                          int64_t n0, int64_t n1);
void phi_gemm_bf16_packed_ref(const uint32_t *ap, int64_t T, int64_t K, const uint16_t *W, float *y, int64_t ldy,
                              int64_t n0, int64_t n1);
/// The same over all N rows, for `threads` threads at once: each caller takes chunks of rows from `*counter`
/// (start it at 0) until none are left — up to `maxRows` (a multiple of 32) at first, shrinking to one 32-row
/// panel near the end so the threads finish together — and while finishing one chunk prefetches the weight
/// rows of the chunk it takes next.
void phi_gemm_bf16_packed_chunks(const uint32_t *ap, int64_t T, int64_t K, const uint16_t *W, float *y,
                                 int64_t ldy, int64_t N, int64_t maxRows, int64_t threads, int64_t *counter);

/// Keys of a KV cache are stored in blocks of PHI_KEY_BLOCK positions, [nKV][capacity/16][headDim][16]: the 16
/// keys of one dim are one vector, and a block is one contiguous run, so scoring streams through memory (a plain
/// transposed [headDim][capacity] layout reads headDim short runs a row apart, which the prefetcher cannot follow).
/// Capacity is a multiple of PHI_KEY_BLOCK. phi_key_offset: element (d, position j) within one kv head.
#define PHI_KEY_BLOCK 16
static inline int64_t phi_key_offset(int64_t d, int64_t j, int64_t headDim) {
    return (j - (j & 15)) * headDim + d * 16 + (j & 15);
}

/// Causal attention for query heads [h0, h1).
/// q: [T, nHeads*headDim] (row stride ldq); out: [T, nHeads*headDim] (row stride ldo).
/// Keys in blocks (above), kv head g at kcache + g·headDim·capacity; values [nKV][capacity][headDim]; both already
/// hold positions 0 ..< past+T.
/// Query t sits at position past+t and sees keys max(0, past+t-window+1) ... past+t (window <= 0: no window).
/// Query head h uses KV head h / (nHeads/nKV).
/// `scratch` holds at least phi_attention_scratch_count(T, past) floats.
void phi_attention(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim,
                   const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                   int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scratch);
void phi_attention_ref(const float *q, int64_t ldq, int64_t T, int64_t nHeads, int64_t headDim,
                       const float *kcache, const float *vcache, int64_t capacity, int64_t nKV, int64_t past,
                       int64_t window, float scale, float *out, int64_t ldo, int64_t h0, int64_t h1, float *scratch);

/// out[t, i] = silu(gu[t, i]) · gu[t, half + i] (fused gate_up layout [gate | up]).
void phi_silu_mul(const float *gu, float *out, int64_t rows, int64_t half);
void phi_silu_mul_ref(const float *gu, float *out, int64_t rows, int64_t half);
/// y = x / sqrt(mean(x²) + eps) · w per row of length n.
void phi_rmsnorm(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps);
void phi_rmsnorm_ref(const float *x, const float *w, float *y, int64_t rows, int64_t n, float eps);

int64_t phi_attention_scratch_count(int64_t T, int64_t past);

/// Rotary embedding in place on the first rotaryDim dims of each head (see Kernels.applyRotary): x [T, heads·headDim]
/// with row stride ld, cos/sin [T, rotaryDim]. Same arithmetic as the reference (no fused multiply-adds).
void phi_rotary(float *x, int64_t ld, int64_t T, int64_t heads, int64_t headDim, int64_t rotaryDim, int interleaved,
                const float *cos, const float *sin);
void phi_rotary_ref(float *x, int64_t ld, int64_t T, int64_t heads, int64_t headDim, int64_t rotaryDim,
                    int interleaved, const float *cos, const float *sin);


#ifdef __cplusplus
}
#endif
#endif
