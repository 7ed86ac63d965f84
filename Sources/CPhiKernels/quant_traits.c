// The table of weight element types (CPhiTypes.h): one row per type. A new type is a row here, its block struct
// in quant_blocks.h and its kernels; the dispatchers, the Swift DType and the GGUF reader read the row.
#include "CPhiTypes.h"
#include "quant_blocks.h"

#if defined(__x86_64__)
#define PANELS(t) {[PHI_ISA_AVX512] = phi_qpanel_##t##_avx512, [PHI_ISA_AVX2] = phi_qpanel_##t##_avx2}
#define FAST_REPACK(t) {[PHI_ISA_AVX512] = phi_qrepack_panel_##t##_avx512}
#define ACT_ROWS {[PHI_ISA_AVX512] = phi_act_row_avx512}
#elif defined(__aarch64__)
#define PANELS(t) {[PHI_ISA_NEON_DOT] = phi_qpanel_##t##_neon_dot, [PHI_ISA_NEON] = phi_qpanel_##t##_neon}
#define FAST_REPACK(t) {0}
#define ACT_ROWS {[PHI_ISA_NEON_DOT] = phi_act_row_neon, [PHI_ISA_NEON] = phi_act_row_neon}
#else
#define PANELS(t) {0}
#define FAST_REPACK(t) {0}
#define ACT_ROWS {0}
#endif

#define PLAIN(T, t, NAME, BYTES)                                                                                    \
    {.type = T, .name = NAME, .block_elements = 1, .block_bytes = BYTES, .weight = 1,                              \
     .dequantize = phi_dequantize_##t##_ref, .quantize = phi_quantize_##t##_ref}

// A type with products: its activation format (GGML vec_dot_type, aux kind, code offset, values per scale) and
// panel block bytes.
#define QUANT(T, t, NAME, QKV, ACT, KIND, OFFSET, ACTQK, PB)                                                        \
    {.type = T, .name = NAME, .block_elements = QKV, .block_bytes = sizeof(block_##t), .weight = 1,                \
     .dequantize = phi_dequantize_##t##_ref, .quantize = phi_quantize_##t##_ref, .act_type = ACT,                 \
     .act_kind = KIND, .act_offset = OFFSET, .act_block = ACTQK, .vec_dot_ref = phi_vec_dot_##t##_ref,            \
     .act_row_ref = phi_act_row_ref, .act_row = ACT_ROWS, .panel_block_bytes = PB,                                  \
     .repack_block = phi_repack_##t, .unpack_block = phi_unpack_##t, .panel = PANELS(t),                          \
     .repack_panel = FAST_REPACK(t)}

// In id order.
static const phi_type_traits rows[] = {
    PLAIN(PHI_TYPE_F32, f32, "F32", 4),
    PLAIN(PHI_TYPE_F16, f16, "F16", 2),
    QUANT(PHI_TYPE_Q4_0, q4_0, "Q4_0", QK, PHI_TYPE_Q8_0, PHI_ACT_Q8_0_BIAS32, 8, QK, 288),
    QUANT(PHI_TYPE_Q4_1, q4_1, "Q4_1", QK, PHI_TYPE_Q8_1, PHI_ACT_Q8_1_SUM32, 0, QK, 320),
    QUANT(PHI_TYPE_Q5_0, q5_0, "Q5_0", QK, PHI_TYPE_Q8_0, PHI_ACT_Q8_0_BIAS32, 16, QK, 352),
    QUANT(PHI_TYPE_Q8_0, q8_0, "Q8_0", QK, PHI_TYPE_Q8_0, PHI_ACT_Q8_0_BIAS32, 128, QK, 544),
    QUANT(PHI_TYPE_Q4_K, q4_K, "Q4_K", QKK, PHI_TYPE_Q8_K, PHI_ACT_Q8_K_SUM32, 0, QKK, 2368),
    QUANT(PHI_TYPE_Q5_K, q5_K, "Q5_K", QKK, PHI_TYPE_Q8_K, PHI_ACT_Q8_K_SUM32, 0, QKK, 2880),
    QUANT(PHI_TYPE_Q6_K, q6_K, "Q6_K", QKK, PHI_TYPE_Q8_K, PHI_ACT_Q8_K_BIAS16, 32, QKK, 3360),
    // Q8_K: the K-quants' activation format as GGML stores it (blocks and reference functions only).
    {.type = PHI_TYPE_Q8_K, .name = "Q8_K", .block_elements = QKK, .block_bytes = sizeof(block_q8_K),
     .dequantize = phi_dequantize_q8_K_ref, .quantize = phi_quantize_q8_K_ref},
    {.type = PHI_TYPE_BF16, .name = "BF16", .block_elements = 1, .block_bytes = 2, .weight = 1,
     .dequantize = phi_dequantize_bf16_ref, .quantize = phi_quantize_bf16_ref},
};

int phi_type_traits_count(void) { return (int)(sizeof rows / sizeof rows[0]); }

const phi_type_traits *phi_type_traits_at(int i) { return i >= 0 && i < phi_type_traits_count() ? &rows[i] : 0; }

const phi_type_traits *phi_type_traits_of(int type) {
    for (int i = 0; i < phi_type_traits_count(); i++)
        if (rows[i].type == type) return &rows[i];
    return 0;
}
