// The one dispatch of the quantized kernels: every entry point looks its type up in the table (quant_traits.c) and
// calls the best kernel this CPU runs (AVX-512 VNNI → AVX2 on x86-64, NEON dot → NEON on aarch64), falling back
// to the scalar `_ref` row of the table. This file knows no type by name.
#include "CPhiKernels.h"
#include "quant_blocks.h"
#include <stdlib.h>
#include <string.h>

#define P PANEL_ROWS

// ---------------------------------------------------------------------------------------------------------------
// blocks

int64_t phi_quant_block_elements(int type) {
    const phi_type_traits *tr = phi_type_traits_of(type);
    return tr ? tr->block_elements : 0;
}

int64_t phi_quant_block_bytes(int type) {
    const phi_type_traits *tr = phi_type_traits_of(type);
    return tr ? tr->block_bytes : 0;
}

void phi_dequantize_ref(int type, const void *src, float *dst, int64_t n) {
    const phi_type_traits *tr = phi_type_traits_of(type);
    if (!tr || n <= 0 || n % tr->block_elements != 0) return;
    tr->dequantize(src, dst, n / tr->block_elements);
}

int phi_quantize_ref(int type, const float *src, void *dst, int64_t n) {
    const phi_type_traits *tr = phi_type_traits_of(type);
    if (!tr || !tr->quantize || n < 0 || n % tr->block_elements != 0 || (n > 0 && (!src || !dst))) return -1;
    if (n > 0) tr->quantize(src, dst, n / tr->block_elements);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// ISA ladder

static int isa_available(phi_isa isa) {
    const int f = phi_cpu_features();
    switch (isa) {
    case PHI_ISA_AVX512: return (f & PHI_CPU_AVX512) && (f & PHI_CPU_AVX512_VNNI);
    case PHI_ISA_AVX2: return (f & PHI_CPU_AVX2) != 0;
    case PHI_ISA_NEON_DOT: return (f & PHI_CPU_NEON) && (f & PHI_CPU_NEON_DOTPROD);
    case PHI_ISA_NEON: return (f & PHI_CPU_NEON) != 0;
    default: return 0;
    }
}

// Best first; the ISA enum lists them in that order.
static int best_isa(const void *const *column) {
    for (int isa = 0; isa < PHI_ISA_COUNT; isa++)
        if (column[isa] && isa_available((phi_isa)isa)) return isa;
    return -1;
}

// Types with products.
static const phi_type_traits *gemm_traits(int wtype) {
    const phi_type_traits *tr = phi_type_traits_of(wtype);
    return tr && tr->vec_dot_ref ? tr : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// activations (layout documented in CPhiQuant.h)

int phi_quant_activation_type(int wtype) {
    const phi_type_traits *tr = gemm_traits(wtype);
    return tr ? tr->act_type : -1;
}

int phi_quant_check(int wtype, int64_t K) {
    const phi_type_traits *tr = gemm_traits(wtype);
    return tr && K > 0 && K % tr->block_elements == 0 && K <= ((int64_t)1 << 30) ? 0 : -1;
}

// Bytes of the aux plane: int32 bias or f32 sum per 32, int16 sum per 32, int32 bias per 16.
static int64_t aux_bytes(const phi_type_traits *tr, int64_t K) {
    switch (tr->act_kind) {
    case PHI_ACT_Q8_K_SUM32: return K / 32 * 2;
    case PHI_ACT_Q8_K_BIAS16: return K / 16 * 4;
    default: return K / 32 * 4;
    }
}

static int64_t raw_row_bytes(const phi_type_traits *tr, int64_t K) { return K + 4 * (K / tr->act_block) + aux_bytes(tr, K); }

int64_t phi_quant_activation_row_bytes(int wtype, int64_t K) {
    if (phi_quant_check(wtype, K) != 0) return 0;
    return (raw_row_bytes(gemm_traits(wtype), K) + 63) / 64 * 64;
}

int phi_quantize_activations(int wtype, const float *x, int64_t ldx, int64_t T, int64_t K, void *xq, int64_t ldxq) {
    int64_t rb = phi_quant_activation_row_bytes(wtype, K);
    if (rb == 0 || T < 0 || ldx < K || ldxq < rb) return -1;
    const phi_type_traits *tr = gemm_traits(wtype);
    const int isa = best_isa((const void *const *)tr->act_row);
    const phi_act_row_fn row_fn = isa >= 0 ? tr->act_row[isa] : tr->act_row_ref;
    const int64_t raw = raw_row_bytes(tr, K);
    for (int64_t t = 0; t < T; t++) {
        uint8_t *row = (uint8_t *)xq + t * ldxq;
        row_fn(tr->act_kind, tr->act_offset, x + t * ldx, K, row);
        memset(row + raw, 0, (size_t)(rb - raw));
    }
    return 0;
}

int phi_dequantize_activations(int wtype, const void *xq, int64_t K, float *dst) {
    if (phi_quant_check(wtype, K) != 0) return -1;
    const int8_t *qs = (const int8_t *)xq;
    const uint8_t *dp = (const uint8_t *)xq + K;
    const int64_t qk = gemm_traits(wtype)->act_block;
    for (int64_t k = 0; k < K; k++) {
        float d;
        memcpy(&d, dp + 4 * (k / qk), 4);
        dst[k] = d * qs[k];
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// reference products

int phi_gemm_q_ref(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *W, float *y, int64_t ldy,
                   int64_t n0, int64_t n1) {
    if (phi_quant_check(wtype, K) != 0 || T < 0 || n0 < 0 || n1 < n0 || ldxq < phi_quant_activation_row_bytes(wtype, K))
        return -1;
    const phi_type_traits *tr = gemm_traits(wtype);
    const int64_t rowb = K / tr->block_elements * tr->block_bytes;
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = n0; n < n1; n++)
            y[t * ldy + n] = tr->vec_dot_ref((const uint8_t *)W + n * rowb, (const uint8_t *)xq + t * ldxq, K);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// repacked panels (layout in quant_repack.c)

static int64_t panel_bytes(const phi_type_traits *tr, int64_t K) { return K / tr->block_elements * tr->panel_block_bytes; }

int64_t phi_quant_repacked_bytes(int wtype, int64_t N, int64_t K) {
    if (phi_quant_check(wtype, K) != 0 || N < 0) return 0;
    return (N + P - 1) / P * panel_bytes(gemm_traits(wtype), K);
}

// Panel holding rows [row0, row0+16) ∩ [0, N) of GGML-layout W (rows past N are zero blocks).
static void repack_panel(const phi_type_traits *tr, const uint8_t *W, int64_t N, int64_t K, int64_t row0, uint8_t *o) {
    static const uint8_t zero[sizeof(block_q8_K)];
    const int64_t qk = tr->block_elements, bs = tr->block_bytes, rowb = K / qk * bs, pb = tr->panel_block_bytes;
    for (int64_t b = 0; b < K / qk; b++) {
        uint8_t *ob = o + b * pb;
        memset(ob, 0, (size_t)pb);
        for (int r = 0; r < P; r++) tr->repack_block(row0 + r < N ? W + (row0 + r) * rowb + b * bs : zero, r, ob);
    }
}

int phi_quant_repack(int wtype, const void *W, int64_t N, int64_t K, void *dst, int64_t n0, int64_t n1) {
    if (phi_quant_check(wtype, K) != 0 || N < 0 || n0 < 0 || n1 < n0 || n1 > N || n0 % P != 0 ||
        (n1 % P != 0 && n1 != N))
        return -1;
    const phi_type_traits *tr = gemm_traits(wtype);
    const int64_t pbytes = panel_bytes(tr, K);
    for (int64_t row0 = n0; row0 < n1; row0 += P)
        repack_panel(tr, (const uint8_t *)W, N, K, row0, (uint8_t *)dst + row0 / P * pbytes);
    return 0;
}

int phi_quant_unpack_row(int wtype, const void *Wr, int64_t K, int64_t n, void *dst) {
    if (phi_quant_check(wtype, K) != 0 || n < 0) return -1;
    const phi_type_traits *tr = gemm_traits(wtype);
    const int64_t qk = tr->block_elements, bs = tr->block_bytes, pb = tr->panel_block_bytes;
    const uint8_t *panel = (const uint8_t *)Wr + n / P * panel_bytes(tr, K);
    for (int64_t blk = 0; blk < K / qk; blk++) tr->unpack_block(panel + blk * pb, (int)(n % P), (uint8_t *)dst + blk * bs);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// drivers

static int args_ok(int wtype, int64_t ldxq, int64_t T, int64_t K, int64_t n0, int64_t n1) {
    return phi_quant_check(wtype, K) == 0 && T >= 0 && n0 >= 0 && n1 >= n0 &&
           ldxq >= phi_quant_activation_row_bytes(wtype, K);
}

// Tokens per pass: the activations of one pass stay in L2 while the panels stream past.
static int64_t token_block(int64_t ldxq) {
    int64_t tb = (512 * 1024) / ldxq;
    return tb < 8 ? 8 : tb;
}

// Rows [n0, n1), panel by panel, tokens in blocks of token_block (kept in L2 while the panels stream past).
// Repacked weights: a block of tokens meets every panel in turn. GGML-layout weights: each panel is repacked once
// into `scratch` (by the ISA's own repacker when it has one) and meets every token block. Both call the panel
// kernel on the same (panel, token block) pairs, so both give bit-identical results: a model may switch from GGML
// rows to repacked panels between two tokens (background repacking after load) without changing any output.
static void drive(const phi_type_traits *tr, int isa, const uint8_t *xq, int64_t ldxq, int64_t T, int64_t K, float *y,
                  int64_t ldy, int64_t n0, int64_t n1, const uint8_t *Wr, const uint8_t *W, uint8_t *scratch) {
    const phi_panel_fn fn = tr->panel[isa];
    const phi_repack_panel_fn fast_repack = tr->repack_panel[isa];
    const int64_t pbytes = panel_bytes(tr, K), TB = token_block(ldxq);
    const int64_t blocks = Wr ? (T + TB - 1) / TB : 1, inner = Wr ? 1 : (T + TB - 1) / TB;
    for (int64_t ob = 0; ob < blocks; ob++) {
        for (int64_t row0 = n0 / P * P; row0 < n1; row0 += P) {
            const uint8_t *panel = scratch;
            if (Wr) {
                panel = Wr + row0 / P * pbytes;
            } else {
                const int nrows = (int)(n1 - row0 < P ? n1 - row0 : P);
                const int64_t rowb = K / tr->block_elements * tr->block_bytes;
                if (!fast_repack || fast_repack(W + row0 * rowb, rowb, nrows, K, scratch) != 0)
                    repack_panel(tr, W, row0 + nrows, K, row0, scratch);
            }
            const int r0 = row0 < n0 ? (int)(n0 - row0) : 0;
            const int r1 = row0 + P > n1 ? (int)(n1 - row0) : P;
            for (int64_t ib = 0; ib < inner; ib++) {
                const int64_t tb = (ob + ib) * TB, tn = T - tb < TB ? T - tb : TB;
                fn(panel, K, xq + tb * ldxq, ldxq, tn, y + tb * ldy + row0, ldy, r0, r1);
            }
        }
    }
}

int phi_gemm_q(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *W, float *y, int64_t ldy,
               int64_t n0, int64_t n1) {
    if (!args_ok(wtype, ldxq, T, K, n0, n1)) return -1;
    const phi_type_traits *tr = gemm_traits(wtype);
    const int isa = best_isa((const void *const *)tr->panel);
    if (isa < 0 || T == 0 || n0 == n1) return phi_gemm_q_ref(wtype, xq, ldxq, T, K, W, y, ldy, n0, n1);
    uint8_t *scratch = (uint8_t *)malloc((size_t)panel_bytes(tr, K));
    if (!scratch) return phi_gemm_q_ref(wtype, xq, ldxq, T, K, W, y, ldy, n0, n1);
    drive(tr, isa, (const uint8_t *)xq, ldxq, T, K, y, ldy, n0, n1, NULL, (const uint8_t *)W, scratch);
    free(scratch);
    return 0;
}

int phi_gemm_q_repacked(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *Wr, float *y,
                        int64_t ldy, int64_t n0, int64_t n1) {
    if (!args_ok(wtype, ldxq, T, K, n0, n1)) return -1;
    const phi_type_traits *tr = gemm_traits(wtype);
    const int isa = best_isa((const void *const *)tr->panel);
    if (isa >= 0) {
        drive(tr, isa, (const uint8_t *)xq, ldxq, T, K, y, ldy, n0, n1, (const uint8_t *)Wr, NULL, NULL);
        return 0;
    }
    // Scalar: one row at a time back in GGML layout.
    const int64_t rowb = K / tr->block_elements * tr->block_bytes;
    uint8_t *row = (uint8_t *)malloc((size_t)rowb);
    if (!row) return -1;
    for (int64_t n = n0; n < n1; n++) {
        phi_quant_unpack_row(wtype, Wr, K, n, row);
        phi_gemm_q_ref(wtype, xq, ldxq, T, K, row, y + n, ldy, 0, 1);
    }
    free(row);
    return 0;
}

// Takes the next rows [*n0, *n0 + size) from *counter: guided self-scheduling in whole panels, chunks shrinking
// from a third of each thread's share towards 32 rows, so the threads finish together. Returns the size (0: done).
static int64_t take_panels(int64_t *counter, int64_t N, int64_t threads, int64_t *n0) {
    int64_t cur = __atomic_load_n(counter, __ATOMIC_RELAXED);
    for (;;) {
        if (cur >= N) return 0;
        int64_t size = (N - cur) / (3 * threads) / P * P;
        if (size < 2 * P) size = 2 * P;
        if (size > N - cur) size = N - cur;
        if (__atomic_compare_exchange_n(counter, &cur, cur + size, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            *n0 = cur;
            return size;
        }
    }
}

int phi_gemm_q_repacked_chunks(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *Wr,
                               float *y, int64_t ldy, int64_t N, int64_t threads, int64_t *counter) {
    if (!args_ok(wtype, ldxq, T, K, 0, N)) return -1;
    if (threads < 1) threads = 1;
    int64_t n0 = 0, size;
    while ((size = take_panels(counter, N, threads, &n0)) > 0)
        if (phi_gemm_q_repacked(wtype, xq, ldxq, T, K, Wr, y, ldy, n0, n0 + size) != 0) return -1;
    return 0;
}

