// Compares each dispatched kernel (phi_gemm f32/bf16/f16, phi_gemm_bf16, phi_attention, phi_silu_mul,
// phi_rmsnorm, the quantized products phi_gemm_q / phi_gemm_q_repacked for Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K,
// and phi_quantize_activations) with its scalar _ref twin on ragged shapes, under every CPU mask given on the
// command line (default: all features, then scalar). Built and run under qemu-aarch64 by run.sh; also builds
// natively with every file of Sources/CPhiKernels (x86: the AVX2/AVX-512 paths face the same checks).
#include "CPhiKernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 42;
static float rnd(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((int64_t)(rs >> 11) % 2001 - 1000) / 1000.0f;
}
static uint16_t to_bf16(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)(u >> 16); }
static uint16_t to_f16(float f) { // round-to-nearest via _Float16 where available
    _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u;
}
static int fails = 0, checks = 0;
static void cmp(const char *what, const float *a, const float *b, int64_t n, float atol, float rtol) {
    checks++;
    for (int64_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= atol + rtol * fabsf(b[i]))) {
            if (fails < 30) printf("FAIL %s at %lld: %.9g vs ref %.9g\n", what, (long long)i, a[i], b[i]);
            fails++;
            return;
        }
    }
}

static void test_gemm(void) {
    int64_t shapes[][3] = {{1,1,1},{1,17,5},{3,33,7},{4,16,4},{5,100,13},{9,31,9},{7,8,12},{70,48,21},{2,130,64},{13,3,11},{7,100003,5}};
    static const int wts[] = {PHI_TYPE_F32, PHI_TYPE_BF16, PHI_TYPE_F16};
    for (int wi = 0; wi < 3; wi++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int wt = wts[wi];
            int64_t T = shapes[s][0], K = shapes[s][1], N = shapes[s][2], ldx = K + 3, ldy = N + 2;
            float *x = malloc(sizeof(float) * T * ldx);
            for (int64_t i = 0; i < T * ldx; i++) x[i] = rnd();
            size_t es = wt == PHI_TYPE_F32 ? 4 : 2;
            void *W = malloc(es * N * K);
            for (int64_t i = 0; i < N * K; i++) {
                float v = rnd();
                if (i % 7 == 3) v *= 1e-5f; // f16 subnormals
                if (wt == PHI_TYPE_F32) ((float *)W)[i] = v;
                else ((uint16_t *)W)[i] = wt == PHI_TYPE_BF16 ? to_bf16(v) : to_f16(v);
            }
            float *y = malloc(sizeof(float) * T * ldy), *r = malloc(sizeof(float) * T * ldy);
            int64_t n0 = N > 4 ? 1 : 0, n1 = N;
            for (int64_t i = 0; i < T * ldy; i++) y[i] = r[i] = -7.0f;
            phi_gemm(x, ldx, T, K, W, wt, y, ldy, n0, n1);
            phi_gemm_ref(x, ldx, T, K, W, wt, r, ldy, n0, n1);
            char what[64]; snprintf(what, 64, "gemm wt=%d T=%lld K=%lld N=%lld", wt, (long long)T, (long long)K, (long long)N);
            cmp(what, y, r, T * ldy, 1e-5f + 2e-5f * sqrtf((float)K), 1e-5f);
            free(x); free(W); free(y); free(r);
        }
}

static void test_gemm_bf16(void) {
    int64_t shapes[][3] = {{1,1,1},{1,33,5},{3,31,7},{4,64,4},{5,100,13},{70,48,21},{9,192,9},{7,16,12},{2,47,3},{7,100003,5}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t T = shapes[s][0], K = shapes[s][1], N = shapes[s][2], ldx = K + 1, ldxb = (K + 31) / 32 * 32 + 32 * (s % 2), ldy = N + 1;
        float *x = malloc(sizeof(float) * T * ldx);
        for (int64_t i = 0; i < T * ldx; i++) x[i] = rnd();
        uint16_t *xb = malloc(2 * T * ldxb), *W = malloc(2 * N * K);
        phi_pack_bf16(x, ldx, T, K, xb, ldxb);
        for (int64_t i = 0; i < N * K; i++) W[i] = to_bf16(rnd());
        float *y = malloc(sizeof(float) * T * ldy), *r = malloc(sizeof(float) * T * ldy);
        for (int64_t i = 0; i < T * ldy; i++) y[i] = r[i] = -7.0f;
        int64_t n0 = N > 4 ? 2 : 0;
        phi_gemm_bf16(xb, ldxb, T, K, W, y, ldy, n0, N);
        phi_gemm_bf16_ref(xb, ldxb, T, K, W, r, ldy, n0, N);
        char what[64]; snprintf(what, 64, "gemm_bf16 T=%lld K=%lld N=%lld", (long long)T, (long long)K, (long long)N);
        cmp(what, y, r, T * ldy, 1e-5f + 2e-5f * sqrtf((float)K), 1e-5f);
        free(x); free(xb); free(W); free(y); free(r);
    }
}

static void test_attention(void) {
    // capacities are whole key blocks of 16 positions (CPhiKernels.h)
    int64_t cfg[][6] = {{6,2,20,5,7,16},{3,1,128,37,9,64},{2,2,16,0,1,16},{4,2,8,30,2,48},{4,4,5,3,6,16},{2,1,130,17,5,48},{8,2,33,0,13,16},{2,2,64,100,1,128}};
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        int64_t H = cfg[c][0], KV = cfg[c][1], D = cfg[c][2], past = cfg[c][3], T = cfg[c][4], cap = cfg[c][5];
        int64_t ldq = H * D + 3, ldo = H * D + 1;
        float *q = malloc(sizeof(float) * T * ldq), *k = malloc(sizeof(float) * KV * cap * D), *v = malloc(sizeof(float) * KV * cap * D);
        for (int64_t i = 0; i < T * ldq; i++) q[i] = rnd() * 2;
        for (int64_t i = 0; i < KV * cap * D; i++) { k[i] = rnd(); v[i] = rnd(); }
        float *o = malloc(sizeof(float) * T * ldo), *r = malloc(sizeof(float) * T * ldo);
        float *scr = malloc(sizeof(float) * phi_attention_scratch_count(T, past));
        int64_t wins[] = {0, 4, 1};
        for (int wi = 0; wi < 3; wi++) {
            for (int64_t i = 0; i < T * ldo; i++) o[i] = r[i] = -7.0f;
            int64_t h0 = H > 2 ? 1 : 0;
            phi_attention(q, ldq, T, H, D, k, v, cap, KV, past, wins[wi], 0.3f, o, ldo, h0, H, scr);
            phi_attention_ref(q, ldq, T, H, D, k, v, cap, KV, past, wins[wi], 0.3f, r, ldo, h0, H, scr);
            char what[80]; snprintf(what, 80, "attention H=%lld KV=%lld D=%lld past=%lld T=%lld win=%lld", (long long)H, (long long)KV, (long long)D, (long long)past, (long long)T, (long long)wins[wi]);
            cmp(what, o, r, T * ldo, 2e-6f, 1e-5f);
        }
        free(q); free(k); free(v); free(o); free(r); free(scr);
    }
}

static void test_elementwise(void) {
    int64_t halves[] = {1, 7, 8, 9, 16, 17, 33, 100, 257};
    for (size_t s = 0; s < sizeof halves / sizeof halves[0]; s++) {
        int64_t half = halves[s], rows = 3;
        float *gu = malloc(sizeof(float) * rows * 2 * half), *o = malloc(sizeof(float) * rows * half), *r = malloc(sizeof(float) * rows * half);
        for (int64_t i = 0; i < rows * 2 * half; i++) gu[i] = rnd() * 12;
        gu[0] = -100; if (half > 3) { gu[1] = 95; gu[2] = -87.5f; gu[3] = 0; }
        phi_silu_mul(gu, o, rows, half);
        phi_silu_mul_ref(gu, r, rows, half);
        char what[64]; snprintf(what, 64, "silu_mul half=%lld", (long long)half);
        cmp(what, o, r, rows * half, 1e-30f, 4e-7f);
        int64_t n = half;
        float *x = malloc(sizeof(float) * rows * n), *w = malloc(sizeof(float) * n);
        for (int64_t i = 0; i < rows * n; i++) x[i] = rnd() * 3;
        for (int64_t i = 0; i < n; i++) w[i] = rnd();
        phi_rmsnorm(x, w, o, rows, n, 1e-5f);
        phi_rmsnorm_ref(x, w, r, rows, n, 1e-5f);
        snprintf(what, 64, "rmsnorm n=%lld", (long long)n);
        cmp(what, o, r, rows * n, 1e-7f, 2e-6f);
        free(gu); free(o); free(r); free(x); free(w);
    }
}

// Quantized products on ragged shapes: N not a multiple of 16, T from 1 past the 4-token tiles, K several
// blocks (several 256-blocks for the K-quants), [n0, n1) starting and ending on and off panel boundaries.
// With one block per row the fast paths round exactly like _ref for Q4_0, Q8_0 and Q6_K (one product of the
// exact integer sum with the same f32 scale), so those are compared bit for bit.
static const int qtypes[] = {PHI_TYPE_Q4_0, PHI_TYPE_Q4_1, PHI_TYPE_Q5_0, PHI_TYPE_Q8_0, PHI_TYPE_Q4_K, PHI_TYPE_Q5_K, PHI_TYPE_Q6_K};

static void test_gemm_q(void) {
    const int64_t Ts[] = {1, 2, 3, 4, 5, 7, 9};
    const int64_t Ns[] = {1, 16, 17, 40};
    const int64_t kb[] = {1, 2, 3, 5};
    for (size_t ti = 0; ti < sizeof qtypes / sizeof qtypes[0]; ti++) {
        const int wt = qtypes[ti];
        const int64_t qk = phi_quant_block_elements(wt), bs = phi_quant_block_bytes(wt);
        for (size_t ki = 0; ki < 4; ki++) {
            const int64_t K = qk * (qk == 256 ? (int64_t)ki + 1 : kb[ki]), rowb = K / qk * bs;
            if (qk == 256 && ki == 3) continue;
            for (size_t ni = 0; ni < sizeof Ns / sizeof Ns[0]; ni++) {
                const int64_t N = Ns[ni], T = Ts[(ki * 4 + ni) % 7], T2 = Ts[(ki * 4 + ni + 3) % 7];
                const int64_t Tm = T > T2 ? T : T2, ldx = K + 3, ldy = N + 2;
                float *x = malloc(sizeof(float) * Tm * ldx), *w = malloc(sizeof(float) * N * K);
                for (int64_t i = 0; i < Tm * ldx; i++) x[i] = rnd() * (i % 97 == 5 ? 8.0f : 1.0f);
                for (int64_t n = 0; n < N; n++)
                    for (int64_t k = 0; k < K; k++) w[n * K + k] = n == 2 ? 0.0f : rnd() * (1.0f + (float)(n % 5)) + (n % 3 == 1 ? 0.4f : 0.0f);
                uint8_t *W = malloc((size_t)(N * rowb));
                for (int64_t n = 0; n < N; n++) phi_quantize_ref(wt, w + n * K, W + n * rowb, K);
                uint8_t *Wr = malloc((size_t)phi_quant_repacked_bytes(wt, N, K));
                phi_quant_repack(wt, W, N, K, Wr, 0, N);
                const int64_t rb = phi_quant_activation_row_bytes(wt, K), ldxq = rb + 64;
                uint8_t *xq = malloc((size_t)(Tm * ldxq));
                float *y = malloc(sizeof(float) * Tm * ldy), *r = malloc(sizeof(float) * Tm * ldy);
                const int64_t ranges[][2] = {{0, N}, {N > 16 ? 16 : 0, N}, {0, N < 16 ? N : 16}, {N > 8 ? 3 : 0, N > 8 ? N - 5 : N}, {N > 32 ? 16 : 0, N > 32 ? 32 : N}};
                for (int pass = 0; pass < 2; pass++) { // T tokens, then T2
                    const int64_t TT = pass ? T2 : T;
                    phi_quantize_activations(wt, x, ldx, TT, K, xq, ldxq);
                    for (size_t ri = 0; ri < sizeof ranges / sizeof ranges[0]; ri++) {
                        const int64_t n0 = ranges[ri][0], n1 = ranges[ri][1];
                        const int exact = K == qk && (wt == PHI_TYPE_Q4_0 || wt == PHI_TYPE_Q5_0 || wt == PHI_TYPE_Q8_0 || wt == PHI_TYPE_Q6_K);
                        const float atol = exact ? 0.0f : 2e-5f * sqrtf((float)K), rtol = exact ? 0.0f : 2e-6f;
                        for (int64_t i = 0; i < TT * ldy; i++) r[i] = -7.0f;
                        phi_gemm_q_ref(wt, xq, ldxq, TT, K, W, r, ldy, n0, n1);
                        char what[96];
                        for (int i = 0; i < TT * ldy; i++) y[i] = -7.0f;
                        phi_gemm_q_repacked(wt, xq, ldxq, TT, K, Wr, y, ldy, n0, n1);
                        snprintf(what, 96, "gemm_q_repacked type=%d T=%lld K=%lld N=%lld [%lld,%lld)", wt, (long long)TT, (long long)K, (long long)N, (long long)n0, (long long)n1);
                        cmp(what, y, r, TT * ldy, atol, rtol);
                        for (int i = 0; i < TT * ldy; i++) y[i] = -7.0f;
                        phi_gemm_q(wt, xq, ldxq, TT, K, W, y, ldy, n0, n1);
                        snprintf(what, 96, "gemm_q type=%d T=%lld K=%lld N=%lld [%lld,%lld)", wt, (long long)TT, (long long)K, (long long)N, (long long)n0, (long long)n1);
                        cmp(what, y, r, TT * ldy, atol, rtol);
                    }
                }
                free(x); free(w); free(W); free(Wr); free(xq); free(y); free(r);
            }
        }
    }
}

// The activation quantizer under the current mask against the scalar one, byte for byte (padding included),
// on blocks with ties at .5 after scaling, repeated maxima of both signs, zero blocks and plain random values.
static void test_quantize_activations(int mask) {
    const int64_t T = 3;
    for (size_t ti = 0; ti < sizeof qtypes / sizeof qtypes[0]; ti++) {
        const int wt = qtypes[ti];
        const int64_t qk = phi_quant_block_elements(wt);
        for (int64_t nbk = 1; nbk <= 4; nbk++) {
            const int64_t K = qk * nbk, ldx = K + 1, rb = phi_quant_activation_row_bytes(wt, K);
            float *x = malloc(sizeof(float) * T * ldx);
            for (int64_t i = 0; i < T * ldx; i++) x[i] = rnd() * 3;
            for (int64_t t = 0; t < T; t++) {
                float *xb = x + t * ldx;
                if (t == 1) { // amax 127 → d = 1 (Q8_0) or iscale ±1 (Q8_K): x + 0.5 are ties for either rounding
                    for (int64_t k = 0; k < qk; k++) xb[k] = (float)((k * 37) % 120) - 60.5f;
                    xb[7] = 127.0f;
                    if (qk == 256) xb[200] = -127.0f; // same magnitude later: the first one sets the sign
                }
                if (t == 2) for (int64_t k = 0; k < qk; k++) xb[K - qk + k] = 0.0f;
            }
            uint8_t *a = malloc((size_t)(T * rb)), *b = malloc((size_t)(T * rb));
            memset(a, 0x55, (size_t)(T * rb)); memset(b, 0xAA, (size_t)(T * rb));
            phi_set_cpu_mask(mask);
            phi_quantize_activations(wt, x, ldx, T, K, a, rb);
            phi_set_cpu_mask(0);
            phi_quantize_activations(wt, x, ldx, T, K, b, rb);
            phi_set_cpu_mask(mask);
            checks++;
            if (memcmp(a, b, (size_t)(T * rb)) != 0) {
                int64_t i = 0;
                while (a[i] == b[i]) i++;
                printf("FAIL quantize_activations type=%d K=%lld: byte %lld (row %lld) %d vs scalar %d\n", wt, (long long)K, (long long)i, (long long)(i / rb), a[i], b[i]);
                fails++;
            }
            free(x); free(a); free(b);
        }
    }
}

// A long f32 dot product rounds differently in any vector path than in the scalar reference, so the result
// with all features must differ from the masked-off one: the dispatcher really took a vector path.
static int vector_path_taken(void) {
    enum { K = 1000, N = 16 };
    static float x[K], w[N * K], a[N], b[N];
    for (int i = 0; i < K; i++) x[i] = rnd();
    for (int i = 0; i < N * K; i++) w[i] = rnd();
    phi_set_cpu_mask(-1);
    phi_gemm(x, K, 1, K, w, PHI_TYPE_F32, a, N, 0, N);
    phi_set_cpu_mask(0);
    phi_gemm(x, K, 1, K, w, PHI_TYPE_F32, b, N, 0, N);
    phi_set_cpu_mask(-1);
    return memcmp(a, b, sizeof a) != 0;
}

// The same for the quantized product on repacked weights (f32 block sums fused in the vector paths).
static int quant_vector_path_taken(void) {
    enum { K = 4096, N = 16 };
    static float x[K], w[N * K], a[N], b[N];
    static uint8_t W[N * K / 32 * 20], Wr[N * K / 32 * 20], xq[K * 2];
    for (int i = 0; i < K; i++) x[i] = rnd();
    for (int i = 0; i < N * K; i++) w[i] = rnd();
    for (int n = 0; n < N; n++) phi_quantize_ref(PHI_TYPE_Q4_1, w + n * K, W + n * K / 32 * 20, K);
    phi_quant_repack(PHI_TYPE_Q4_1, W, N, K, Wr, 0, N);
    phi_quantize_activations(PHI_TYPE_Q4_1, x, K, 1, K, xq, sizeof xq);
    phi_set_cpu_mask(-1);
    phi_gemm_q_repacked(PHI_TYPE_Q4_1, xq, sizeof xq, 1, K, Wr, a, N, 0, N);
    phi_set_cpu_mask(0);
    phi_gemm_q_repacked(PHI_TYPE_Q4_1, xq, sizeof xq, 1, K, Wr, b, N, 0, N);
    phi_set_cpu_mask(-1);
    return memcmp(a, b, sizeof a) != 0;
}

int main(int argc, char **argv) {
    int masks[8], nm = 0;
    for (int i = 1; i < argc && nm < 8; i++) masks[nm++] = atoi(argv[i]);
    if (!nm) { masks[nm++] = -1; masks[nm++] = 0; }
    printf("cpu features %d (NEON=%d NEON_DOTPROD=%d AVX2=%d AVX512=%d)\n", phi_cpu_features(), PHI_CPU_NEON,
           PHI_CPU_NEON_DOTPROD, PHI_CPU_AVX2, PHI_CPU_AVX512);
    for (int m = 0; m < nm; m++) {
        phi_set_cpu_mask(masks[m]);
        int before = fails;
        test_gemm(); test_gemm_bf16(); test_attention(); test_elementwise();
        test_gemm_q(); test_quantize_activations(masks[m]);
        printf("mask %d (features %d): %s\n", masks[m], phi_cpu_features(), fails == before ? "ok" : "FAILED");
    }
    phi_set_cpu_mask(-1);
    if (phi_cpu_features() != 0) {
        checks++;
        if (!vector_path_taken()) { printf("FAIL: vector and scalar gemm agree bit for bit: no vector path ran\n"); fails++; }
        checks++;
        if (!quant_vector_path_taken()) { printf("FAIL: vector and scalar gemm_q agree bit for bit: no vector path ran\n"); fails++; }
    }
    printf("%d comparisons, %d failures\n", checks, fails);
    return fails != 0;
}
