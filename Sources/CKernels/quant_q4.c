// q4 weights, the project's own 4-bit group format (see ckernels.h): 32 values per group along K,
// each w = d·q + m with q in 0...15 and a binary16 scale d and offset m per group, stored in tiles of
// CK_QUANT_TILE (16) output rows: per tile and group 256 bytes of nibbles laid out as the integer dot
// products read them (byte 64L + 4c + j holds value 8L + j of the tile's row c in its low nibble and
// value 8L + 4 + j in its high nibble, L = 0...3), then the 16 rows' d and the 16 rows' m. One 64-byte
// load, a mask and a shift give a register whose 32-bit lane c is 4 values of row c: an unsigned ×
// signed byte dot product (vpdpbusd, or vpmaddubsw + vpmaddwd) against 4 activation bytes broadcast to
// every lane multiplies 16 rows at once, and the offset enters once per group as m·da·Σa from the
// activations' block sums: per (row, column, group) Σ w·x = da·(d·Σ q·a) + m·(da·Σa), one exact int32
// and two fused multiply-adds in F32, the groups in order (quant_q4_body.h; the portable body below).
#include "quant_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

enum { G = CK_Q4_GROUP, T = CK_QUANT_TILE };

static long padded(long k) { return (k + G - 1) / G * G; }

/// Row j's d (e = 0) or m (e = 1) of group g in dm.
static long dm_index(long j, long g, long ng, int e) { return ((j / T) * ng + g) * 2 * T + e * T + j % T; }

/// Row j's group g's 32 values.
static void get_group(const unsigned char *packed, long j, long g, long ng, unsigned char q[G]) {
    ck_tile_nibbles_get(packed + ck_tile_nibbles_offset(j, g, ng, G / 8), G / 8, q);
}

long ck_q4_tiled_rows(long n) { return (n + T - 1) / T * T; }

/// Row j's group g (values q, scale hd, offset hm) into its tile.
static void put_group(unsigned char *packed, uint16_t *dm, long j, long g, long ng, const unsigned char q[G], uint16_t hd,
                      uint16_t hm) {
    ck_tile_nibbles_put(packed + ck_tile_nibbles_offset(j, g, ng, G / 8), G / 8, q);
    dm[dm_index(j, g, ng, 0)] = hd;
    dm[dm_index(j, g, ng, 1)] = hm;
}

/// Zeroed tiles: the last tile's missing rows stay zeros (q, d, m = 0).
static void clear_tiles(long n, long k, unsigned char *packed, uint16_t *dm) {
    const long kp = padded(k), np = ck_q4_tiled_rows(n);
    memset(packed, 0, (size_t)(np * kp / 2));
    memset(dm, 0, sizeof(uint16_t) * (size_t)(np * kp / G * 2));
}

void ck_q4_quantize(const float *w, long n, long k, unsigned char *packed, uint16_t *dm) {
    const long kp = padded(k), ng = kp / G;
    clear_tiles(n, k, packed, dm);
    for (long j = 0; j < n; j++) {
        const float *wr = w + j * k;
        for (long g = 0; g < ng; g++) {
            const long p0 = g * G, p1 = p0 + G < k ? p0 + G : k;
            float lo = wr[p0], hi = wr[p0];
            for (long p = p0; p < p1; p++) { lo = fminf(lo, wr[p]); hi = fmaxf(hi, wr[p]); }
            // The stored (rounded) d and m are the ones the values are quantized against.
            const uint16_t hd = ck_f32_to_f16((hi - lo) / 15.0f), hm = ck_f32_to_f16(lo);
            const float d = ck_f16_to_f32(hd), m = ck_f16_to_f32(hm), inv = d > 0.0f ? 1.0f / d : 0.0f;
            unsigned char qs[G];
            for (long t = 0; t < G; t++) {
                const long p = p0 + t;
                const long v = p < p1 ? lrintf((wr[p] - m) * inv) : 0;
                qs[t] = (unsigned char)(v < 0 ? 0 : v > 15 ? 15 : v);
            }
            put_group(packed, dm, j, g, ng, qs, hd, hm);
        }
    }
}

void ck_q4_tile_groups(const unsigned char *groups, long group_stride, const uint16_t *group_dm, long n, long k,
                       unsigned char *packed, uint16_t *dm) {
    const long ng = padded(k) / G;
    clear_tiles(n, k, packed, dm);
    for (long j = 0; j < n; j++)
        for (long g = 0; g < ng; g++) {
            const unsigned char *src = groups + (j * ng + g) * group_stride;
            unsigned char qs[G];
            for (int t = 0; t < G / 2; t++) { qs[t] = src[t] & 15; qs[t + G / 2] = src[t] >> 4; }
            put_group(packed, dm, j, g, ng, qs, group_dm[(j * ng + g) * 2], group_dm[(j * ng + g) * 2 + 1]);
        }
}

void ck_q4_dequantize_rows(const ck_q4_matrix *w, long j0, long j1, float *out, long ldo) {
    const long kp = padded(w->k), ng = kp / G;
    for (long j = j0; j < j1; j++)
        for (long g = 0; g < ng; g++) {
            const float d = ck_f16_to_f32(w->dm[dm_index(j, g, ng, 0)]), m = ck_f16_to_f32(w->dm[dm_index(j, g, ng, 1)]);
            unsigned char q[G];
            get_group(w->packed, j, g, ng, q);
            for (int t = 0; t < G && g * G + t < w->k; t++) out[(j - j0) * ldo + g * G + t] = (float)q[t] * d + m;
        }
}

static void dequant_rows(const void *w, long j0, long j1, float *out, long ldo) {
    ck_q4_dequantize_rows(w, j0, j1, out, ldo);
}

void ck_q4_dequantize_rows_parallel(const ck_q4_matrix *w, long j0, long j1, float *out, long ldo) {
    ck_quant_dequantize_parallel(w, dequant_rows, j0, j1, out, ldo);
}

/// Each activation block's da·Σa (the offsets' factor), [m, nb] (NULL on failure).
static float *offset_factors(const ck_qact *a) {
    float *f = malloc(sizeof(float) * (size_t)(a->m * a->nb) + 64);
    if (!f) return NULL;
    for (long i = 0; i < a->m * a->nb; i++) f[i] = a->scale[i] * (float)a->sum[i];
    return f;
}

typedef struct { const ck_q4_matrix *w; const float *das; } q4_tiles;

/// Portable: the SIMD bodies' operations (quant_q4_body.h) with fmaf, so the same bits; each group's
/// 32 values unpacked once for all the rows.
static void tile_c(const void *cv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    const q4_tiles *c = cv;
    const ck_q4_matrix *w = c->w;
    const long kp = a->kp, ng = a->nb;
    for (int col = 0; col < nt; col++) {
        const long j = j0 + col;
        float acc[CK_QUANT_MR] = {0};
        for (long g = 0; g < ng; g++) {
            unsigned char q[G];
            get_group(w->packed, j, g, ng, q);
            const float d = ck_f16_to_f32(w->dm[dm_index(j, g, ng, 0)]), m = ck_f16_to_f32(w->dm[dm_index(j, g, ng, 1)]);
            for (int i = 0; i < mr; i++) {
                const int8_t *aq = a->q + (i0 + i) * kp + g * G;
                int32_t s = 0;
                for (int t = 0; t < G; t++) s += q[t] * aq[t];
                const float da = a->scale[(i0 + i) * ng + g];
                acc[i] = fmaf((float)s, d * da, acc[i]);
                acc[i] = fmaf(m, c->das[(i0 + i) * ng + g], acc[i]);
            }
        }
        for (int i = 0; i < mr; i++) out[i * T + col] = acc[i];
    }
}

#define CK_QVNNI 0
#include "quant_q4_body.h"
#undef CK_QVNNI
#define CK_QVNNI 1
#include "quant_q4_body.h"
#undef CK_QVNNI

int ck_q4_multiply(const ck_q4_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta) {
    ck_qact a;
    if (!ck_qact_make(&a, x, m, w->k, ldx, G)) return 0;
    float *das = offset_factors(&a);
    if (!das) { ck_qact_free(&a); return 0; }
    const int level = ck_quant_level();
    const q4_tiles c = {w, das};
    ck_quant_run_tiles(&c, &a, w->n, level == CK_QUANT_VNNI ? q4_tile_vnni : level == CK_QUANT_AVX2 ? q4_tile_avx2 : tile_c,
                       y, ldy, beta);
    free(das);
    ck_qact_free(&a);
    return 1;
}
