// int8 weights (CK_I8_BLOCK = 64 values per block along K, one F32 scale each; see ckernels.h), in
// tiles of CK_QUANT_TILE (16) output rows: per tile and block, 16 words of 64 bytes, word d holding
// values 4d…4d+3 of each of the tile's 16 rows (as q + 128, unsigned), then the 16 rows' scales. The
// product multiplies a tile column-wise: each word is one register whose 32-bit lane c is 4 values of
// row c, multiplied by 4 activation bytes broadcast to every lane (VNNI vpdpbusd on u8 (q + 128) ×
// s8 a, minus 128·Σa; AVX2 vpmaddubsw/vpmaddwd on |q| and a with q's sign: quant_int8_body.h; or
// portable C), so every (row, column, block) gets one exact int32 and one F32 multiply-add.
#include "quant_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

enum { B = CK_I8_BLOCK, T = CK_QUANT_TILE, TILE_BLOCK_BYTES = T * B };

static long padded(long k) { return (k + B - 1) / B * B; }

long ck_i8_tiled_rows(long n) { return (n + T - 1) / T * T; }

/// Byte of value p (< kp) of row j, and the index of its block's scale.
static long value_byte(long j, long p, long nb) { return ((j / T) * nb + p / B) * TILE_BLOCK_BYTES + 64 * ((p % B) / 4) + 4 * (j % T) + p % 4; }
static long scale_index(long j, long b, long nb) { return ((j / T) * nb + b) * T + j % T; }

/// Zeroed tiles: q + 128 = 128 for every value the rows do not fill, scale 0.
static void clear_tiles(long n, long k, unsigned char *q, float *scale) {
    const long kp = padded(k), np = ck_i8_tiled_rows(n);
    memset(q, 0x80, (size_t)(np * kp));
    memset(scale, 0, sizeof(float) * (size_t)(np * kp / B));
}

void ck_i8_quantize(const float *w, long n, long k, unsigned char *q, float *scale) {
    const long kp = padded(k), nb = kp / B;
    clear_tiles(n, k, q, scale);
    for (long j = 0; j < n; j++) {
        const float *wr = w + j * k;
        for (long b = 0; b < nb; b++) {
            const long p0 = b * B, p1 = p0 + B < k ? p0 + B : k;
            float amax = 0.0f;
            for (long p = p0; p < p1; p++) amax = fmaxf(amax, fabsf(wr[p]));
            const float d = amax / 127.0f;
            for (long p = p0; p < p1; p++) {
                const long v = d > 0.0f ? lrintf(wr[p] / d) : 0;
                q[value_byte(j, p, nb)] = (unsigned char)((v > 127 ? 127 : v < -127 ? -127 : v) + 128);
            }
            scale[scale_index(j, b, nb)] = d;
        }
    }
}

void ck_i8_tile_rows(const signed char *rows, long ldr, const float *row_scale, long n, long k, unsigned char *q, float *scale) {
    const long nb = padded(k) / B;
    clear_tiles(n, k, q, scale);
    for (long j = 0; j < n; j++) {
        for (long p = 0; p < k; p++) q[value_byte(j, p, nb)] = (unsigned char)(rows[j * ldr + p] + 128);
        for (long b = 0; b < nb; b++) scale[scale_index(j, b, nb)] = row_scale[j];
    }
}

void ck_i8_dequantize_rows(const ck_i8_matrix *w, long j0, long j1, float *out, long ldo) {
    const long nb = padded(w->k) / B;
    for (long j = j0; j < j1; j++)
        for (long b = 0; b < nb; b++) {
            const float d = w->scale[scale_index(j, b, nb)];
            for (long p = b * B; p < b * B + B && p < w->k; p++) out[(j - j0) * ldo + p] = (float)((int)w->q[value_byte(j, p, nb)] - 128) * d;
        }
}

/// Portable: per (row, column, block) an exact int32 sum, then acc = fmaf(sum, w_scale·a_scale, acc)
/// block by block — the SIMD bodies' operations (quant_int8_body.h), so the same bits. Each block of
/// the tile is unpacked once, in address order, into its 16 rows of 64 values.
static void tile_c(const void *wv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    const ck_i8_matrix *w = wv;
    const long kp = a->kp, nb = a->nb;
    const unsigned char *qt = w->q + (j0 / T) * nb * TILE_BLOCK_BYTES;
    const float *st = w->scale + (j0 / T) * nb * T;
    float acc[CK_QUANT_MR][T] = {{0}};
    for (long b = 0; b < nb; b++) {
        int8_t v[T][B];
        const unsigned char *qb = qt + b * TILE_BLOCK_BYTES;
        for (int d = 0; d < B / 4; d++)
            for (int c = 0; c < T; c++)
                for (int j = 0; j < 4; j++) v[c][4 * d + j] = (int8_t)(qb[64 * d + 4 * c + j] - 128);
        for (int i = 0; i < mr; i++) {
            const int8_t *aq = a->q + (i0 + i) * kp + b * B;
            const float as = a->scale[(i0 + i) * nb + b];
            for (int c = 0; c < nt; c++) {
                int32_t s = 0;
                for (int p = 0; p < B; p++) s += (int32_t)v[c][p] * aq[p];
                acc[i][c] = fmaf((float)s, st[b * T + c] * as, acc[i][c]);
            }
        }
    }
    for (int i = 0; i < mr; i++)
        for (int c = 0; c < nt; c++) out[i * T + c] = acc[i][c];
}

#define CK_QVNNI 0
#include "quant_int8_body.h"
#undef CK_QVNNI
#define CK_QVNNI 1
#include "quant_int8_body.h"
#undef CK_QVNNI

int ck_i8_multiply(const ck_i8_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta) {
    ck_qact a;
    if (!ck_qact_make(&a, x, m, w->k, ldx, B)) return 0;
    const int level = ck_quant_level();
    ck_quant_run_tiles(w, &a, w->n, level == CK_QUANT_VNNI ? i8_tile_vnni : level == CK_QUANT_AVX2 ? i8_tile_avx2 : tile_c,
                       y, ldy, beta);
    ck_qact_free(&a);
    return 1;
}

static void dequant_rows(const void *w, long j0, long j1, float *out, long ldo) {
    ck_i8_dequantize_rows(w, j0, j1, out, ldo);
}

void ck_i8_dequantize_rows_parallel(const ck_i8_matrix *w, long j0, long j1, float *out, long ldo) {
    ck_quant_dequantize_parallel(w, dequant_rows, j0, j1, out, ldo);
}
