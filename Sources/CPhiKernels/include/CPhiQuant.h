// Quantized block formats (bit-exact GGML layouts) and their products with f32/quantized activations.
// Type ids are GGML's (ggml_type); what each type is lives in one table (CPhiTypes.h, quant_traits.c).
// Every fast path (AVX-512 VNNI/BF16, AVX2, NEON) has a scalar `_ref` twin that is the spec.
#ifndef CPHIQUANT_H
#define CPHIQUANT_H
#include <stddef.h>
#include <stdint.h>

#include "CPhiTypes.h"

#ifdef __cplusplus
extern "C" {
#endif


/// Values per block and bytes per block of a type (0 for unsupported types).
int64_t phi_quant_block_elements(int type);
int64_t phi_quant_block_bytes(int type);

/// dst[0..n) = dequantized src; n is a multiple of the type's block size. Works for every row of the type table.
void phi_dequantize_ref(int type, const void *src, float *dst, int64_t n);

/// src[0..n) f32 → blocks of `type` (the GGML reference quantizers; K-quants without importance matrix), for
/// every row of the type table. Returns 0 on success, -1 for a type without a row or a bad n.
int phi_quantize_ref(int type, const float *src, void *dst, int64_t n);

/// f16 <-> f32 (round to nearest even; the conversions the quantizers use).
float phi_f16_to_f32(uint16_t h);
uint16_t phi_f32_to_f16(float f);

// ----------------------------------------------------------------------------------------------------------------
// Products y = x · Wᵀ with W of a type whose table row has products (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K
// today) and x quantized to 8 bits.
//
// Activations are quantized exactly as GGML quantizes its vec_dot_type (same d and qs values), but stored in
// PhiKit's own planar row layout so the kernels can broadcast 4 activations at a time and find per-block sums:
//   Q4_0, Q5_0, Q8_0 → Q8_0 values:  int8 qs[K] | f32 d[K/32] (the f16 scale, widened) | int32 bias[K/32]
//                              bias = -offset·Σqs, offset 8 (Q4_0), 16 (Q5_0) or 128 (Q8_0): the offset of the
//                              unsigned weight codes (the row's act_offset)
//   Q4_1       → Q8_1 values:  int8 qs[K] | f32 d[K/32] | f32 s[K/32], s = d·Σqs (not rounded to f16)
//   Q4_K, Q5_K → Q8_K values:  int8 qs[K] | f32 d[K/256] | int16 sum32[K/32] (sums of 32 qs, = bsums pairs)
//   Q6_K       → Q8_K values:  int8 qs[K] | f32 d[K/256] | int32 bias[K/16] = -32·bsums
// Rows are zero-padded to phi_quant_activation_row_bytes (a multiple of 64). Functions returning int give 0 on
// success and -1 for an unsupported type or a K that is not a positive multiple of the weight's block size
// (nothing is read or written then).

/// The GGML vec_dot_type whose values the activations carry: Q8_0 (8) for Q4_0/Q8_0, Q8_1 (9) for Q4_1,
/// Q8_K (15) for the K-quants; -1 for other types.
int phi_quant_activation_type(int wtype);
/// 0 if `wtype` has a product kernel and K is a positive multiple of its block size, else -1.
int phi_quant_check(int wtype, int64_t K);
/// Bytes of one activation row of K values (0 when phi_quant_check fails).
int64_t phi_quant_activation_row_bytes(int wtype, int64_t K);
/// Quantizes T rows of f32 activations x (row stride ldx floats) into xq (row stride ldxq >= row bytes).
int phi_quantize_activations(int wtype, const float *x, int64_t ldx, int64_t T, int64_t K, void *xq, int64_t ldxq);
/// The values one activation row stands for (qs·d), for tests.
int phi_dequantize_activations(int wtype, const void *xq, int64_t K, float *dst);

/// y[t*ldy + n] = Σ_k x[t,k]·W[n,k] for t < T, n0 <= n < n1. W: GGML rows of K values (K/block·blockBytes
/// bytes each). No globals: callers split [n0, n1) across threads. Dispatch: AVX-512 VNNI → AVX2 → `_ref` on
/// x86-64, NEON with the ARMv8.2 dot product → NEON → `_ref` on aarch64.
/// Fast paths equal `_ref` up to f32 summation order (block sums are exact integers in both).
int phi_gemm_q(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *W, float *y, int64_t ldy,
               int64_t n0, int64_t n1);
int phi_gemm_q_ref(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *W, float *y,
                   int64_t ldy, int64_t n0, int64_t n1);

// Repacked weights: panels of 16 rows whose blocks are interleaved so one 64-byte vector holds 4 consecutive
// codes of each of the 16 rows (and the scales of the 16 rows sit together). The fast kernels read this layout
// directly; phi_gemm_q repacks panels on the fly. Same size as GGML's except Q4_K/Q5_K (+4 bytes per 256
// values: scales and mins unpacked to bytes). Rows are padded to a multiple of 16 with zero rows.
// Prefer it for decode: on the Zen 4 dev machine the repacked matvec streams at 80-100% of the read bandwidth,
// phi_gemm_q on GGML rows at 40-65% with one thread (prefill speed is the same for both). Repack once at load
// time (threads may repack disjoint panel ranges) and keep only the repacked copy. aarch64 runs NEON kernels on
// the same panels (sdot by element where the CPU has the dot product, widening multiplies otherwise; checked
// against `_ref` under qemu by tools/neon/run.sh, not yet timed on hardware).

/// Bytes of the repacked form of N rows of K values (0 when phi_quant_check fails or N < 0).
int64_t phi_quant_repacked_bytes(int wtype, int64_t N, int64_t K);
/// Writes the panels holding rows [n0, n1) of W (GGML layout, N rows) into dst (the whole repacked buffer);
/// n0 must be a multiple of 16 and n1 a multiple of 16 or N, so threads can repack disjoint panels.
int phi_quant_repack(int wtype, const void *W, int64_t N, int64_t K, void *dst, int64_t n0, int64_t n1);
/// Row n of a repacked buffer back in GGML layout (for tests and the scalar fallback).
int phi_quant_unpack_row(int wtype, const void *Wr, int64_t K, int64_t n, void *dst);
/// phi_gemm_q on repacked weights (Wr holds at least the panels covering [n0, n1)).
int phi_gemm_q_repacked(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *Wr, float *y,
                        int64_t ldy, int64_t n0, int64_t n1);

/// phi_gemm_q_repacked over all N rows, shared by `threads` callers that each run this with the same counter
/// (initially 0): they take chunks of whole panels in turn, shrinking towards the end, so a core slowed by other
/// work does not leave the others waiting. Results do not depend on who computed which rows.
int phi_gemm_q_repacked_chunks(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *Wr,
                               float *y, int64_t ldy, int64_t N, int64_t threads, int64_t *counter);

#ifdef __cplusplus
}
#endif
#endif
