// GGML block formats: reference dequantizers and quantizers (ports of ggml-quants.c, bit-exact), the
// quantized-activation formats and the scalar reference products, one function per type. This file is the spec
// for the ISA kernels; the table in quant_traits.c binds them to their types.
#include "CPhiQuant.h"
#include "quant_blocks.h"
#include "quant_xrow.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// GGML's reference arithmetic is plain f32 multiply and add: never fuse them (gcc: -ffp-contract=off).
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#define GROUP_MAX_EPS 1e-15f
// ---------------------------------------------------------------------------------------------------------------
// half precision

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float phi_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0) {
        float v = (float)mant * (1.0f / 16777216.0f); // exact: subnormal halves are multiples of 2^-24
        return sign ? -v : v;
    }
    if (exp == 31) return u2f(sign | 0x7F800000u | (mant << 13));
    return u2f(sign | ((exp + 112) << 23) | (mant << 13));
}

// Round to nearest even, like F16C's vcvtps2ph and numpy's astype(float16): overflow gives infinity, NaN stays NaN.
uint16_t phi_f32_to_f16(float f) {
    uint32_t x = f2u(f), sign = (x >> 16) & 0x8000, ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00);
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00); // >= 65520 rounds to infinity
    if (ax < 0x38800000u) {                                    // below 2^-14: a multiple of 2^-24 after rounding
        float v = u2f(ax) * 16777216.0f;                       // exact scaling by 2^24
        float r = (v + 8388608.0f) - 8388608.0f;               // round to an integer, ties to even (v < 2^10)
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t mant = ax & 0x7FFFFF, e = (ax >> 23) - 112;       // rebias 127 -> 15
    uint32_t h = (e << 10) | (mant >> 13), rest = mant & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;     // carries into the exponent correctly
    return (uint16_t)(sign | h);
}

static inline float h2f(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return phi_f16_to_f32(h); }
static inline void f2h(uint8_t *p, float f) { uint16_t h = phi_f32_to_f16(f); memcpy(p, &h, 2); }


// ---------------------------------------------------------------------------------------------------------------
// dequantization (ggml dequantize_row_*)

static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void phi_dequantize_f32_ref(const void *src, float *y, int64_t n) { memcpy(y, src, (size_t)n * 4); }

void phi_dequantize_f16_ref(const void *src, float *y, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < n; i++) y[i] = h2f(b + 2 * i);
}

void phi_dequantize_bf16_ref(const void *src, float *y, int64_t n) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, b + 2 * i, 2);
        y[i] = u2f((uint32_t)h << 16);
    }
}

void phi_dequantize_q4_0_ref(const void *src, float *y, int64_t nb) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < nb; i++, b += sizeof(block_q4_0), y += QK) {
        const float d = h2f(b + OFF(block_q4_0, d));
        const uint8_t *qs = b + OFF(block_q4_0, qs);
        for (int j = 0; j < 16; j++) {
            y[j] = ((qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }
}

void phi_dequantize_q4_1_ref(const void *src, float *y, int64_t nb) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < nb; i++, b += sizeof(block_q4_1), y += QK) {
        const float d = h2f(b + OFF(block_q4_1, d)), m = h2f(b + OFF(block_q4_1, m));
        const uint8_t *qs = b + OFF(block_q4_1, qs);
        for (int j = 0; j < 16; j++) {
            y[j] = (qs[j] & 0x0F) * d + m;
            y[j + 16] = (qs[j] >> 4) * d + m;
        }
    }
}

void phi_dequantize_q5_0_ref(const void *src, float *y, int64_t nb) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < nb; i++, b += sizeof(block_q5_0), y += QK) {
        const float d = h2f(b + OFF(block_q5_0, d));
        const uint8_t *qs = b + OFF(block_q5_0, qs);
        uint32_t qh;
        memcpy(&qh, b + OFF(block_q5_0, qh), 4);
        for (int j = 0; j < 16; j++) {
            const int32_t x0 = ((qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10)) - 16;
            const int32_t x1 = ((qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
            y[j] = x0 * d;
            y[j + 16] = x1 * d;
        }
    }
}

void phi_dequantize_q8_0_ref(const void *src, float *y, int64_t nb) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < nb; i++, b += sizeof(block_q8_0), y += QK) {
        const float d = h2f(b + OFF(block_q8_0, d));
        for (int j = 0; j < 32; j++) y[j] = (int8_t)b[OFF(block_q8_0, qs) + j] * d;
    }
}

void phi_dequantize_q8_K_ref(const void *src, float *y, int64_t nb) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < nb; i++, b += sizeof(block_q8_K), y += QKK) {
        float d;
        memcpy(&d, b + OFF(block_q8_K, d), 4);
        for (int j = 0; j < QKK; j++) y[j] = d * (int8_t)b[OFF(block_q8_K, qs) + j];
    }
}

// Q4_K and Q5_K share everything but the 5th bit.
static void dequantize_q45_K(const uint8_t *b, float *y, int64_t nb, int five) {
    const int64_t bs = five ? (int64_t)sizeof(block_q5_K) : (int64_t)sizeof(block_q4_K);
    for (int64_t i = 0; i < nb; i++, b += bs) {
        const float d = h2f(b + OFF(block_q4_K, d)), min = h2f(b + OFF(block_q4_K, dmin));
        const uint8_t *sc = b + OFF(block_q4_K, scales), *qh = b + OFF(block_q5_K, qh);
        const uint8_t *ql = five ? b + OFF(block_q5_K, qs) : b + OFF(block_q4_K, qs);
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < QKK; j += 64, is += 2, ql += 32) {
            uint8_t s, m;
            scale_min_k4(is, sc, &s, &m);
            const float d1 = d * s, m1 = min * m;
            scale_min_k4(is + 1, sc, &s, &m);
            const float d2 = d * s, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (five && (qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (five && (qh[l] & u2) ? 16 : 0)) - m2;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
    }
}
void phi_dequantize_q4_K_ref(const void *src, float *y, int64_t nb) { dequantize_q45_K(src, y, nb, 0); }
void phi_dequantize_q5_K_ref(const void *src, float *y, int64_t nb) { dequantize_q45_K(src, y, nb, 1); }

void phi_dequantize_q6_K_ref(const void *src, float *y, int64_t nb) {
    const uint8_t *b = (const uint8_t *)src;
    for (int64_t i = 0; i < nb; i++, b += sizeof(block_q6_K)) {
        const float d = h2f(b + OFF(block_q6_K, d));
        const uint8_t *ql = b + OFF(block_q6_K, ql), *qh = b + OFF(block_q6_K, qh);
        const int8_t *sc = (const int8_t *)(b + OFF(block_q6_K, scales));
            for (int n128 = 0; n128 < QKK; n128 += 128, y += 128, ql += 64, qh += 32, sc += 8) {
                for (int l = 0; l < 32; l++) {
                    const int is = l / 16;
                    const int8_t q1 = (int8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    const int8_t q3 = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[is] * q1;
                    y[l + 32] = d * sc[is + 2] * q2;
                    y[l + 64] = d * sc[is + 4] * q3;
                    y[l + 96] = d * sc[is + 6] * q4;
                }
            }
        }
}

// ---------------------------------------------------------------------------------------------------------------
// quantization (ggml quantize_row_*_ref)

static inline int nearest_int(float fval) {
    float val = fval + 12582912.f;
    int i;
    memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

static inline int mini(int a, int b) { return a < b ? a : b; }
static inline int maxi(int a, int b) { return a > b ? a : b; }

static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) { // rmse_type 1, no weights
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = maxi(-nmax, mini(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            l = maxi(-nmax, mini(nmax - 1, l));
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + maxi(-nmax, mini(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                              uint8_t *Laux, float rmin, float rdelta, int nstep) { // use_mad = false
    float min = x[0], max = x[0];
    float sum_w = weights[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)maxi(0, mini(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * (x[i] - min));
            l = maxi(0, mini(nmax, l));
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

static void quantize_q4_0(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK, y += sizeof(block_q4_0)) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -8, id = d ? 1.0f / d : 0.0f;
        f2h(y + OFF(block_q4_0, d), d);
        for (int j = 0; j < 16; ++j) {
            const uint8_t xi0 = (uint8_t)mini(15, (int8_t)(x[j] * id + 8.5f));
            const uint8_t xi1 = (uint8_t)mini(15, (int8_t)(x[16 + j] * id + 8.5f));
            y[OFF(block_q4_0, qs) + j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

static void quantize_q4_1(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK, y += sizeof(block_q4_1)) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15, id = d ? 1.0f / d : 0.0f;
        f2h(y + OFF(block_q4_1, d), d);
        f2h(y + OFF(block_q4_1, m), min);
        for (int j = 0; j < 16; ++j) {
            const uint8_t xi0 = (uint8_t)mini(15, (int8_t)((x[j] - min) * id + 0.5f));
            const uint8_t xi1 = (uint8_t)mini(15, (int8_t)((x[16 + j] - min) * id + 0.5f));
            y[OFF(block_q4_1, qs) + j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

static void quantize_q5_0(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK, y += sizeof(block_q5_0)) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -16, id = d ? 1.0f / d : 0.0f;
        f2h(y + OFF(block_q5_0, d), d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            const uint8_t xi0 = (uint8_t)mini(31, (int8_t)(x[j] * id + 16.5f));
            const uint8_t xi1 = (uint8_t)mini(31, (int8_t)(x[16 + j] * id + 16.5f));
            y[OFF(block_q5_0, qs) + j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << j;
            qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
        }
        memcpy(y + OFF(block_q5_0, qh), &qh, 4);
    }
}

// Shared by the Q8_0 weight quantizer and the Q8_0-style activations: returns d before f16 rounding.
static inline float q8_0_block(const float *x, int8_t *q) {
    float amax = 0.0f;
    for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
    for (int j = 0; j < QK; ++j) q[j] = (int8_t)roundf(x[j] * id);
    return d;
}

static void quantize_q8_0(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK, y += sizeof(block_q8_0)) {
        int8_t q[QK];
        f2h(y + OFF(block_q8_0, d), q8_0_block(x, q));
        memcpy(y + OFF(block_q8_0, qs), q, QK);
    }
}

// One Q8_K block: qs, bsums (per 16) and the returned d (f32).
static inline float q8_k_block(const float *x, int8_t *qs, int16_t *bsums) {
    float max = 0, amax = 0;
    for (int j = 0; j < QKK; ++j) {
        float ax = fabsf(x[j]);
        if (ax > amax) { amax = ax; max = x[j]; }
    }
    if (!amax) {
        memset(qs, 0, QKK);
        memset(bsums, 0, QKK / 16 * sizeof(int16_t));
        return 0.0f;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < QKK; ++j) qs[j] = (int8_t)mini(127, nearest_int(iscale * x[j]));
    for (int j = 0; j < QKK / 16; ++j) {
        int sum = 0;
        for (int ii = 0; ii < 16; ++ii) sum += qs[j * 16 + ii];
        bsums[j] = (int16_t)sum;
    }
    return 1 / iscale;
}

static void quantize_q8_k(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QKK, y += sizeof(block_q8_K)) {
        int8_t qs[QKK];
        int16_t bs[16];
        float d = q8_k_block(x, qs, bs);
        memcpy(y + OFF(block_q8_K, d), &d, 4);
        memcpy(y + OFF(block_q8_K, qs), qs, QKK);
        memcpy(y + OFF(block_q8_K, bsums), bs, sizeof bs);
    }
}

// Q4_K and Q5_K share everything but the number of levels and the packing of the 5th bit.
static void quantize_q45_k(const float *x, uint8_t *y, int64_t nb, int five) {
    const int nmax = five ? 31 : 15;
    for (int64_t i = 0; i < nb; i++, x += QKK, y += five ? sizeof(block_q5_K) : sizeof(block_q4_K)) {
        uint8_t L[QKK], Laux[32], sc12[12];
        float weights[32], mins[8], scales[8], max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; ++j) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
            float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
            scales[j] = five ? make_qkx2_quants(32, 31, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.5f, 0.1f, 15)
                             : make_qkx2_quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -1.f, 0.1f, 20);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
        float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
        for (int j = 0; j < 8; ++j) {
            uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
            uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
            ls = ls < 63 ? ls : 63;
            lm = lm < 63 ? lm : 63;
            if (j < 4) {
                sc12[j] = ls;
                sc12[j + 4] = lm;
            } else {
                sc12[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
                sc12[j - 4] |= (uint8_t)((ls >> 4) << 6);
                sc12[j] |= (uint8_t)((lm >> 4) << 6);
            }
        }
        f2h(y + OFF(block_q4_K, d), max_scale / 63.f);
        f2h(y + OFF(block_q4_K, dmin), max_min / 63.f);
        memcpy(y + OFF(block_q4_K, scales), sc12, 12);
        for (int j = 0; j < 8; ++j) {
            uint8_t s, m;
            scale_min_k4(j, sc12, &s, &m);
            const float d = h2f(y + OFF(block_q4_K, d)) * s;
            if (!d) continue;
            const float dm = h2f(y + OFF(block_q4_K, dmin)) * m;
            for (int ii = 0; ii < 32; ++ii) {
                int l = nearest_int((x[32 * j + ii] + dm) / d);
                L[32 * j + ii] = (uint8_t)maxi(0, mini(nmax, l));
            }
        }
        if (!five) {
            uint8_t *q = y + OFF(block_q4_K, qs);
            for (int j = 0; j < QKK; j += 64, q += 32)
                for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        } else {
            uint8_t *qh = y + OFF(block_q5_K, qh), *ql = y + OFF(block_q5_K, qs);
            memset(qh, 0, 32);
            uint8_t m1 = 1, m2 = 2;
            for (int n = 0; n < QKK; n += 64, ql += 32) {
                for (int j = 0; j < 32; ++j) {
                    int l1 = L[n + j], l2 = L[n + j + 32];
                    if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                    if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                    ql[j] = (uint8_t)(l1 | (l2 << 4));
                }
                m1 = (uint8_t)(m1 << 2);
                m2 = (uint8_t)(m2 << 2);
            }
        }
    }
}

static void quantize_q6_k(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QKK, y += sizeof(block_q6_K)) {
        int8_t L[QKK];
        float scales[16], max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < 16; ++ib) {
            const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
            scales[ib] = scale;
            if (fabsf(scale) > max_abs_scale) { max_abs_scale = fabsf(scale); max_scale = scale; }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(y, 0, sizeof(block_q6_K));
            continue;
        }
        float iscale = -128.f / max_scale;
        f2h(y + OFF(block_q6_K, d), 1 / iscale);
        int8_t *sc = (int8_t *)(y + OFF(block_q6_K, scales));
        for (int ib = 0; ib < 16; ++ib) sc[ib] = (int8_t)mini(127, nearest_int(iscale * scales[ib]));
        for (int j = 0; j < 16; ++j) {
            float d = h2f(y + OFF(block_q6_K, d)) * sc[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearest_int(x[16 * j + ii] / d);
                L[16 * j + ii] = (int8_t)(maxi(-32, mini(31, l)) + 32);
            }
        }
        uint8_t *ql = y + OFF(block_q6_K, ql), *qh = y + OFF(block_q6_K, qh);
        for (int j = 0; j < QKK; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                  ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

// The table's quantizers (plain floats round to nearest even, as numpy and torch do).
void phi_quantize_f32_ref(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
void phi_quantize_f16_ref(const float *src, void *dst, int64_t n) {
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < n; i++) f2h(y + 2 * i, src[i]);
}
void phi_quantize_bf16_ref(const float *src, void *dst, int64_t n) {
    uint8_t *y = (uint8_t *)dst;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = f2u(src[i]);
        uint16_t h = (u & 0x7FFFFFFFu) > 0x7F800000u ? (uint16_t)((u >> 16) | 0x40)
                                                    : (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
        memcpy(y + 2 * i, &h, 2);
    }
}
void phi_quantize_q4_0_ref(const float *src, void *dst, int64_t nb) { quantize_q4_0(src, dst, nb); }
void phi_quantize_q4_1_ref(const float *src, void *dst, int64_t nb) { quantize_q4_1(src, dst, nb); }
void phi_quantize_q5_0_ref(const float *src, void *dst, int64_t nb) { quantize_q5_0(src, dst, nb); }
void phi_quantize_q8_0_ref(const float *src, void *dst, int64_t nb) { quantize_q8_0(src, dst, nb); }
void phi_quantize_q8_K_ref(const float *src, void *dst, int64_t nb) { quantize_q8_k(src, dst, nb); }
void phi_quantize_q4_K_ref(const float *src, void *dst, int64_t nb) { quantize_q45_k(src, dst, nb, 0); }
void phi_quantize_q5_K_ref(const float *src, void *dst, int64_t nb) { quantize_q45_k(src, dst, nb, 1); }
void phi_quantize_q6_K_ref(const float *src, void *dst, int64_t nb) { quantize_q6_k(src, dst, nb); }

// ---------------------------------------------------------------------------------------------------------------
// activations (layout documented in CPhiQuant.h)

void phi_act_row_ref(phi_act_kind kind, int offset, const float *x, int64_t K, uint8_t *row) {
    int8_t *qs = (int8_t *)row;
    uint8_t *dp = row + K;
    if (kind == PHI_ACT_Q8_K_SUM32 || kind == PHI_ACT_Q8_K_BIAS16) {
        uint8_t *aux = dp + 4 * (K / QKK);
        for (int64_t b = 0; b < K / QKK; b++) {
            int16_t bs[16];
            float d = q8_k_block(x + b * QKK, qs + b * QKK, bs);
            memcpy(dp + 4 * b, &d, 4);
            xrow_write_k_aux(kind, offset, bs, aux, b);
        }
        return;
    }
    uint8_t *aux = dp + 4 * (K / QK);
    for (int64_t b = 0; b < K / QK; b++) {
        int8_t *q = qs + b * QK;
        const float d = phi_f16_to_f32(phi_f32_to_f16(q8_0_block(x + b * QK, q)));
        int32_t s = 0;
        for (int j = 0; j < QK; j++) s += q[j];
        memcpy(dp + 4 * b, &d, 4);
        if (kind == PHI_ACT_Q8_1_SUM32) {
            float fs = d * (float)s;
            memcpy(aux + 4 * b, &fs, 4);
        } else {
            int32_t bias = -offset * s;
            memcpy(aux + 4 * b, &bias, 4);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// reference products: integer sums per block, scaled in f32 (the ggml vec_dot_*_generic arithmetic)

static inline float xd_at(const uint8_t *xr, int64_t K, int64_t b) {
    float xd;
    memcpy(&xd, xr + K + 4 * b, 4);
    return xd;
}

float phi_vec_dot_q4_0_ref(const uint8_t *w, const uint8_t *xr, int64_t K) {
    float acc = 0.0f;
    for (int64_t b = 0; b < K / QK; b++, w += sizeof(block_q4_0)) {
        const int8_t *x = (const int8_t *)xr + b * QK;
        const uint8_t *qs = w + OFF(block_q4_0, qs);
        int32_t sumi = 0;
        for (int j = 0; j < 16; j++) sumi += ((qs[j] & 0xF) - 8) * x[j] + ((qs[j] >> 4) - 8) * x[j + 16];
        acc += h2f(w + OFF(block_q4_0, d)) * xd_at(xr, K, b) * (float)sumi;
    }
    return acc;
}

float phi_vec_dot_q4_1_ref(const uint8_t *w, const uint8_t *xr, int64_t K) {
    float acc = 0.0f;
    for (int64_t b = 0; b < K / QK; b++, w += sizeof(block_q4_1)) {
        const int8_t *x = (const int8_t *)xr + b * QK;
        const uint8_t *qs = w + OFF(block_q4_1, qs);
        const float xd = xd_at(xr, K, b);
        int32_t sumi = 0, sumx = 0;
        for (int j = 0; j < 16; j++) sumi += (qs[j] & 0xF) * x[j] + (qs[j] >> 4) * x[j + 16];
        for (int j = 0; j < QK; j++) sumx += x[j];
        acc += h2f(w + OFF(block_q4_1, d)) * xd * (float)sumi + h2f(w + OFF(block_q4_1, m)) * (xd * (float)sumx);
    }
    return acc;
}

float phi_vec_dot_q5_0_ref(const uint8_t *w, const uint8_t *xr, int64_t K) {
    float acc = 0.0f;
    for (int64_t b = 0; b < K / QK; b++, w += sizeof(block_q5_0)) {
        const int8_t *x = (const int8_t *)xr + b * QK;
        const uint8_t *qs = w + OFF(block_q5_0, qs);
        uint32_t qh;
        memcpy(&qh, w + OFF(block_q5_0, qh), 4);
        int32_t sumi = 0;
        for (int j = 0; j < 16; j++) {
            const int32_t x0 = ((qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
            const int32_t x1 = ((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
            sumi += x0 * x[j] + x1 * x[j + 16];
        }
        acc += h2f(w + OFF(block_q5_0, d)) * xd_at(xr, K, b) * (float)sumi;
    }
    return acc;
}

float phi_vec_dot_q8_0_ref(const uint8_t *w, const uint8_t *xr, int64_t K) {
    float acc = 0.0f;
    for (int64_t b = 0; b < K / QK; b++, w += sizeof(block_q8_0)) {
        const int8_t *x = (const int8_t *)xr + b * QK;
        int32_t sumi = 0;
        for (int j = 0; j < QK; j++) sumi += (int8_t)w[OFF(block_q8_0, qs) + j] * x[j];
        acc += h2f(w + OFF(block_q8_0, d)) * xd_at(xr, K, b) * (float)sumi;
    }
    return acc;
}

static float vec_dot_q45_K(const uint8_t *w, const uint8_t *xr, int64_t K, int five) {
    const int64_t bs = five ? (int64_t)sizeof(block_q5_K) : (int64_t)sizeof(block_q4_K);
    float acc = 0.0f;
    for (int64_t b = 0; b < K / QKK; b++, w += bs) {
        const int8_t *x = (const int8_t *)xr + b * QKK;
        const float xd = xd_at(xr, K, b);
        int64_t sumi = 0, summ = 0;
        const uint8_t *qh = w + OFF(block_q5_K, qh), *ql = five ? w + OFF(block_q5_K, qs) : w + OFF(block_q4_K, qs);
        for (int j = 0; j < 8; j++) {
            uint8_t s, m;
            scale_min_k4(j, w + OFF(block_q4_K, scales), &s, &m);
            const int half = j & 1;
            const uint8_t *qb = ql + 32 * (j / 2);
            int32_t dot = 0, sx = 0;
            for (int l = 0; l < 32; l++) {
                int q = half ? qb[l] >> 4 : qb[l] & 0xF;
                if (five && (qh[l] >> j) & 1) q += 16;
                dot += q * x[32 * j + l];
                sx += x[32 * j + l];
            }
            sumi += (int64_t)s * dot;
            summ += (int64_t)m * sx;
        }
        acc += h2f(w + OFF(block_q4_K, d)) * xd * (float)sumi - h2f(w + OFF(block_q4_K, dmin)) * xd * (float)summ;
    }
    return acc;
}
float phi_vec_dot_q4_K_ref(const uint8_t *w, const uint8_t *xr, int64_t K) { return vec_dot_q45_K(w, xr, K, 0); }
float phi_vec_dot_q5_K_ref(const uint8_t *w, const uint8_t *xr, int64_t K) { return vec_dot_q45_K(w, xr, K, 1); }

float phi_vec_dot_q6_K_ref(const uint8_t *w, const uint8_t *xr, int64_t K) {
    float acc = 0.0f;
    for (int64_t b = 0; b < K / QKK; b++, w += sizeof(block_q6_K)) {
        const int8_t *x = (const int8_t *)xr + b * QKK;
        int64_t sumi = 0;
        const uint8_t *ql = w + OFF(block_q6_K, ql), *qh = w + OFF(block_q6_K, qh);
        const int8_t *sc = (const int8_t *)(w + OFF(block_q6_K, scales));
        int8_t q[QKK];
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const uint8_t a = ql[64 * h + l], c = ql[64 * h + l + 32], hb = qh[32 * h + l];
                q[128 * h + l] = (int8_t)(((a & 0xF) | ((hb & 3) << 4)) - 32);
                q[128 * h + l + 32] = (int8_t)(((c & 0xF) | (((hb >> 2) & 3) << 4)) - 32);
                q[128 * h + l + 64] = (int8_t)(((a >> 4) | (((hb >> 4) & 3) << 4)) - 32);
                q[128 * h + l + 96] = (int8_t)(((c >> 4) | (((hb >> 6) & 3) << 4)) - 32);
            }
        for (int g = 0; g < 16; g++) {
            int32_t s = 0;
            for (int j = 0; j < 16; j++) s += q[16 * g + j] * x[16 * g + j];
            sumi += (int64_t)sc[g] * s;
        }
        acc += h2f(w + OFF(block_q6_K, d)) * xd_at(xr, K, b) * (float)sumi;
    }
    return acc;
}
