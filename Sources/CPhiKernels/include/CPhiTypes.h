// The one table of weight element types. A row per type: block size, bytes per block, name, reference
// dequantizer and quantizer, and (for types with products) the activation format, the scalar vec-dot, the
// 16-row panel layout and the panel kernels per ISA. Every other place (the dispatchers in quant_dispatch.c,
// Swift's DType, the GGUF reader) reads this table; adding a type is a row here plus its kernels.
//
// Type ids are GGML's (`enum ggml_type`, the ids GGUF files store): an external identifier, kept as is so
// the GGUF reader needs no mapping.
#ifndef CPHITYPES_H
#define CPHITYPES_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PHI_TYPE_F32 = 0,
    PHI_TYPE_F16 = 1,
    PHI_TYPE_Q4_0 = 2,
    PHI_TYPE_Q4_1 = 3,
    PHI_TYPE_Q5_0 = 6,
    PHI_TYPE_Q8_0 = 8,
    PHI_TYPE_Q8_1 = 9,   // only as the name of Q4_1's activation format (no row)
    PHI_TYPE_Q4_K = 12,
    PHI_TYPE_Q5_K = 13,
    PHI_TYPE_Q6_K = 14,
    PHI_TYPE_Q8_K = 15,
    PHI_TYPE_BF16 = 30,
};

/// Instruction sets with their own kernel files. The dispatcher tries them best first (x86-64: AVX-512 VNNI,
/// then AVX2; aarch64: NEON with the dot product, then NEON) and falls back to the scalar `_ref` kernels.
typedef enum {
    PHI_ISA_AVX512 = 0, // F, BW, VL, DQ and VNNI
    PHI_ISA_AVX2 = 1,
    PHI_ISA_NEON_DOT = 2,
    PHI_ISA_NEON = 3,
    PHI_ISA_COUNT = 4,
} phi_isa;

/// How a type's activations are quantized (the values are GGML's vec_dot_type; the aux plane is PhiKit's):
/// Q8_0-style blocks of 32 with an int32 bias = -offset·Σqs (unsigned weight codes), Q8_1-style blocks of 32 with
/// f32 s = d·Σqs, or Q8_K blocks of 256 with int16 sums of 32 (Q4_K, Q5_K) or int32 -offset·(sums of 16) (Q6_K).
typedef enum {
    PHI_ACT_NONE = 0,
    PHI_ACT_Q8_0_BIAS32 = 1,
    PHI_ACT_Q8_1_SUM32 = 2,
    PHI_ACT_Q8_K_SUM32 = 3,
    PHI_ACT_Q8_K_BIAS16 = 4,
} phi_act_kind;

/// y = dequantized blocks; x → blocks (GGML's reference quantizer, no importance matrix).
typedef void (*phi_dequantize_fn)(const void *src, float *dst, int64_t nblocks);
typedef void (*phi_quantize_fn)(const float *src, void *dst, int64_t nblocks);
/// Σ_k W[k]·x[k] for one GGML row of K values and one quantized activation row (the spec of the products).
typedef float (*phi_vec_dot_fn)(const uint8_t *w, const uint8_t *xrow, int64_t K);
/// One activation row of K values (layout in CPhiQuant.h); `offset` is the row's act_offset.
typedef void (*phi_act_row_fn)(phi_act_kind kind, int offset, const float *x, int64_t K, uint8_t *row);
/// Row r of a panel block from / back to one GGML block (block == NULL: a zero padding row).
typedef void (*phi_repack_block_fn)(const uint8_t *block, int r, uint8_t *panel_block);
typedef void (*phi_unpack_block_fn)(const uint8_t *panel_block, int r, uint8_t *block);
/// y[t*ldy + r] for rows r0 <= r < r1 of one repacked panel, all T tokens.
typedef void (*phi_panel_fn)(const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T, float *y,
                             int64_t ldy, int r0, int r1);
/// A whole 16-row panel straight from GGML rows (row stride rowb); -1 when it cannot (the caller repacks in C).
typedef int (*phi_repack_panel_fn)(const uint8_t *W, int64_t rowb, int nrows, int64_t K, uint8_t *panel);

typedef struct {
    int type;                    // GGML id
    const char *name;            // GGML's name ("Q4_K")
    int64_t block_elements;      // values per block (1 for plain floats)
    int64_t block_bytes;         // sizeof the block struct
    int weight;                  // 1: a storage type for weights (Swift's DType has a case for it)
    phi_dequantize_fn dequantize;
    phi_quantize_fn quantize;
    // Products (all zero / NULL for types without): activation format, scalar spec, panel layout, ISA kernels.
    int act_type;                // GGML vec_dot_type
    phi_act_kind act_kind;
    int act_offset;              // the unsigned-code offset of the weights (bias kinds)
    int64_t act_block;           // values per activation scale (32 or 256)
    phi_vec_dot_fn vec_dot_ref;
    phi_act_row_fn act_row_ref;
    phi_act_row_fn act_row[PHI_ISA_COUNT];
    int64_t panel_block_bytes;   // one K-block of a 16-row panel
    phi_repack_block_fn repack_block;
    phi_unpack_block_fn unpack_block;
    phi_panel_fn panel[PHI_ISA_COUNT];
    phi_repack_panel_fn repack_panel[PHI_ISA_COUNT];
} phi_type_traits;

/// The row of a type id, or NULL for ids without one.
const phi_type_traits *phi_type_traits_of(int type);
/// Rows in id order, for walking the table (i < phi_type_traits_count()).
int phi_type_traits_count(void);
const phi_type_traits *phi_type_traits_at(int i);

#ifdef __cplusplus
}
#endif
#endif
