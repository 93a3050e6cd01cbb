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

static void dot_c(const void *wv, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
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

// The AVX2 body takes the groups in pairs (g, g + 1): one 32-byte load holds both groups' bytes, so
// the low nibbles are values 0...15 of g and of g + 1, the high nibbles values 16...31 of each. The
// activations are reordered to match (pair_activations: a_g[0..15] a_g+1[0..15] a_g[16..31]
// a_g+1[16..31]), and each pair's scales come from one 4-value F16C conversion of (d_g, m_g, d_g+1,
// m_g+1) times the activation factors (da_g, da_g·Σa_g, da_g+1, da_g+1·Σa_g+1) laid out alike
// (pair_factors), so a pair costs one multiply and one lane broadcast instead of four scalar
// conversions and products. An odd last group is taken alone.

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
            int8_t t[2 * G];
            memcpy(t, q + p * 2 * G, 2 * G);
            memcpy(q + p * 2 * G, t, G / 2);                    // a_g[0..15]
            memcpy(q + p * 2 * G + G / 2, t + G, G / 2);        // a_g+1[0..15]
            memcpy(q + p * 2 * G + G, t + G / 2, G / 2);        // a_g[16..31]
            memcpy(q + p * 2 * G + 3 * G / 2, t + 3 * G / 2, G / 2);  // a_g+1[16..31]
            float *fp = f + (i * pairs + p) * 4;
            fp[0] = da[2 * p];     fp[1] = da[2 * p] * (float)sa[2 * p];
            fp[2] = da[2 * p + 1]; fp[3] = da[2 * p + 1] * (float)sa[2 * p + 1];
        }
    }
    return f;
}

typedef struct { const ck_q4_matrix *w; const float *factors; } q4_pairs;

CK_INLINE CK_AVX2 void dot_avx2_m(const int MR, const q4_pairs *pw, const ck_qact *a, long i0, long j, float *out) {
    const ck_q4_matrix *w = pw->w;
    const long kp = a->kp, ng = a->nb, pairs = ng / 2;
    const unsigned char *pr = w->packed + j * (kp / 2);
    const uint16_t *dm = w->dm + j * ng * 2;
    const __m256i mask = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    const __m256i lanes = _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2);
    __m256 acc[4];
    __m128 acc_m[4];
    for (int i = 0; i < MR; i++) { acc[i] = _mm256_setzero_ps(); acc_m[i] = _mm_setzero_ps(); }
    for (long p = 0; p < pairs; p++) {
        const __m256i b = _mm256_loadu_si256((const __m256i *)(pr + p * G));
        const __m256i lo = _mm256_and_si256(b, mask), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), mask);
        const __m128 wdm = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(dm + 4 * p)));   // d, m, d', m'
        for (int i = 0; i < MR; i++) {
            const int8_t *aq = a->q + (i0 + i) * kp + p * 2 * G;
            const __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)aq)),
                                                 _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(aq + G))));
            const __m256i s = _mm256_madd_epi16(s16, ones);      // lanes 0-3: group g, 4-7: group g + 1
            const __m128 f = _mm_mul_ps(wdm, _mm_loadu_ps(pw->factors + ((i0 + i) * pairs + p) * 4));
            const __m256 scale = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), lanes);
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc[i]);
            acc_m[i] = _mm_add_ps(acc_m[i], f);                  // lanes 1, 3: m·da·Σa of each group
        }
    }
    float tail[4] = {0, 0, 0, 0};
    if (ng % 2) {   // the odd last group, in the original byte order (pair_activations leaves it)
        const long g = ng - 1;
        const __m128i b = _mm_loadu_si128((const __m128i *)(pr + g * (G / 2)));
        const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), mask);
        const float d = _cvtsh_ss(dm[2 * g]), m = _cvtsh_ss(dm[2 * g + 1]);
        for (int i = 0; i < MR; i++) {
            const __m256i av = _mm256_loadu_si256((const __m256i *)(a->q + (i0 + i) * kp + g * G));
            const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(q, av), ones);
            const float da = a->scale[(i0 + i) * ng + g];
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * da), acc[i]);
            tail[i] = m * (da * (float)a->sum[(i0 + i) * ng + g]);
        }
    }
    for (int i = 0; i < MR; i++) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        const __m128 mm = _mm_add_ss(_mm_shuffle_ps(acc_m[i], acc_m[i], 1), _mm_shuffle_ps(acc_m[i], acc_m[i], 3));
        out[i] = _mm_cvtss_f32(s) + (_mm_cvtss_f32(mm) + tail[i]);
    }
}

/// Up to 4 rows per pass: passes of 8 (8 + 8 accumulators, which spill) measured 5–25 % slower at 8
/// and 16 rows on the Zen 3 (scripts/quant_kbench.c, noisy); a row's result is the same either way.
CK_AVX2 static void dot_avx2_4(const void *w, const ck_qact *a, long i0, int mr, long j, float *out) {
    switch (mr) {
    case 1: dot_avx2_m(1, w, a, i0, j, out); break;
    case 2: dot_avx2_m(2, w, a, i0, j, out); break;
    case 3: dot_avx2_m(3, w, a, i0, j, out); break;
    default: dot_avx2_m(4, w, a, i0, j, out); break;
    }
}

CK_AVX2 static void dot_avx2(const void *w, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    dot_avx2_4(w, a, i0, mr < 4 ? mr : 4, j, out);
    if (mr > 4) dot_avx2_4(w, a, i0 + 4, mr - 4, j, out + 4);
}

int ck_q4_multiply(const ck_q4_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta) {
    ck_qact a;
    if (!ck_qact_make(&a, x, m, w->k, ldx, G)) return 0;
    if (ck_quant_use_avx2()) {
        float *factors = pair_activations(&a);
        if (!factors) { ck_qact_free(&a); return 0; }
        const q4_pairs pw = {w, factors};
        ck_quant_run(&pw, &a, w->n, dot_avx2, y, ldy, beta);
        free(factors);
    } else {
        ck_quant_run(w, &a, w->n, dot_c, y, ldy, beta);
    }
    ck_qact_free(&a);
    return 1;
}
