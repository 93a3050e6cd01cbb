// q4's SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): MR (1...8 at VNNI, 1...4
// at AVX2) activation rows against weight row j, the groups in pairs and the pairs in twos as
// quant_q4.c describes, in 16 lanes: lanes 0-3 / 4-7 groups g, g + 1 of the even pair, 8-11 / 12-15
// of the odd one. Each pair's nibbles (u8, 0...15) times the reordered int8 activations are summed
// exactly in its 8 int32 lanes: AVX2 by vpmaddubsw (the two halves' int16 sums added, 4·15·127
// fits) and vpmaddwd on two ymm, VNNI by two vpdpbusd on one zmm. An odd last pair goes into lanes
// 0-7 alone; the result is the sum of the two halves' 8 lanes. The lanes hold the same integers and
// take the same F32 operations at both levels, so the results are the same bits.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

CK_INLINE CK_QTARGET void CK_QNAME(q4_rows)(const int MR, const q4_pairs *pw, const ck_qact *a, long i0, long j, float *out) {
    const ck_q4_matrix *w = pw->w;
    const long kp = a->kp, ng = a->nb, pairs = ng / 2, quads = pairs / 2;
    const unsigned char *pr = w->packed + j * (kp / 2);
    const uint16_t *dm = w->dm + j * ng * 2;
    const __m256i lanes = _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2);
    // acc: 16 F32 lanes, lanes 0-7 the even pairs of groups, 8-15 the odd ones (one zmm at VNNI,
    // lo / hi ymm at AVX2); acc_m: lanes 1, 3 m·da·Σa of each pair's groups, the pairs in order.
#if CK_QVNNI
    const __m512i mask = _mm512_set1_epi8(15);
    const __m512i quad_lanes = _mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6);
    __m512 acc[CK_QUANT_MR];
#else
    const __m256i mask = _mm256_set1_epi8(15);
    __m256 acc_lo[CK_QUANT_MR], acc_hi[CK_QUANT_MR];
#endif
    __m128 acc_m[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) {
#if CK_QVNNI
        acc[i] = _mm512_setzero_ps();
#else
        acc_lo[i] = _mm256_setzero_ps(); acc_hi[i] = _mm256_setzero_ps();
#endif
        acc_m[i] = _mm_setzero_ps();
    }
#if CK_QVNNI
    for (long q = 0; q < quads; q++) {   // pairs 2q, 2q + 1: 64 bytes of W
        const __m256 wdm = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(dm + 8 * q)));  // (d, m, d', m') × 2
        const __m512i b = _mm512_loadu_si512(pr + q * 2 * G);
        CK_QUANT_PREFETCH_AHEAD(pr + q * 2 * G, 1);
        if (q % 4 == 0) CK_QUANT_PREFETCH_AHEAD(dm + 8 * q, 4);   // 4 bytes of (d, m) per 16 of W
        const __m512i lo = _mm512_and_si512(b, mask), hi = _mm512_and_si512(_mm512_srli_epi16(b, 4), mask);
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int8_t *aq = a->q + (i0 + i) * kp + q * 4 * G;   // quad order (pair_activations)
            const __m256 f = _mm256_mul_ps(wdm, _mm256_loadu_ps(pw->factors + ((i0 + i) * pairs + 2 * q) * 4));
            const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(aq)), hi,
                                                  _mm512_loadu_si512(aq + 2 * G));
            const __m512 scale = _mm512_permutexvar_ps(quad_lanes, _mm512_castps256_ps512(f));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, acc[i]);
            acc_m[i] = _mm_add_ps(_mm_add_ps(acc_m[i], _mm256_castps256_ps128(f)), _mm256_extractf128_ps(f, 1));
        }
    }
#else
    // The same lanes pair by pair (few live registers): pair 2q + h into acc_lo (h = 0) or acc_hi (h = 1).
    for (long q = 0; q < quads; q++)
        for (int h = 0; h < 2; h++) {
            const long p = 2 * q + h;
            const __m256i b = _mm256_loadu_si256((const __m256i *)(pr + p * G));
            if (h == 0) {
                CK_QUANT_PREFETCH_AHEAD(pr + p * G, 1);
                if (q % 4 == 0) CK_QUANT_PREFETCH_AHEAD(dm + 4 * p, 4);
            }
            const __m256i lo = _mm256_and_si256(b, mask), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), mask);
            const __m128 wdm = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(dm + 4 * p)));   // d, m, d', m'
            CK_UNROLL
            for (int i = 0; i < MR; i++) {
                const int8_t *aq = a->q + (i0 + i) * kp + q * 4 * G + h * G;   // quad order (pair_activations)
                const __m256i a0 = _mm256_loadu_si256((const __m256i *)aq), a1 = _mm256_loadu_si256((const __m256i *)(aq + 2 * G));
                // the int16 pair sums of both halves added first: 4·15·127 still fits
                const __m256i s = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, a0), _mm256_maddubs_epi16(hi, a1)),
                                                    _mm256_set1_epi16(1));
                const __m128 f = _mm_mul_ps(wdm, _mm_loadu_ps(pw->factors + ((i0 + i) * pairs + p) * 4));
                const __m256 scale = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), lanes);
                if (h == 0) acc_lo[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc_lo[i]);
                else acc_hi[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc_hi[i]);
                acc_m[i] = _mm_add_ps(acc_m[i], f);
            }
        }
#endif
    __m256 lo_acc[CK_QUANT_MR], hi_acc[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) {
#if CK_QVNNI
        lo_acc[i] = _mm512_castps512_ps256(acc[i]);
        hi_acc[i] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[i]), 1));
#else
        lo_acc[i] = acc_lo[i]; hi_acc[i] = acc_hi[i];
#endif
    }
    if (pairs % 2) {   // the odd last pair, in pair order, into lanes 0-7
        const long p = pairs - 1;
        const __m256i m8 = _mm256_set1_epi8(15);
        const __m256i b = _mm256_loadu_si256((const __m256i *)(pr + p * G));
        const __m256i lo = _mm256_and_si256(b, m8), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), m8);
        const __m128 wdm = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(dm + 4 * p)));   // d, m, d', m'
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int8_t *aq = a->q + (i0 + i) * kp + p * 2 * G;
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)aq), a1 = _mm256_loadu_si256((const __m256i *)(aq + G));
#if CK_QVNNI
            const __m256i s = CK_DPBUSD(CK_DPBUSD(_mm256_setzero_si256(), lo, a0), hi, a1);
#else
            const __m256i s = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, a0), _mm256_maddubs_epi16(hi, a1)),
                                                _mm256_set1_epi16(1));
#endif
            const __m128 f = _mm_mul_ps(wdm, _mm_loadu_ps(pw->factors + ((i0 + i) * pairs + p) * 4));
            const __m256 scale = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), lanes);
            lo_acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, lo_acc[i]);
            acc_m[i] = _mm_add_ps(acc_m[i], f);
        }
    }
    float tail[CK_QUANT_MR] = {0};
    if (ng % 2) {   // the odd last group, in the original byte order (pair_activations leaves it)
        const long g = ng - 1;
        const __m256i m8 = _mm256_set1_epi8(15);
        const __m128i b = _mm_loadu_si128((const __m128i *)(pr + g * (G / 2)));
        const __m256i qv = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), m8);
        const float d = _cvtsh_ss(dm[2 * g]), m = _cvtsh_ss(dm[2 * g + 1]);
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const __m256i av = _mm256_loadu_si256((const __m256i *)(a->q + (i0 + i) * kp + g * G));
            const __m256i s = CK_DPBUSD(_mm256_setzero_si256(), qv, av);
            const float da = a->scale[(i0 + i) * ng + g];
            lo_acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * da), lo_acc[i]);
            tail[i] = m * (da * (float)a->sum[(i0 + i) * ng + g]);
        }
    }
    CK_UNROLL
    for (int i = 0; i < MR; i++) {
        const __m128 mm = _mm_add_ss(_mm_shuffle_ps(acc_m[i], acc_m[i], 1), _mm_shuffle_ps(acc_m[i], acc_m[i], 3));
        out[i] = hsum8(_mm256_add_ps(lo_acc[i], hi_acc[i])) + (_mm_cvtss_f32(mm) + tail[i]);
    }
}

/// Rows per pass: 8 at VNNI (8 zmm + 8 xmm accumulators), 3 at AVX2 (9 of its 16 ymm registers; 4
/// measured 5–10 % slower on the Zen 5 under GPT2D_ISA=avx2); a row's result is the same either way.
CK_QTARGET static void CK_QNAME(q4_column)(const void *w, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
#if CK_QVNNI
    CK_QUANT_ROWS(CK_QNAME(q4_rows), w, a, i0, mr, j, out);
#else
    CK_QUANT_ROWS3(CK_QNAME(q4_rows), w, a, i0, mr, j, out);
#endif
}

CK_QTARGET static void CK_QNAME(q4_dot)(const void *w, const ck_qact *a, long i0, int mr, long j, int nj,
                                        float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    CK_QUANT_EACH_COLUMN(CK_QNAME(q4_column), w, a, i0, mr, j, nj, out);
}
