// What an extra token row costs the Q4_0 and Q6_K panel kernels (AVX-512 VNNI), against this core's vpdpbusd roof, with the
// panels in cache and streamed from DRAM. Batched decoding and speculative verification live on this number: with
// one row the kernel is bandwidth-bound, each further row adds only arithmetic, as long as the loads of the panels
// still overlap with it. A benchmark, not a test (x86-64 with AVX-512 VNNI only):
//
//   clang -O3 -ffp-contract=off -I Sources/CPhiKernels/include -I Sources/CPhiKernels \
//       tools/bench/kernels/panel_rows.c Sources/CPhiKernels/quant_avx512.c -o /tmp/panel_rows && /tmp/panel_rows
//
// Prints, for 1..8 rows, nanoseconds per row per 16x3072 panel and the share of the vpdpbusd roof reached.
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void panel_fn(const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T, float *y,
                      int64_t ldy, int r0, int r1);
panel_fn phi_qpanel_q4_0_avx512, phi_qpanel_q6_K_avx512;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Nanoseconds per vpdpbusd zmm with 12 independent chains (the throughput bound of the panel kernels).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double dpbusd_ns(void) {
    __m512i a[12], w = _mm512_set1_epi8(3), x = _mm512_set1_epi8(5);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_epi32(i);
    const long n = 100000000 / 12;
    const double t0 = now();
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < 12; i++) a[i] = _mm512_dpbusd_epi32(a[i], w, x);
        __asm__ volatile("" : "+v"(w));
    }
    const double t = now() - t0;
    __m512i s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_epi32(s, a[i]);
    volatile int sink = _mm512_reduce_add_epi32(s);
    (void)sink;
    return t / (n * 12.0) * 1e9;
}

// `qk` values per block of `bb` panel bytes, `scale` the byte offset of the f16 row scales in a block.
static void run(const char *label, panel_fn *fn, int64_t qk, int64_t bb, int64_t scale, int64_t panels, double roof) {
    const int64_t K = 3072, nb = K / qk, pbytes = nb * bb;
    uint8_t *pan = malloc((size_t)(panels * pbytes));
    int64_t ldx = K + 8 * (K / 16);
    uint8_t *xq = malloc((size_t)(8 * ldx));
    if (!pan || !xq) exit(1);
    srand(1);
    for (int64_t i = 0; i < panels * pbytes; i++) pan[i] = (uint8_t)rand();
    for (int64_t b = 0; b < panels * nb; b++)
        for (int r = 0; r < 16; r++) memcpy(pan + b * bb + scale + 2 * r, &(uint16_t){0x3c00}, 2); // f16 1.0
    for (int64_t i = 0; i < 8 * ldx; i++) xq[i] = (uint8_t)(rand() % 200);
    for (int t = 0; t < 8; t++)
        for (int64_t b = 0; b < K / 32; b++) memcpy(xq + t * ldx + K + 4 * b, &(float){0.01f}, 4);
    float y[8 * 16];
    printf("%s (%lld panels, %.1f MiB)\n rows  ns/row/panel  share of roof\n", label, (long long)panels,
           panels * pbytes / 1048576.0);
    for (int T = 1; T <= 8; T++) {
        const int64_t reps = 200000 / panels > 0 ? 200000 / panels : 1;
        const double t0 = now();
        for (int64_t r = 0; r < reps; r++)
            for (int64_t p = 0; p < panels; p++) fn(pan + p * pbytes, K, xq, ldx, T, y, 16, 0, 16);
        const double per = (now() - t0) / (double)(reps * panels * T) * 1e9, ops = K / 4.0; // vpdpbusd per row
        printf(" %4d  %12.1f  %12.0f%%\n", T, per, 100 * roof * ops / per);
    }
    free(pan);
    free(xq);
}

int main(void) {
    const double roof = dpbusd_ns();
    printf("vpdpbusd zmm: %.3f ns each (%.2f G/s per core)\n", roof, 1 / roof);
    run("Q4_0, panels in L2", phi_qpanel_q4_0_avx512, 32, 288, 0, 4, roof);
    run("Q4_0, panels streamed from DRAM", phi_qpanel_q4_0_avx512, 32, 288, 0, 4000, roof);
    run("Q6_K, panels in L2", phi_qpanel_q6_K_avx512, 256, 3360, 0, 4, roof);
    run("Q6_K, panels streamed from DRAM", phi_qpanel_q6_K_avx512, 256, 3360, 0, 1500, roof);
    return 0;
}
