// The planar layout of one quantized activation row (int8 values | f32 block scales | per-block aux),
// as phi_quantize_activations writes it; shared by the AVX2 and AVX-512 product kernels. Internal.
#ifndef PHI_QUANT_XROW_H
#define PHI_QUANT_XROW_H
#include <stdint.h>

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

#endif
