// GGML's block structs (bit-exact layouts; sizes checked at compile time) and the declarations of every quantized
// kernel, for the table in quant_traits.c. Internal. The ladder, one way only:
//   quant_blocks.h → quant_ref.c (the spec), quant_repack.c (panel layout), quant_avx512.c, quant_avx2.c,
//   quant_neon.c (each self-contained) → quant_traits.c (the table) → quant_dispatch.c (picks an ISA per call).
#ifndef PHI_QUANT_BLOCKS_H
#define PHI_QUANT_BLOCKS_H
#include "CPhiTypes.h"
#include <stddef.h>
#include <stdint.h>

#define QK 32   // values per block of the 32-value types
#define QKK 256 // values per K-quant super-block
#define PANEL_ROWS 16

typedef uint16_t phi_half;

typedef struct { phi_half d; uint8_t qs[QK / 2]; } block_q4_0;
typedef struct { phi_half d, m; uint8_t qs[QK / 2]; } block_q4_1;
typedef struct { phi_half d; uint8_t qh[4]; uint8_t qs[QK / 2]; } block_q5_0; // qh bit k: 5th bit of value k
typedef struct { phi_half d; int8_t qs[QK]; } block_q8_0;
typedef struct { phi_half d, dmin; uint8_t scales[12]; uint8_t qs[QKK / 2]; } block_q4_K;
typedef struct { phi_half d, dmin; uint8_t scales[12]; uint8_t qh[QKK / 8]; uint8_t qs[QKK / 2]; } block_q5_K;
typedef struct { uint8_t ql[QKK / 2]; uint8_t qh[QKK / 4]; int8_t scales[QKK / 16]; phi_half d; } block_q6_K;
typedef struct { float d; int8_t qs[QKK]; int16_t bsums[QKK / 16]; } block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block");
_Static_assert(sizeof(block_q4_1) == 20, "Q4_1 block");
_Static_assert(sizeof(block_q5_0) == 22, "Q5_0 block");
_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block");
_Static_assert(sizeof(block_q4_K) == 144, "Q4_K block");
_Static_assert(sizeof(block_q5_K) == 176, "Q5_K block");
_Static_assert(sizeof(block_q6_K) == 210, "Q6_K block");
_Static_assert(sizeof(block_q8_K) == 292, "Q8_K block");

// Byte offsets of fields, for code that reads blocks as bytes (blocks in files need not be aligned).
#define OFF(T, f) ((int64_t)offsetof(T, f))

// quant_ref.c: per-type reference functions (the spec).
#define PHI_REF_DECL(t)                                                                                            \
    void phi_dequantize_##t##_ref(const void *src, float *dst, int64_t nblocks);                                   \
    void phi_quantize_##t##_ref(const float *src, void *dst, int64_t nblocks);
PHI_REF_DECL(f32)
PHI_REF_DECL(f16)
PHI_REF_DECL(bf16)
PHI_REF_DECL(q4_0)
PHI_REF_DECL(q4_1)
PHI_REF_DECL(q5_0)
PHI_REF_DECL(q8_0)
PHI_REF_DECL(q4_K)
PHI_REF_DECL(q5_K)
PHI_REF_DECL(q6_K)
PHI_REF_DECL(q8_K)
float phi_vec_dot_q4_0_ref(const uint8_t *w, const uint8_t *xr, int64_t K);
float phi_vec_dot_q4_1_ref(const uint8_t *w, const uint8_t *xr, int64_t K);
float phi_vec_dot_q5_0_ref(const uint8_t *w, const uint8_t *xr, int64_t K);
float phi_vec_dot_q8_0_ref(const uint8_t *w, const uint8_t *xr, int64_t K);
float phi_vec_dot_q4_K_ref(const uint8_t *w, const uint8_t *xr, int64_t K);
float phi_vec_dot_q5_K_ref(const uint8_t *w, const uint8_t *xr, int64_t K);
float phi_vec_dot_q6_K_ref(const uint8_t *w, const uint8_t *xr, int64_t K);
void phi_act_row_ref(phi_act_kind kind, int offset, const float *x, int64_t K, uint8_t *row);

// quant_repack.c: panel layouts.
#define PHI_REPACK_DECL(t)                                                                                         \
    void phi_repack_##t(const uint8_t *block, int r, uint8_t *o);                                                  \
    void phi_unpack_##t(const uint8_t *o, int r, uint8_t *block);
PHI_REPACK_DECL(q4_0)
PHI_REPACK_DECL(q4_1)
PHI_REPACK_DECL(q5_0)
PHI_REPACK_DECL(q8_0)
PHI_REPACK_DECL(q4_K)
PHI_REPACK_DECL(q5_K)
PHI_REPACK_DECL(q6_K)

// Per-ISA panel kernels, one per type (quant_avx512.c, quant_avx2.c, quant_neon.c).
#define PHI_PANEL_DECL(t, isa)                                                                                     \
    void phi_qpanel_##t##_##isa(const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T,       \
                                float *y, int64_t ldy, int r0, int r1);
#define PHI_PANEL_DECL_ALL(isa)                                                                                    \
    PHI_PANEL_DECL(q4_0, isa) PHI_PANEL_DECL(q4_1, isa) PHI_PANEL_DECL(q5_0, isa) PHI_PANEL_DECL(q8_0, isa) PHI_PANEL_DECL(q4_K, isa)        \
    PHI_PANEL_DECL(q5_K, isa) PHI_PANEL_DECL(q6_K, isa)
#if defined(__x86_64__)
PHI_PANEL_DECL_ALL(avx512)
PHI_PANEL_DECL_ALL(avx2)
#define PHI_REPACK_PANEL_DECL(t)                                                                                   \
    int phi_qrepack_panel_##t##_avx512(const uint8_t *W, int64_t rowb, int nrows, int64_t K, uint8_t *o);
PHI_REPACK_PANEL_DECL(q4_0)
PHI_REPACK_PANEL_DECL(q4_1)
PHI_REPACK_PANEL_DECL(q5_0)
PHI_REPACK_PANEL_DECL(q8_0)
PHI_REPACK_PANEL_DECL(q4_K)
PHI_REPACK_PANEL_DECL(q5_K)
PHI_REPACK_PANEL_DECL(q6_K)
void phi_act_row_avx512(phi_act_kind kind, int offset, const float *x, int64_t K, uint8_t *row);
#elif defined(__aarch64__)
PHI_PANEL_DECL_ALL(neon)
PHI_PANEL_DECL_ALL(neon_dot)
void phi_act_row_neon(phi_act_kind kind, int offset, const float *x, int64_t K, uint8_t *row);
#endif

#endif
