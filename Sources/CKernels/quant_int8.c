// int8 weights (CK_I8_BLOCK = 64 values per block along K, one F32 scale each; see ckernels.h):
// quantization, dequantization, and the small-M product against int8 activations (same blocks),
// int32 dot products per block (VNNI vpdpbusd or AVX2 vpmaddubsw/vpmaddwd: quant_int8_body.h; or
// portable C).
#include "quant_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

/// Rows from which the VNNI body takes the block pairs in zmm (quant_int8_body.h, i8_dot).
enum { B = CK_I8_BLOCK, VNNI_PAIR_ROWS = 4 };

static long padded(long k) { return (k + B - 1) / B * B; }

void ck_i8_quantize(const float *w, long n, long k, signed char *q, float *scale) {
    const long kp = padded(k), nb = kp / B;
    for (long j = 0; j < n; j++) {
        const float *wr = w + j * k;
        for (long b = 0; b < nb; b++) {
            const long p0 = b * B, p1 = p0 + B < k ? p0 + B : k;
            float amax = 0.0f;
            for (long p = p0; p < p1; p++) amax = fmaxf(amax, fabsf(wr[p]));
            const float d = amax / 127.0f;
            for (long p = p0; p < p0 + B; p++) {
                long v = p < p1 && d > 0.0f ? lrintf(wr[p] / d) : 0;
                q[j * kp + p] = (signed char)(v > 127 ? 127 : v < -127 ? -127 : v);
            }
            scale[j * nb + b] = d;
        }
    }
}

void ck_i8_dequantize_rows(const ck_i8_matrix *w, long j0, long j1, float *out, long ldo) {
    const long kp = padded(w->k), nb = kp / B;
    for (long j = j0; j < j1; j++)
        for (long p = 0; p < w->k; p++)
            out[(j - j0) * ldo + p] = (float)w->q[j * kp + p] * w->scale[j * nb + p / B];
}

/// Portable: per block an exact int32 sum, scaled by both blocks' scales into an F32 total.
static void dot_c_column(const ck_i8_matrix *w, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    const long kp = a->kp, nb = a->nb;
    for (int i = 0; i < mr; i++) {
        const signed char *wq = w->q + j * kp;
        const int8_t *aq = a->q + (i0 + i) * kp;
        float acc = 0.0f;
        for (long b = 0; b < nb; b++) {
            int32_t s = 0;
            for (long p = b * B; p < b * B + B; p++) s += (int32_t)wq[p] * aq[p];
            acc += (float)s * (w->scale[j * nb + b] * a->scale[(i0 + i) * nb + b]);
        }
        out[i] = acc;
    }
}

static void dot_c(const void *w, const ck_qact *a, long i0, int mr, long j, int nj, float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    CK_QUANT_EACH_COLUMN(dot_c_column, (const ck_i8_matrix *)w, a, i0, mr, j, nj, out);
}

/// What the SIMD bodies (quant_int8_body.h) read: w, and the activations a with their bytes
/// reordered per pair of blocks (b, b + 1) as b[0..31] b+1[0..31] b[32..63] b+1[32..63] (an odd last
/// block stays in order; at the VNNI level every byte also has its sign bit flipped: a + 128 as u8).
typedef struct {
    const ck_i8_matrix *w;
    const ck_qact *a;
    const int8_t *q;
    const float *ascale;   // VNNI pairs only: each block's a_scale in 8 lanes, [m, nb, 8] (else NULL)
} i8_acts;

/// a->scale spread to 8 lanes per block, as the VNNI pairs loop multiplies it (one 16-lane load per
/// row and pair of blocks instead of two broadcasts and an insert; 64-byte aligned, in *mem: free it).
static const float *spread_scales(const ck_qact *a, void **mem) {
    *mem = malloc(sizeof(float) * (size_t)(a->m * a->nb * 8) + 64);
    if (!*mem) return NULL;
    float *s = (float *)(((uintptr_t)*mem + 63) & ~(uintptr_t)63);
    for (long i = 0; i < a->m * a->nb; i++)
        for (int l = 0; l < 8; l++) s[i * 8 + l] = a->scale[i];
    return s;
}

/// a->q reordered for the pairs (and flipped when `flip`), in place.
static void pair_activations(ck_qact *a, int flip) {
    const long pairs = a->nb / 2;
    for (long i = 0; i < a->m; i++) {
        int8_t *q = a->q + i * a->kp;
        for (long p = 0; p < pairs; p++) ck_qact_interleave_halves(q + p * 2 * B, B);
        if (flip)
            for (long p = 0; p < a->kp; p++) q[p] = (int8_t)((uint8_t)q[p] ^ 0x80u);
    }
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
    if (level >= CK_QUANT_AVX2) {
        pair_activations(&a, level == CK_QUANT_VNNI);
        void *mem = NULL;
        const float *ascale = level == CK_QUANT_VNNI && m >= VNNI_PAIR_ROWS ? spread_scales(&a, &mem) : NULL;
        if (level == CK_QUANT_VNNI && m >= VNNI_PAIR_ROWS && !ascale) { ck_qact_free(&a); return 0; }
        const i8_acts c = {w, &a, a.q, ascale};
        ck_quant_run(&c, &a, w->n, level == CK_QUANT_VNNI ? i8_dot_vnni : i8_dot_avx2, y, ldy, beta);
        free(mem);
    } else {
        ck_quant_run(w, &a, w->n, dot_c, y, ldy, beta);
    }
    ck_qact_free(&a);
    return 1;
}

static void dequant_rows(const void *w, long j0, long j1, float *out, long ldo) {
    ck_i8_dequantize_rows(w, j0, j1, out, ldo);
}

void ck_i8_dequantize_rows_parallel(const ck_i8_matrix *w, long j0, long j1, float *out, long ldo) {
    ck_quant_dequantize_parallel(w, dequant_rows, j0, j1, out, ldo);
}
