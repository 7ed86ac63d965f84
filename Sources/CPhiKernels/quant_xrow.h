// The planar layout of one quantized activation row (int8 values | f32 block scales | per-block aux),
// as phi_quantize_activations writes it; shared by the AVX2 and AVX-512 product kernels. Internal.
#ifndef PHI_QUANT_XROW_H
#define PHI_QUANT_XROW_H
#include <stdint.h>
#include "CPhiTypes.h"

typedef struct {
    const int8_t *qs;
    const uint8_t *d, *aux;
} xrow;

static inline __attribute__((always_inline)) xrow xr(const uint8_t *xq, int64_t ldxq, int t, int64_t K, int64_t nd) {
    xrow r;
    r.qs = (const int8_t *)(xq + t * ldxq);
    r.d = xq + t * ldxq + K;
    r.aux = r.d + 4 * nd;
    return r;
}

// The per-sub-block aux of a K-quant activation super-block b from its 16 sums of 16 values: -offset·sum
// (int32 per 16: Q6_K), or sums of 32 (int16 per pair: Q4_K, Q5_K). Shared by every activation quantizer.
static inline void xrow_write_k_aux(phi_act_kind kind, int offset, const int16_t bs[16], uint8_t *aux, int64_t b) {
    for (int j = 0; j < 16; j++) {
        if (kind == PHI_ACT_Q8_K_BIAS16) {
            const int32_t bias = -offset * bs[j];
            __builtin_memcpy(aux + 4 * (16 * b + j), &bias, 4);
        } else if (j % 2 == 0) {
            const int16_t s2 = (int16_t)(bs[j] + bs[j + 1]);
            __builtin_memcpy(aux + 2 * (8 * b + j / 2), &s2, 2);
        }
    }
}

#endif
