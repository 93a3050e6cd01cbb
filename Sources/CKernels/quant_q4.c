// q4 weights, the project's own 4-bit group format (see ckernels.h): 32 values per group along K,
// each w = d·q + m with q in 0...15 and a binary16 scale d and offset m per group. A group's 16
// bytes hold value t in the low nibble of byte t and value t + 16 in its high nibble, so one 16-byte
// load, a shift and a mask give all 32 values as bytes in order. The product multiplies those bytes
// (unsigned) by int8 activations of the same groups (vpmaddubsw; two of its int16 sums added, 4·15·127,
// still fit) and adds m·Σa from the activation block sums: per group Σ w·x = da·(d·Σ q·a + m·Σ a).
#include "quant_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

enum { G = CK_Q4_GROUP };

static long padded(long k) { return (k + G - 1) / G * G; }

void ck_q4_quantize(const float *w, long n, long k, unsigned char *packed, uint16_t *dm) {
    const long kp = padded(k), ng = kp / G;
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
            unsigned char *pg = packed + j * (kp / 2) + g * (G / 2);
            for (int t = 0; t < G / 2; t++) pg[t] = (unsigned char)(qs[t] | qs[t + G / 2] << 4);
            dm[(j * ng + g) * 2] = hd;
            dm[(j * ng + g) * 2 + 1] = hm;
        }
    }
}

void ck_q4_dequantize_rows(const ck_q4_matrix *w, long j0, long j1, float *out, long ldo) {
    const long kp = padded(w->k), ng = kp / G;
    for (long j = j0; j < j1; j++)
        for (long g = 0; g < ng; g++) {
            const unsigned char *pg = w->packed + j * (kp / 2) + g * (G / 2);
            const float d = ck_f16_to_f32(w->dm[(j * ng + g) * 2]), m = ck_f16_to_f32(w->dm[(j * ng + g) * 2 + 1]);
            for (long t = 0; t < G && g * G + t < w->k; t++) {
                const unsigned q = t < G / 2 ? pg[t] & 15u : pg[t - G / 2] >> 4;
                out[(j - j0) * ldo + g * G + t] = (float)q * d + m;
            }
        }
}

static void dequant_rows(const void *w, long j0, long j1, float *out, long ldo) {
    ck_q4_dequantize_rows(w, j0, j1, out, ldo);
}

void ck_q4_dequantize_rows_parallel(const ck_q4_matrix *w, long j0, long j1, float *out, long ldo) {
    ck_quant_dequantize_parallel(w, dequant_rows, j0, j1, out, ldo);
}

static void dot_c_column(const void *wv, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    const ck_q4_matrix *w = wv;
    const long kp = a->kp, ng = a->nb;
    for (int i = 0; i < mr; i++) {
        const int8_t *aq = a->q + (i0 + i) * kp;
        float acc = 0.0f, acc_m = 0.0f;
        for (long g = 0; g < ng; g++) {
            const unsigned char *pg = w->packed + j * (kp / 2) + g * (G / 2);
            int32_t s = 0;
            for (int t = 0; t < G / 2; t++) s += (pg[t] & 15) * aq[g * G + t] + (pg[t] >> 4) * aq[g * G + t + G / 2];
            const float da = a->scale[(i0 + i) * ng + g];
            const float d = ck_f16_to_f32(w->dm[(j * ng + g) * 2]), m = ck_f16_to_f32(w->dm[(j * ng + g) * 2 + 1]);
            acc += (float)s * (d * da);
            acc_m += m * (da * (float)a->sum[(i0 + i) * ng + g]);
        }
        out[i] = acc + acc_m;
    }
}

static void dot_c(const void *w, const ck_qact *a, long i0, int mr, long j, int nj, float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    CK_QUANT_EACH_COLUMN(dot_c_column, w, a, i0, mr, j, nj, out);
}

// The SIMD bodies (quant_q4_body.h) take the groups in pairs (g, g + 1): one 32-byte load holds both
// groups' bytes, so the low nibbles are values 0...15 of g and of g + 1, the high nibbles values
// 16...31 of each. The activations are reordered to match (pair_activations: a_g[0..15] a_g+1[0..15]
// a_g[16..31] a_g+1[16..31]), and each pair's scales come from one F16C conversion of (d_g, m_g,
// d_g+1, m_g+1) times the activation factors (da_g, da_g·Σa_g, da_g+1, da_g+1·Σa_g+1) laid out alike
// (pair_factors), so a pair costs one multiply and one lane broadcast instead of four scalar
// conversions and products. The pairs go in twos (quads, 64 bytes of W: one zmm at the VNNI
// level), whose activations are reordered once more so that the two pairs' low-nibble halves come
// first (p.lo p+1.lo p.hi p+1.hi, 32 bytes each). An odd last pair, and an odd last group, are
// taken alone.

/// a->q reordered in place for the pairs, and the per-pair factors [m, nb/2, 4] (NULL on failure).
static float *pair_activations(ck_qact *a) {
    const long pairs = a->nb / 2;
    float *f = malloc(sizeof(float) * (size_t)(a->m * (pairs > 0 ? pairs : 1) * 4) + 64);
    if (!f) return NULL;
    for (long i = 0; i < a->m; i++) {
        int8_t *q = a->q + i * a->kp;
        const float *da = a->scale + i * a->nb;
        const int32_t *sa = a->sum + i * a->nb;
        for (long p = 0; p < pairs; p++) {
            ck_qact_interleave_halves(q + p * 2 * G, G);   // a_g[0..15] a_g+1[0..15] a_g[16..31] a_g+1[16..31]
            // a whole quad (pairs p − 1, p): both pairs' low-nibble halves first
            if (p % 2 == 1) ck_qact_interleave_halves(q + (p - 1) * 2 * G, 2 * G);
            float *fp = f + (i * pairs + p) * 4;
            fp[0] = da[2 * p];     fp[1] = da[2 * p] * (float)sa[2 * p];
            fp[2] = da[2 * p + 1]; fp[3] = da[2 * p + 1] * (float)sa[2 * p + 1];
        }
    }
    return f;
}

typedef struct { const ck_q4_matrix *w; const float *factors; } q4_pairs;

#define CK_QVNNI 0
#include "quant_q4_body.h"
#undef CK_QVNNI
#define CK_QVNNI 1
#include "quant_q4_body.h"
#undef CK_QVNNI

int ck_q4_multiply(const ck_q4_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta) {
    ck_qact a;
    if (!ck_qact_make(&a, x, m, w->k, ldx, G)) return 0;
    const int level = ck_quant_level();
    if (level >= CK_QUANT_AVX2) {
        float *factors = pair_activations(&a);
        if (!factors) { ck_qact_free(&a); return 0; }
        const q4_pairs pw = {w, factors};
        ck_quant_run(&pw, &a, w->n, level == CK_QUANT_VNNI ? q4_dot_vnni : q4_dot_avx2, y, ldy, beta);
        free(factors);
    } else {
        ck_quant_run(w, &a, w->n, dot_c, y, ldy, beta);
    }
    ck_qact_free(&a);
    return 1;
}
