// q4's SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): MR (1...4) activation
// rows against weight row j, the groups in pairs as quant_q4.c describes. Each pair's nibbles (u8,
// 0...15) times the reordered int8 activations are summed exactly in 8 int32 lanes (lanes 0-3 group
// g, 4-7 group g + 1): AVX2 by vpmaddubsw (the two halves' int16 sums added, 4·15·127 fits) and
// vpmaddwd, VNNI by two vpdpbusd; the lanes hold the same integers, so the results are the same bits.
#include "quant_body.h"

CK_INLINE CK_QTARGET void CK_QNAME(q4_rows)(const int MR, const q4_pairs *pw, const ck_qact *a, long i0, long j, float *out) {
    const ck_q4_matrix *w = pw->w;
    const long kp = a->kp, ng = a->nb, pairs = ng / 2;
    const unsigned char *pr = w->packed + j * (kp / 2);
    const uint16_t *dm = w->dm + j * ng * 2;
    const __m256i mask = _mm256_set1_epi8(15);
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
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)aq), a1 = _mm256_loadu_si256((const __m256i *)(aq + G));
#if CK_QVNNI
            const __m256i s = CK_DPBUSD(CK_DPBUSD(_mm256_setzero_si256(), lo, a0), hi, a1);
#else       // the int16 pair sums of both halves added first: 4·15·127 still fits
            const __m256i s = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, a0), _mm256_maddubs_epi16(hi, a1)),
                                                _mm256_set1_epi16(1));
#endif      // lanes 0-3: group g, 4-7: group g + 1
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
            const __m256i s = CK_DPBUSD(_mm256_setzero_si256(), q, av);
            const float da = a->scale[(i0 + i) * ng + g];
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * da), acc[i]);
            tail[i] = m * (da * (float)a->sum[(i0 + i) * ng + g]);
        }
    }
    for (int i = 0; i < MR; i++) {
        const __m128 mm = _mm_add_ss(_mm_shuffle_ps(acc_m[i], acc_m[i], 1), _mm_shuffle_ps(acc_m[i], acc_m[i], 3));
        out[i] = hsum8(acc[i]) + (_mm_cvtss_f32(mm) + tail[i]);
    }
}

/// Up to 4 rows per pass: passes of 8 (8 + 8 accumulators) measured 5–25 % slower at 8 and 16 rows
/// on the Zen 3 with AVX2 and ≈ 20 % slower on the Zen 4 with VNNI (scripts/quant_kbench.c, noisy);
/// a row's result is the same either way.
CK_QTARGET static void CK_QNAME(q4_rows4)(const void *w, const ck_qact *a, long i0, int mr, long j, float *out) {
    switch (mr) {
    case 1: CK_QNAME(q4_rows)(1, w, a, i0, j, out); break;
    case 2: CK_QNAME(q4_rows)(2, w, a, i0, j, out); break;
    case 3: CK_QNAME(q4_rows)(3, w, a, i0, j, out); break;
    default: CK_QNAME(q4_rows)(4, w, a, i0, j, out); break;
    }
}

CK_QTARGET static void CK_QNAME(q4_dot)(const void *w, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    CK_QNAME(q4_rows4)(w, a, i0, mr < 4 ? mr : 4, j, out);
    if (mr > 4) CK_QNAME(q4_rows4)(w, a, i0 + 4, mr - 4, j, out + 4);
}
