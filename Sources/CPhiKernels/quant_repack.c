// The 16-row interleaved weight layout the fast quantized kernels read, and the dispatching drivers.
//
// A panel holds rows 16p ..< 16p+16; its K-blocks follow each other ("panel block", PB bytes each). Inside a
// panel block, "vector v" is 64 bytes whose 4-byte lane r holds 4 consecutive codes of row r, so one
// vpdpbusd with 4 broadcast activation bytes adds 4 products to each of the 16 rows.
//   Q4_0 (PB 288):  f16 d[16] | 4 vectors: lane r of v = qs_r[4v..4v+3] (low nibbles: k=4v+i, high: k=16+4v+i)
//   Q4_1 (PB 320):  f16 d[16] | f16 m[16] | 4 vectors as Q4_0
//   Q8_0 (PB 544):  f16 d[16] | 8 vectors: lane r of v = qs_r[4v..4v+3] + 128 (unsigned codes)
//   Q4_K (PB 2368): f16 d[16] | f16 dmin[16] | u8 sc[8][16] | u8 min pairs[4][16][2] | 32 vectors:
//                   v = 8c+q: lane r = qs_r[32c+4q..+3] (low nibbles: sub-block 2c, high: 2c+1)
//   Q5_K (PB 2880): as Q4_K up to the vectors, then per 64-code chunk c: its 8 vectors and u64 hmask[2][8]:
//                   bit 4r+i of hmask[j&1][q] = 5th bit of code 32j+4q+i of row r (j = 2c, 2c+1)
//   Q6_K (PB 3360): f16 d[16] | i8 sc[16][16] | 4 groups (h, qb = 0/4) of 12 vectors X(q) (4), Y(q) (4), Z(q) (4),
//                   q = qb..qb+3. With e_j the 6-bit code 128h+32j+4q+i of row r, byte i of lane r holds
//                   X = e0 | e3<<6, Y = e1 | (e3>>2)<<6, Z = e2 | (e3>>4)<<6: three codes are one AND away and
//                   the fourth costs 6 operations (GGML's ql/qh split costs 13 for the four).
// Every kernel reads a panel block front to back, which keeps the hardware prefetcher streaming. On aarch64 a
// 64-byte vector is 4 NEON registers of 4 rows each (quant_neon.c).
#include "CPhiQuant.h"
#include "CPhiKernels.h"
#include <stdlib.h>
#include <string.h>

#define P 16

// Per-ISA panel kernels: y[t*ldy + r] for rows r0 <= r < r1 of one repacked panel, all T tokens.
void phi_qpanel_avx512(int wtype, const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T,
                       float *y, int64_t ldy, int r0, int r1);
void phi_qpanel_avx2(int wtype, const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T,
                     float *y, int64_t ldy, int r0, int r1);
void phi_qpanel_neon(int wtype, const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T,
                     float *y, int64_t ldy, int r0, int r1);
void phi_qpanel_neon_dot(int wtype, const uint8_t *panel, int64_t K, const uint8_t *xq, int64_t ldxq, int64_t T,
                         float *y, int64_t ldy, int r0, int r1);
int phi_qrepack_panel_avx512(int wtype, const uint8_t *W, int64_t rowb, int nrows, int64_t K, uint8_t *o);

// Byte offsets inside a Q5_K / Q6_K panel block.
static inline int64_t q5_vec(int c, int q) { return 320 + 640 * c + 64 * q; }
static inline int64_t q5_mask(int j, int q) { return 320 + 640 * (j / 2) + 512 + 64 * (j & 1) + 8 * q; }
static inline int64_t q6_vec(int h, int which, int q) { return 288 + 768 * (2 * h + q / 4) + 256 * which + 64 * (q % 4); }

// GGML Q6_K bytes (ql[64h+l], ql[64h+32+l], qh[32h+l]) <-> the X, Y, Z bytes above.
static inline void q6_to_xyz(uint8_t a, uint8_t c, uint8_t hb, uint8_t *x, uint8_t *y, uint8_t *z) {
    const int e0 = (a & 0xF) | ((hb & 3) << 4), e1 = (c & 0xF) | (((hb >> 2) & 3) << 4);
    const int e2 = (a >> 4) | (((hb >> 4) & 3) << 4), e3 = (c >> 4) | ((hb >> 6) << 4);
    *x = (uint8_t)(e0 | (e3 & 3) << 6);
    *y = (uint8_t)(e1 | ((e3 >> 2) & 3) << 6);
    *z = (uint8_t)(e2 | (e3 >> 4) << 6);
}
static inline void xyz_to_q6(uint8_t x, uint8_t y, uint8_t z, uint8_t *a, uint8_t *c, uint8_t *hb) {
    const int e0 = x & 63, e1 = y & 63, e2 = z & 63, e3 = (x >> 6) | (y >> 6) << 2 | (z >> 6) << 4;
    *a = (uint8_t)((e0 & 0xF) | (e2 & 0xF) << 4);
    *c = (uint8_t)((e1 & 0xF) | (e3 & 0xF) << 4);
    *hb = (uint8_t)((e0 >> 4) | (e1 >> 4) << 2 | (e2 >> 4) << 4 | (e3 >> 4) << 6);
}

static int64_t panel_block_bytes(int wtype) {
    switch (wtype) {
    case PHI_GGML_Q4_0: return 288;
    case PHI_GGML_Q4_1: return 320;
    case PHI_GGML_Q8_0: return 544;
    case PHI_GGML_Q4_K: return 2368;
    case PHI_GGML_Q5_K: return 2880;
    case PHI_GGML_Q6_K: return 3360;
    default: return 0;
    }
}

static int64_t panel_bytes(int wtype, int64_t K) { return K / phi_quant_block_elements(wtype) * panel_block_bytes(wtype); }

int64_t phi_quant_repacked_bytes(int wtype, int64_t N, int64_t K) {
    if (phi_quant_check(wtype, K) != 0 || N < 0) return 0;
    return (N + P - 1) / P * panel_bytes(wtype, K);
}

static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// One panel block from the GGML blocks of its 16 rows (rows[r] == NULL: a zero padding row).
static void repack_block(int wtype, const uint8_t *const rows[P], uint8_t *o) {
    static const uint8_t zero[210];
    memset(o, 0, (size_t)panel_block_bytes(wtype));
    for (int r = 0; r < P; r++) {
        const uint8_t *b = rows[r] ? rows[r] : zero;
        switch (wtype) {
        case PHI_GGML_Q4_0:
            memcpy(o + 2 * r, b, 2);
            for (int v = 0; v < 4; v++) memcpy(o + 32 + 64 * v + 4 * r, b + 2 + 4 * v, 4);
            break;
        case PHI_GGML_Q4_1:
            memcpy(o + 2 * r, b, 2);
            memcpy(o + 32 + 2 * r, b + 2, 2);
            for (int v = 0; v < 4; v++) memcpy(o + 64 + 64 * v + 4 * r, b + 4 + 4 * v, 4);
            break;
        case PHI_GGML_Q8_0:
            memcpy(o + 2 * r, b, 2);
            for (int v = 0; v < 8; v++)
                for (int i = 0; i < 4; i++) o[32 + 64 * v + 4 * r + i] = (uint8_t)(b[2 + 4 * v + i] ^ 0x80);
            break;
        case PHI_GGML_Q4_K:
        case PHI_GGML_Q5_K: {
            const int five = wtype == PHI_GGML_Q5_K;
            memcpy(o + 2 * r, b, 2);
            memcpy(o + 32 + 2 * r, b + 2, 2);
            for (int j = 0; j < 8; j++) {
                uint8_t s, m;
                scale_min_k4(j, b + 4, &s, &m);
                o[64 + 16 * j + r] = s;
                o[192 + 32 * (j / 2) + 2 * r + (j & 1)] = m;
            }
            const uint8_t *ql = b + (five ? 48 : 16), *qh = b + 16;
            for (int v = 0; v < 32; v++) memcpy(o + (five ? q5_vec(v / 8, v % 8) : 320 + 64 * v) + 4 * r, ql + 4 * v, 4);
            if (five)
                for (int j = 0; j < 8; j++)
                    for (int q = 0; q < 8; q++) {
                        uint64_t mask;
                        memcpy(&mask, o + q5_mask(j, q), 8);
                        for (int i = 0; i < 4; i++) mask |= (uint64_t)((qh[4 * q + i] >> j) & 1) << (4 * r + i);
                        memcpy(o + q5_mask(j, q), &mask, 8);
                    }
            break;
        }
        case PHI_GGML_Q6_K:
            memcpy(o + 2 * r, b + 208, 2);
            for (int g = 0; g < 16; g++) o[32 + 16 * g + r] = b[192 + g];
            for (int h = 0; h < 2; h++)
                for (int l = 0; l < 32; l++) {
                    const int q = l / 4, at = 4 * r + l % 4;
                    q6_to_xyz(b[64 * h + l], b[64 * h + 32 + l], b[128 + 32 * h + l], o + q6_vec(h, 0, q) + at,
                              o + q6_vec(h, 1, q) + at, o + q6_vec(h, 2, q) + at);
                }
            break;
        }
    }
}

// Panel holding rows [row0, row0+16) ∩ [0, N) of GGML-layout W.
static void repack_panel(int wtype, const uint8_t *W, int64_t N, int64_t K, int64_t row0, uint8_t *o) {
    const int64_t qk = phi_quant_block_elements(wtype), bs = phi_quant_block_bytes(wtype), rowb = K / qk * bs;
    const int64_t pb = panel_block_bytes(wtype);
    for (int64_t b = 0; b < K / qk; b++) {
        const uint8_t *rows[P];
        for (int r = 0; r < P; r++) rows[r] = row0 + r < N ? W + (row0 + r) * rowb + b * bs : NULL;
        repack_block(wtype, rows, o + b * pb);
    }
}

int phi_quant_repack(int wtype, const void *W, int64_t N, int64_t K, void *dst, int64_t n0, int64_t n1) {
    if (phi_quant_check(wtype, K) != 0 || N < 0 || n0 < 0 || n1 < n0 || n1 > N || n0 % P != 0 ||
        (n1 % P != 0 && n1 != N))
        return -1;
    const int64_t pbytes = panel_bytes(wtype, K);
    for (int64_t row0 = n0; row0 < n1; row0 += P)
        repack_panel(wtype, (const uint8_t *)W, N, K, row0, (uint8_t *)dst + row0 / P * pbytes);
    return 0;
}

int phi_quant_unpack_row(int wtype, const void *Wr, int64_t K, int64_t n, void *dst) {
    if (phi_quant_check(wtype, K) != 0 || n < 0) return -1;
    const int64_t qk = phi_quant_block_elements(wtype), bs = phi_quant_block_bytes(wtype);
    const int64_t pb = panel_block_bytes(wtype);
    const uint8_t *panel = (const uint8_t *)Wr + n / P * panel_bytes(wtype, K);
    const int r = (int)(n % P);
    for (int64_t blk = 0; blk < K / qk; blk++) {
        const uint8_t *o = panel + blk * pb;
        uint8_t *b = (uint8_t *)dst + blk * bs;
        switch (wtype) {
        case PHI_GGML_Q4_0:
            memcpy(b, o + 2 * r, 2);
            for (int v = 0; v < 4; v++) memcpy(b + 2 + 4 * v, o + 32 + 64 * v + 4 * r, 4);
            break;
        case PHI_GGML_Q4_1:
            memcpy(b, o + 2 * r, 2);
            memcpy(b + 2, o + 32 + 2 * r, 2);
            for (int v = 0; v < 4; v++) memcpy(b + 4 + 4 * v, o + 64 + 64 * v + 4 * r, 4);
            break;
        case PHI_GGML_Q8_0:
            memcpy(b, o + 2 * r, 2);
            for (int v = 0; v < 8; v++)
                for (int i = 0; i < 4; i++) b[2 + 4 * v + i] = (uint8_t)(o[32 + 64 * v + 4 * r + i] ^ 0x80);
            break;
        case PHI_GGML_Q4_K:
        case PHI_GGML_Q5_K: {
            const int five = wtype == PHI_GGML_Q5_K;
            memcpy(b, o + 2 * r, 2);
            memcpy(b + 2, o + 32 + 2 * r, 2);
            uint8_t *sc = b + 4;
            memset(sc, 0, 12);
            for (int j = 0; j < 8; j++) {
                uint8_t ls = o[64 + 16 * j + r], lm = o[192 + 32 * (j / 2) + 2 * r + (j & 1)];
                if (j < 4) {
                    sc[j] |= ls;
                    sc[j + 4] |= lm;
                } else {
                    sc[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
                    sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
                    sc[j] |= (uint8_t)((lm >> 4) << 6);
                }
            }
            uint8_t *ql = b + (five ? 48 : 16), *qh = b + 16;
            for (int v = 0; v < 32; v++) memcpy(ql + 4 * v, o + (five ? q5_vec(v / 8, v % 8) : 320 + 64 * v) + 4 * r, 4);
            if (five) {
                memset(qh, 0, 32);
                for (int j = 0; j < 8; j++)
                    for (int q = 0; q < 8; q++) {
                        uint64_t mask;
                        memcpy(&mask, o + q5_mask(j, q), 8);
                        for (int i = 0; i < 4; i++) qh[4 * q + i] |= (uint8_t)(((mask >> (4 * r + i)) & 1) << j);
                    }
            }
            break;
        }
        case PHI_GGML_Q6_K:
            memcpy(b + 208, o + 2 * r, 2);
            for (int g = 0; g < 16; g++) b[192 + g] = o[32 + 16 * g + r];
            for (int h = 0; h < 2; h++)
                for (int l = 0; l < 32; l++) {
                    const int q = l / 4, at = 4 * r + l % 4;
                    xyz_to_q6(o[q6_vec(h, 0, q) + at], o[q6_vec(h, 1, q) + at], o[q6_vec(h, 2, q) + at], b + 64 * h + l,
                              b + 64 * h + 32 + l, b + 128 + 32 * h + l);
                }
            break;
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// drivers

typedef void (*panel_fn)(int, const uint8_t *, int64_t, const uint8_t *, int64_t, int64_t, float *, int64_t, int, int);

static panel_fn pick_panel_kernel(void) {
#if defined(__x86_64__)
    int f = phi_cpu_features();
    if ((f & PHI_CPU_AVX512) && (f & PHI_CPU_AVX512_VNNI)) return phi_qpanel_avx512;
    if (f & PHI_CPU_AVX2) return phi_qpanel_avx2;
#elif defined(__aarch64__)
    int f = phi_cpu_features();
    if (f & PHI_CPU_NEON) return (f & PHI_CPU_NEON_DOTPROD) ? phi_qpanel_neon_dot : phi_qpanel_neon;
#endif
    return NULL;
}

static int args_ok(int wtype, int64_t ldxq, int64_t T, int64_t K, int64_t n0, int64_t n1) {
    return phi_quant_check(wtype, K) == 0 && T >= 0 && n0 >= 0 && n1 >= n0 &&
           ldxq >= phi_quant_activation_row_bytes(wtype, K);
}

// Tokens per pass: the activations of one pass stay in L2 while the panels stream past.
static int64_t token_block(int64_t ldxq) {
    int64_t tb = (512 * 1024) / ldxq;
    return tb < 8 ? 8 : tb;
}

// Rows [n0, n1), panel by panel, tokens in blocks of token_block (kept in L2 while the panels stream past).
// Repacked weights: a block of tokens meets every panel in turn. GGML-layout weights: each panel is repacked once
// into `scratch` and meets every token block. Both call the panel kernel on the same (panel, token block) pairs,
// so both give bit-identical results: a model may switch from GGML rows to repacked panels between two tokens
// (background repacking after load) without changing any output.
static void drive(int wtype, panel_fn fn, const uint8_t *xq, int64_t ldxq, int64_t T, int64_t K, float *y,
                  int64_t ldy, int64_t n0, int64_t n1, const uint8_t *Wr, const uint8_t *W, uint8_t *scratch) {
    const int64_t pbytes = panel_bytes(wtype, K), TB = token_block(ldxq);
    const int64_t blocks = Wr ? (T + TB - 1) / TB : 1, inner = Wr ? 1 : (T + TB - 1) / TB;
    for (int64_t ob = 0; ob < blocks; ob++) {
        for (int64_t row0 = n0 / P * P; row0 < n1; row0 += P) {
            const uint8_t *panel = scratch;
            if (Wr) {
                panel = Wr + row0 / P * pbytes;
            } else {
                const int nrows = (int)(n1 - row0 < P ? n1 - row0 : P);
#if defined(__x86_64__)
                const int64_t rowb = K / phi_quant_block_elements(wtype) * phi_quant_block_bytes(wtype);
                if (fn != phi_qpanel_avx512 || phi_qrepack_panel_avx512(wtype, W + row0 * rowb, rowb, nrows, K, scratch) != 0)
#endif
                    repack_panel(wtype, W, row0 + nrows, K, row0, scratch);
            }
            const int r0 = row0 < n0 ? (int)(n0 - row0) : 0;
            const int r1 = row0 + P > n1 ? (int)(n1 - row0) : P;
            for (int64_t ib = 0; ib < inner; ib++) {
                const int64_t tb = (ob + ib) * TB, tn = T - tb < TB ? T - tb : TB;
                fn(wtype, panel, K, xq + tb * ldxq, ldxq, tn, y + tb * ldy + row0, ldy, r0, r1);
            }
        }
    }
}

int phi_gemm_q(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *W, float *y, int64_t ldy,
               int64_t n0, int64_t n1) {
    if (!args_ok(wtype, ldxq, T, K, n0, n1)) return -1;
    panel_fn fn = pick_panel_kernel();
    if (!fn || T == 0 || n0 == n1) return phi_gemm_q_ref(wtype, xq, ldxq, T, K, W, y, ldy, n0, n1);
    uint8_t *scratch = (uint8_t *)malloc((size_t)panel_bytes(wtype, K));
    if (!scratch) return phi_gemm_q_ref(wtype, xq, ldxq, T, K, W, y, ldy, n0, n1);
    drive(wtype, fn, (const uint8_t *)xq, ldxq, T, K, y, ldy, n0, n1, NULL, (const uint8_t *)W, scratch);
    free(scratch);
    return 0;
}

int phi_gemm_q_repacked(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *Wr, float *y,
                        int64_t ldy, int64_t n0, int64_t n1) {
    if (!args_ok(wtype, ldxq, T, K, n0, n1)) return -1;
    panel_fn fn = pick_panel_kernel();
    if (fn) {
        drive(wtype, fn, (const uint8_t *)xq, ldxq, T, K, y, ldy, n0, n1, (const uint8_t *)Wr, NULL, NULL);
        return 0;
    }
    // Scalar: one row at a time back in GGML layout.
    const int64_t rowb = K / phi_quant_block_elements(wtype) * phi_quant_block_bytes(wtype);
    uint8_t *row = (uint8_t *)malloc((size_t)rowb);
    if (!row) return -1;
    for (int64_t n = n0; n < n1; n++) {
        phi_quant_unpack_row(wtype, Wr, K, n, row);
        phi_gemm_q_ref(wtype, xq, ldxq, T, K, row, y + n, ldy, 0, 1);
    }
    free(row);
    return 0;
}

// Takes the next rows [*n0, *n0 + size) from *counter: guided self-scheduling in whole panels, chunks shrinking
// from a third of each thread's share towards 32 rows, so the threads finish together. Returns the size (0: done).
static int64_t take_panels(int64_t *counter, int64_t N, int64_t threads, int64_t *n0) {
    int64_t cur = __atomic_load_n(counter, __ATOMIC_RELAXED);
    for (;;) {
        if (cur >= N) return 0;
        int64_t size = (N - cur) / (3 * threads) / P * P;
        if (size < 2 * P) size = 2 * P;
        if (size > N - cur) size = N - cur;
        if (__atomic_compare_exchange_n(counter, &cur, cur + size, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            *n0 = cur;
            return size;
        }
    }
}

int phi_gemm_q_repacked_chunks(int wtype, const void *xq, int64_t ldxq, int64_t T, int64_t K, const void *Wr,
                               float *y, int64_t ldy, int64_t N, int64_t threads, int64_t *counter) {
    if (!args_ok(wtype, ldxq, T, K, 0, N)) return -1;
    if (threads < 1) threads = 1;
    int64_t n0 = 0, size;
    while ((size = take_panels(counter, N, threads, &n0)) > 0)
        if (phi_gemm_q_repacked(wtype, xq, ldxq, T, K, Wr, y, ldy, n0, n0 + size) != 0) return -1;
    return 0;
}

