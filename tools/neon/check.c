// Compares each dispatched dense kernel (phi_gemm f32/bf16/f16, phi_gemm_bf16, phi_attention, phi_silu_mul,
// phi_rmsnorm) with its scalar _ref twin on ragged shapes, under every CPU mask given on the command line
// (default: all features, then scalar). Built and run under qemu-aarch64 by run.sh; also builds natively.
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
    for (int wt = 0; wt < 3; wt++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int64_t T = shapes[s][0], K = shapes[s][1], N = shapes[s][2], ldx = K + 3, ldy = N + 2;
            float *x = malloc(sizeof(float) * T * ldx);
            for (int64_t i = 0; i < T * ldx; i++) x[i] = rnd();
            size_t es = wt == 0 ? 4 : 2;
            void *W = malloc(es * N * K);
            for (int64_t i = 0; i < N * K; i++) {
                float v = rnd();
                if (i % 7 == 3) v *= 1e-5f; // f16 subnormals
                if (wt == 0) ((float *)W)[i] = v;
                else ((uint16_t *)W)[i] = wt == 1 ? to_bf16(v) : to_f16(v);
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
    int64_t cfg[][6] = {{6,2,20,5,7,16},{3,1,128,37,9,64},{2,2,16,0,1,4},{4,2,8,30,2,40},{4,4,5,3,6,9},{2,1,130,17,5,40},{8,2,33,0,13,13},{2,2,64,100,1,128}};
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

// A long f32 dot product rounds differently in any vector path than in the scalar reference, so the result
// with all features must differ from the masked-off one: the dispatcher really took a vector path.
static int vector_path_taken(void) {
    enum { K = 1000, N = 16 };
    static float x[K], w[N * K], a[N], b[N];
    for (int i = 0; i < K; i++) x[i] = rnd();
    for (int i = 0; i < N * K; i++) w[i] = rnd();
    phi_set_cpu_mask(-1);
    phi_gemm(x, K, 1, K, w, PHI_WTYPE_F32, a, N, 0, N);
    phi_set_cpu_mask(0);
    phi_gemm(x, K, 1, K, w, PHI_WTYPE_F32, b, N, 0, N);
    phi_set_cpu_mask(-1);
    return memcmp(a, b, sizeof a) != 0;
}

int main(int argc, char **argv) {
    int masks[8], nm = 0;
    for (int i = 1; i < argc && nm < 8; i++) masks[nm++] = atoi(argv[i]);
    if (!nm) { masks[nm++] = -1; masks[nm++] = 0; }
    printf("cpu features %d (NEON=%d AVX2=%d AVX512=%d)\n", phi_cpu_features(), PHI_CPU_NEON, PHI_CPU_AVX2, PHI_CPU_AVX512);
    for (int m = 0; m < nm; m++) {
        phi_set_cpu_mask(masks[m]);
        int before = fails;
        test_gemm(); test_gemm_bf16(); test_attention(); test_elementwise();
        printf("mask %d (features %d): %s\n", masks[m], phi_cpu_features(), fails == before ? "ok" : "FAILED");
    }
    phi_set_cpu_mask(-1);
    if (phi_cpu_features() != 0) {
        checks++;
        if (!vector_path_taken()) { printf("FAIL: vector and scalar gemm agree bit for bit: no vector path ran\n"); fails++; }
    }
    printf("%d comparisons, %d failures\n", checks, fails);
    return fails != 0;
}
