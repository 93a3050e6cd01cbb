// int8 weights (CK_I8_BLOCK = 64 values per block along K, one F32 scale each; see ckernels.h):
// quantization, dequantization, and the small-M product against int8 activations (same blocks),
// int32 dot products per block (AVX2 vpmaddubsw/vpmaddwd, or portable C).
#include "quant_internal.h"
#include <immintrin.h>
#include <math.h>

#pragma STDC FP_CONTRACT OFF

enum { B = CK_I8_BLOCK };

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
static void dot_c(const void *wv, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    const ck_i8_matrix *w = wv;
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

/// AVX2, MR (1...8) activation rows against weight row j: per block, |w| and w are loaded once for
/// all rows; per row |w| (u8) · (a with w's sign) (s8) in pairs → s16 (≤ 2·127², no saturation) →
/// s32, and the block's F32 scale w_scale·a_scale (one vmulps of two broadcasts).
CK_INLINE CK_AVX2 void dot_avx2_m(const int MR, const ck_i8_matrix *w, const ck_qact *a, long i0, long j,
                                  float out[CK_QUANT_MR]) {
    const long kp = a->kp, nb = a->nb;
    const signed char *wq = w->q + j * kp;
    const float *ws = w->scale + j * nb, *as = a->scale + i0 * nb;
    const int8_t *aq = a->q + i0 * kp;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[CK_QUANT_MR];
    for (int i = 0; i < MR; i++) acc[i] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wq + b * B));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wq + b * B + 32));
        const __m256i u0 = _mm256_abs_epi8(w0), u1 = _mm256_abs_epi8(w1);
        const __m256 wsb = _mm256_broadcast_ss(ws + b);
        for (int i = 0; i < MR; i++) {
            const int8_t *ar = aq + i * kp + b * B;
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)ar);
            const __m256i a1 = _mm256_loadu_si256((const __m256i *)(ar + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(a0, w0)), ones);
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(a1, w1)), ones);
            const __m256 d = _mm256_mul_ps(wsb, _mm256_broadcast_ss(as + i * nb + b));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(p0, p1)), d, acc[i]);
        }
    }
    for (int i = 0; i < MR; i++) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        out[i] = _mm_cvtss_f32(s);
    }
}

CK_AVX2 static void dot_avx2(const void *w, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    switch (mr) {
    case 1: dot_avx2_m(1, w, a, i0, j, out); break;
    case 2: dot_avx2_m(2, w, a, i0, j, out); break;
    case 3: dot_avx2_m(3, w, a, i0, j, out); break;
    case 4: dot_avx2_m(4, w, a, i0, j, out); break;
    case 5: dot_avx2_m(5, w, a, i0, j, out); break;
    case 6: dot_avx2_m(6, w, a, i0, j, out); break;
    case 7: dot_avx2_m(7, w, a, i0, j, out); break;
    default: dot_avx2_m(8, w, a, i0, j, out); break;
    }
}

int ck_i8_multiply(const ck_i8_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta) {
    ck_qact a;
    if (!ck_qact_make(&a, x, m, w->k, ldx, B)) return 0;
    ck_quant_run(w, &a, w->n, ck_quant_use_avx2() ? dot_avx2 : dot_c, y, ldy, beta);
    ck_qact_free(&a);
    return 1;
}

static void dequant_rows(const void *w, long j0, long j1, float *out, long ldo) {
    ck_i8_dequantize_rows(w, j0, j1, out, ldo);
}

void ck_i8_dequantize_rows_parallel(const ck_i8_matrix *w, long j0, long j1, float *out, long ldo) {
    ck_quant_dequantize_parallel(w, dequant_rows, j0, j1, out, ldo);
}
