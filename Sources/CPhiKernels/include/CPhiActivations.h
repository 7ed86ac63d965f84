// Encoder-side elementwise kernels (SigLIP vision tower, conformer audio encoder, projectors).
// Each has a scalar twin (`*_ref`), the spec; tests compare them.
#ifndef CPHIACTIVATIONS_H
#define CPHIACTIVATIONS_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// In place: x = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))  (PyTorch gelu approximate="tanh").
void phi_gelu_tanh(float *x, int64_t n);
void phi_gelu_tanh_ref(float *x, int64_t n);
/// In place: x = 0.5·x·(1 + erf(x/√2))  (PyTorch gelu, exact).
void phi_gelu_erf(float *x, int64_t n);
void phi_gelu_erf_ref(float *x, int64_t n);
/// In place: x = x·sigmoid(x).
void phi_silu(float *x, int64_t n);
void phi_silu_ref(float *x, int64_t n);
/// LayerNorm per row of length n: y = (x − mean)/sqrt(var + eps)·w + b (biased variance; b may be NULL).
void phi_layernorm(const float *x, const float *w, const float *b, float *y, int64_t rows, int64_t n, float eps);
void phi_layernorm_ref(const float *x, const float *w, const float *b, float *y, int64_t rows, int64_t n, float eps);
/// Row-wise softmax in place over rows of length n (row stride ld), after scaling by `scale`.
void phi_softmax_rows(float *x, int64_t rows, int64_t n, int64_t ld, float scale);
void phi_softmax_rows_ref(float *x, int64_t rows, int64_t n, int64_t ld, float scale);

#ifdef __cplusplus
}
#endif
#endif
