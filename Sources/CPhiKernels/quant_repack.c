// The 16-row interleaved weight layout the fast quantized kernels read: one repack and one unpack function per
// type (row r of a panel block from / back to one GGML block; the panel block starts zeroed).
//
// A panel holds rows 16p ..< 16p+16; its K-blocks follow each other ("panel block", PB bytes each). Inside a
// panel block, "vector v" is 64 bytes whose 4-byte lane r holds 4 consecutive codes of row r, so one
// vpdpbusd with 4 broadcast activation bytes adds 4 products to each of the 16 rows.
//   Q4_0 (PB 288):  f16 d[16] | 4 vectors: lane r of v = qs_r[4v..4v+3] (low nibbles: k=4v+i, high: k=16+4v+i)
//   Q4_1 (PB 320):  f16 d[16] | f16 m[16] | 4 vectors as Q4_0
//   Q5_0 (PB 352):  as Q4_0, then u64 hmask[8] (the 5th bits, see phi_repack_q5_0)
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
#include "quant_blocks.h"
#include <string.h>

#define P PANEL_ROWS

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

static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void phi_repack_q4_0(const uint8_t *b, int r, uint8_t *o) {
    memcpy(o + 2 * r, b + OFF(block_q4_0, d), 2);
    for (int v = 0; v < 4; v++) memcpy(o + 32 + 64 * v + 4 * r, b + OFF(block_q4_0, qs) + 4 * v, 4);
}
void phi_unpack_q4_0(const uint8_t *o, int r, uint8_t *b) {
    memcpy(b + OFF(block_q4_0, d), o + 2 * r, 2);
    for (int v = 0; v < 4; v++) memcpy(b + OFF(block_q4_0, qs) + 4 * v, o + 32 + 64 * v + 4 * r, 4);
}

void phi_repack_q4_1(const uint8_t *b, int r, uint8_t *o) {
    memcpy(o + 2 * r, b + OFF(block_q4_1, d), 2);
    memcpy(o + 32 + 2 * r, b + OFF(block_q4_1, m), 2);
    for (int v = 0; v < 4; v++) memcpy(o + 64 + 64 * v + 4 * r, b + OFF(block_q4_1, qs) + 4 * v, 4);
}
void phi_unpack_q4_1(const uint8_t *o, int r, uint8_t *b) {
    memcpy(b + OFF(block_q4_1, d), o + 2 * r, 2);
    memcpy(b + OFF(block_q4_1, m), o + 32 + 2 * r, 2);
    for (int v = 0; v < 4; v++) memcpy(b + OFF(block_q4_1, qs) + 4 * v, o + 64 + 64 * v + 4 * r, 4);
}

// Q5_0 (PB 352): as Q4_0, then u64 hmask[8]: bit 4r+i of hmask[u] = 5th bit of value 4u+i of row r (u < 4: the
// low nibbles of vector u, u >= 4: the high nibbles of vector u-4, the order the kernels unpack them in).
void phi_repack_q5_0(const uint8_t *b, int r, uint8_t *o) {
    memcpy(o + 2 * r, b + OFF(block_q5_0, d), 2);
    for (int v = 0; v < 4; v++) memcpy(o + 32 + 64 * v + 4 * r, b + OFF(block_q5_0, qs) + 4 * v, 4);
    uint32_t qh;
    memcpy(&qh, b + OFF(block_q5_0, qh), 4);
    for (int u = 0; u < 8; u++) {
        uint64_t mask;
        memcpy(&mask, o + 288 + 8 * u, 8);
        mask |= (uint64_t)((qh >> (4 * u)) & 0xF) << (4 * r);
        memcpy(o + 288 + 8 * u, &mask, 8);
    }
}
void phi_unpack_q5_0(const uint8_t *o, int r, uint8_t *b) {
    memcpy(b + OFF(block_q5_0, d), o + 2 * r, 2);
    for (int v = 0; v < 4; v++) memcpy(b + OFF(block_q5_0, qs) + 4 * v, o + 32 + 64 * v + 4 * r, 4);
    uint32_t qh = 0;
    for (int u = 0; u < 8; u++) {
        uint64_t mask;
        memcpy(&mask, o + 288 + 8 * u, 8);
        qh |= (uint32_t)((mask >> (4 * r)) & 0xF) << (4 * u);
    }
    memcpy(b + OFF(block_q5_0, qh), &qh, 4);
}

void phi_repack_q8_0(const uint8_t *b, int r, uint8_t *o) {
    memcpy(o + 2 * r, b + OFF(block_q8_0, d), 2);
    for (int v = 0; v < 8; v++)
        for (int i = 0; i < 4; i++) o[32 + 64 * v + 4 * r + i] = (uint8_t)(b[OFF(block_q8_0, qs) + 4 * v + i] ^ 0x80);
}
void phi_unpack_q8_0(const uint8_t *o, int r, uint8_t *b) {
    memcpy(b + OFF(block_q8_0, d), o + 2 * r, 2);
    for (int v = 0; v < 8; v++)
        for (int i = 0; i < 4; i++) b[OFF(block_q8_0, qs) + 4 * v + i] = (uint8_t)(o[32 + 64 * v + 4 * r + i] ^ 0x80);
}

static void repack_q45_K(const uint8_t *b, int r, uint8_t *o, int five) {
    memcpy(o + 2 * r, b + OFF(block_q4_K, d), 2);
    memcpy(o + 32 + 2 * r, b + OFF(block_q4_K, dmin), 2);
    for (int j = 0; j < 8; j++) {
        uint8_t s, m;
        scale_min_k4(j, b + OFF(block_q4_K, scales), &s, &m);
        o[64 + 16 * j + r] = s;
        o[192 + 32 * (j / 2) + 2 * r + (j & 1)] = m;
    }
    const uint8_t *ql = b + (five ? OFF(block_q5_K, qs) : OFF(block_q4_K, qs)), *qh = b + OFF(block_q5_K, qh);
    for (int v = 0; v < 32; v++) memcpy(o + (five ? q5_vec(v / 8, v % 8) : 320 + 64 * v) + 4 * r, ql + 4 * v, 4);
    if (five)
        for (int j = 0; j < 8; j++)
            for (int q = 0; q < 8; q++) {
                uint64_t mask;
                memcpy(&mask, o + q5_mask(j, q), 8);
                for (int i = 0; i < 4; i++) mask |= (uint64_t)((qh[4 * q + i] >> j) & 1) << (4 * r + i);
                memcpy(o + q5_mask(j, q), &mask, 8);
            }
}
static void unpack_q45_K(const uint8_t *o, int r, uint8_t *b, int five) {
    memcpy(b + OFF(block_q4_K, d), o + 2 * r, 2);
    memcpy(b + OFF(block_q4_K, dmin), o + 32 + 2 * r, 2);
    uint8_t *sc = b + OFF(block_q4_K, scales);
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
    uint8_t *ql = b + (five ? OFF(block_q5_K, qs) : OFF(block_q4_K, qs)), *qh = b + OFF(block_q5_K, qh);
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
}
void phi_repack_q4_K(const uint8_t *b, int r, uint8_t *o) { repack_q45_K(b, r, o, 0); }
void phi_unpack_q4_K(const uint8_t *o, int r, uint8_t *b) { unpack_q45_K(o, r, b, 0); }
void phi_repack_q5_K(const uint8_t *b, int r, uint8_t *o) { repack_q45_K(b, r, o, 1); }
void phi_unpack_q5_K(const uint8_t *o, int r, uint8_t *b) { unpack_q45_K(o, r, b, 1); }

void phi_repack_q6_K(const uint8_t *b, int r, uint8_t *o) {
    memcpy(o + 2 * r, b + OFF(block_q6_K, d), 2);
    for (int g = 0; g < 16; g++) o[32 + 16 * g + r] = b[OFF(block_q6_K, scales) + g];
    const uint8_t *ql = b + OFF(block_q6_K, ql), *qh = b + OFF(block_q6_K, qh);
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const int q = l / 4, at = 4 * r + l % 4;
            q6_to_xyz(ql[64 * h + l], ql[64 * h + 32 + l], qh[32 * h + l], o + q6_vec(h, 0, q) + at,
                      o + q6_vec(h, 1, q) + at, o + q6_vec(h, 2, q) + at);
        }
}
void phi_unpack_q6_K(const uint8_t *o, int r, uint8_t *b) {
    memcpy(b + OFF(block_q6_K, d), o + 2 * r, 2);
    for (int g = 0; g < 16; g++) b[OFF(block_q6_K, scales) + g] = o[32 + 16 * g + r];
    uint8_t *ql = b + OFF(block_q6_K, ql), *qh = b + OFF(block_q6_K, qh);
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const int q = l / 4, at = 4 * r + l % 4;
            xyz_to_q6(o[q6_vec(h, 0, q) + at], o[q6_vec(h, 1, q) + at], o[q6_vec(h, 2, q) + at], ql + 64 * h + l,
                      ql + 64 * h + 32 + l, qh + 32 * h + l);
        }
}
