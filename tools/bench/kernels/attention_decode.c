// What one decode step's attention costs per layer, with the KV cache in cache and streamed from DRAM, against the
// bytes it has to read. Decode attends one query per head over the whole cache: for Phi-4-mini at a few hundred
// positions that is a few MB per layer, read once per token per sequence, so batched decoding of several
// conversations pays it once per conversation. A benchmark, not a test:
//
//   clang -O3 -ffp-contract=off -I Sources/CPhiKernels/include -I Sources/CPhiKernels \
//       tools/bench/kernels/attention_decode.c Sources/CPhiKernels/attention*.c Sources/CPhiKernels/cpu.c \
//       -lm -o /tmp/attention_decode && /tmp/attention_decode [positions ...]
//
// Phi-4-mini's shape (24 query heads, 8 kv heads, 128 dims), one thread. "DRAM" cycles through 64 layers' caches
// (far more than the last-level cache), "cached" repeats one layer. Prints microseconds per layer call and the
// rate at which the cache's keys and values were consumed.
#include "CPhiKernels.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Best of 20 rounds over `layers` distinct caches, seconds per call.
static double best_call(const float *q, float **K, float **V, int layers, int64_t cap, int64_t past, float *out,
                        float *scratch) {
    double best = 1e9;
    for (int rep = 0; rep < 20; rep++) {
        const double t0 = now();
        for (int l = 0; l < layers; l++)
            phi_attention(q, 24 * 128, 1, 24, 128, K[l], V[l], cap, 8, past, 0, 0.088f, out, 24 * 128, 0, 24, scratch);
        const double t = (now() - t0) / layers;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv) {
    const int64_t H = 24, KV = 8, D = 128;
    const int L = 64;
    int64_t lengths[16] = {128, 384, 1024, 4096};
    int nl = 4;
    if (argc > 1) {
        nl = 0;
        for (int i = 1; i < argc && nl < 16; i++) lengths[nl++] = atoll(argv[i]);
    }
    printf("positions  cached us  DRAM us  DRAM GB/s (keys+values)\n");
    for (int c = 0; c < nl; c++) {
        const int64_t n = lengths[c] < 1 ? 1 : lengths[c];
        const int64_t cap = (n + PHI_KEY_BLOCK - 1) / PHI_KEY_BLOCK * PHI_KEY_BLOCK;
        float **K = malloc(L * sizeof(float *)), **V = malloc(L * sizeof(float *));
        for (int l = 0; l < L; l++) {
            K[l] = malloc(sizeof(float) * KV * D * cap);
            V[l] = malloc(sizeof(float) * KV * D * cap);
            for (int64_t i = 0; i < KV * D * cap; i++) {
                K[l][i] = (float)((i * 7 + l) % 13) * 0.01f;
                V[l][i] = (float)((i * 5 + l) % 11) * 0.01f;
            }
        }
        float *q = malloc(sizeof(float) * H * D), *out = malloc(sizeof(float) * H * D);
        float *scratch = malloc(sizeof(float) * phi_attention_scratch_count(1, n - 1));
        for (int64_t i = 0; i < H * D; i++) q[i] = (float)(i % 17) * 0.01f;
        const double hot = best_call(q, K, V, 1, cap, n - 1, out, scratch);
        const double cold = best_call(q, K, V, L, cap, n - 1, out, scratch);
        printf("%9lld  %9.1f  %7.1f  %9.2f\n", (long long)n, hot * 1e6, cold * 1e6, 2.0 * KV * D * n * 4 / cold / 1e9);
        for (int l = 0; l < L; l++) { free(K[l]); free(V[l]); }
        free(K); free(V); free(q); free(out); free(scratch);
    }
    return 0;
}
