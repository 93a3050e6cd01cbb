// nf4's (and fp4's) SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): MR (1...8
// at VNNI, 1...3 at AVX2) activation rows against weight row j. Per block the 4-bit indices become
// 16-bit product codes by two vpshufb lookups (low and high bytes), once for all rows; each row's
// block product, codes times the permuted int16 activations (perm_index), is summed exactly in 8
// int32 lanes — AVX2 by vpmaddwd and vpaddd, VNNI by vpdpwssd — and scaled by absmax · a_scale/32767
// into F32 lanes: the even blocks into lanes 0-7, the odd ones into lanes 8-15 of 16, and the result
// is the sum of the two halves. At VNNI a pair of blocks is one 512-bit register (one 64-byte load,
// the activations' int16 chunks interleaved per pair to match); at AVX2 the blocks go one at a time
// into two 256-bit accumulators; an odd last block goes into lanes 0-7 at both. The lanes hold the
// same integers and take the same F32 operations at both levels, so the results are the same bits.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

CK_INLINE CK_QTARGET void CK_QNAME(nf4_rows)(const int MR, const nf4_ctx *c, const ck_qact *a, long i0, long j, float out[CK_QUANT_MR]) {
    const ck_nf4_matrix *w = c->w;
    const long kp = a->kp, nb = a->nb, pairs = nb / 2;
    const unsigned char *pr = w->packed + j * (kp / 2);
    // acc: 16 F32 lanes, 0-7 the even blocks, 8-15 the odd ones (one zmm at VNNI, lo / hi at AVX2).
#if CK_QVNNI
    const __m512i mask = _mm512_set1_epi8(15);
    const __m512i TL = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->lo));
    const __m512i TH = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->hi));
    __m512 acc[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
    for (long p = 0; p < pairs; p++) {   // blocks 2p, 2p + 1: 64 bytes of W
        // W two rows ahead (the next calls' rows), same offset, into L2: −13 to −16 % at one row on
        // the Zen 5 (scripts/quant_kbench.c; one row ahead −7 %, four +0 %).
        _mm_prefetch((const char *)(pr + p * B + 2 * (kp / 2)), _MM_HINT_T1);
        const __m512i bytes = _mm512_loadu_si512(pr + p * B);
        const __m512i il = _mm512_and_si512(bytes, mask), ih = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), mask);
        const __m512i ll = _mm512_shuffle_epi8(TL, il), lh = _mm512_shuffle_epi8(TH, il);
        const __m512i hl = _mm512_shuffle_epi8(TL, ih), hh = _mm512_shuffle_epi8(TH, ih);
        const __m512i v0 = _mm512_unpacklo_epi8(ll, lh), v1 = _mm512_unpackhi_epi8(ll, lh);
        const __m512i v2 = _mm512_unpacklo_epi8(hl, hh), v3 = _mm512_unpackhi_epi8(hl, hh);
        const __m512 ws = _mm512_castpd_ps(_mm512_insertf64x4(
            _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_set1_ps(block_absmax(w, j * nb + 2 * p)))),
            _mm256_castps_pd(_mm256_set1_ps(block_absmax(w, j * nb + 2 * p + 1))), 1));
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int16_t *ap = c->a16 + (i0 + i) * kp + p * 2 * B;   // pair order (ck_nf4_multiply)
            __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), v0, _mm512_loadu_si512(ap));
            s = _mm512_dpwssd_epi32(s, v1, _mm512_loadu_si512(ap + 32));
            s = _mm512_dpwssd_epi32(s, v2, _mm512_loadu_si512(ap + 64));
            s = _mm512_dpwssd_epi32(s, v3, _mm512_loadu_si512(ap + 96));
            const float *as = c->ascale + (i0 + i) * nb + 2 * p;
            const __m512 asv = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm256_broadcast_ss(as))),
                                                                  _mm256_castps_pd(_mm256_broadcast_ss(as + 1)), 1));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(ws, asv), acc[i]);
        }
    }
    __m256 lo[CK_QUANT_MR], hi[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) {
        lo[i] = _mm512_castps512_ps256(acc[i]);
        hi[i] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[i]), 1));
    }
#else
    __m256 lo[CK_QUANT_MR], hi[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) { lo[i] = _mm256_setzero_ps(); hi[i] = _mm256_setzero_ps(); }
#endif
    const __m256i mask8 = _mm256_set1_epi8(15);
    const __m256i TL8 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)c->lo));
    const __m256i TH8 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)c->hi));
    // Block b's codes (v[0..3]: 16 each) and the F32 lanes' weight scale.
#define CK_NF4_CODES(b) \
        const __m256i bytes = _mm256_loadu_si256((const __m256i *)(pr + (b) * (B / 2))); \
        const __m256i il = _mm256_and_si256(bytes, mask8), ih = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask8); \
        const __m256i ll = _mm256_shuffle_epi8(TL8, il), lh = _mm256_shuffle_epi8(TH8, il); \
        const __m256i hl = _mm256_shuffle_epi8(TL8, ih), hh = _mm256_shuffle_epi8(TH8, ih); \
        const __m256i v[4] = {_mm256_unpacklo_epi8(ll, lh), _mm256_unpackhi_epi8(ll, lh), \
                              _mm256_unpacklo_epi8(hl, hh), _mm256_unpackhi_epi8(hl, hh)}; \
        const __m256 ws = _mm256_set1_ps(block_absmax(w, j * nb + (b)))
    // Row i's block product against v, its activation chunk k at ap + k·step, scaled into acc.
#define CK_NF4_ROW(b, ap, step, acc) do { \
            __m256i s_ = CK_DPWSSD(_mm256_setzero_si256(), v[0], _mm256_loadu_si256((const __m256i *)(ap))); \
            s_ = CK_DPWSSD(s_, v[1], _mm256_loadu_si256((const __m256i *)((ap) + (step)))); \
            s_ = CK_DPWSSD(s_, v[2], _mm256_loadu_si256((const __m256i *)((ap) + 2 * (step)))); \
            s_ = CK_DPWSSD(s_, v[3], _mm256_loadu_si256((const __m256i *)((ap) + 3 * (step)))); \
            const __m256 d_ = _mm256_mul_ps(ws, _mm256_broadcast_ss(c->ascale + (i0 + i) * nb + (b))); \
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s_), d_, acc); \
        } while (0)
#if !CK_QVNNI
    // The same lanes block by block: block 2p + h into lo (h = 0) or hi (h = 1), its activation
    // chunk k at int16 offset 32k + 16h of the pair.
    for (long p = 0; p < pairs; p++)
        for (int h = 0; h < 2; h++) {
            if (MR == 1)   // as at VNNI; at more rows measured slower here (+7 to +15 %)
                _mm_prefetch((const char *)(pr + (2 * p + h) * (B / 2) + 2 * (kp / 2)), _MM_HINT_T1);
            CK_NF4_CODES(2 * p + h);
            CK_UNROLL
            for (int i = 0; i < MR; i++) {
                const int16_t *ap = c->a16 + (i0 + i) * kp + p * 2 * B + 16 * h;
                if (h == 0) CK_NF4_ROW(2 * p, ap, 32, lo[i]);
                else CK_NF4_ROW(2 * p + 1, ap, 32, hi[i]);
            }
        }
#endif
    if (nb % 2) {   // an odd last block, its slots in order, into lo
        CK_NF4_CODES(nb - 1);
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int16_t *ap = c->a16 + (i0 + i) * kp + (nb - 1) * B;
            CK_NF4_ROW(nb - 1, ap, 16, lo[i]);
        }
    }
#undef CK_NF4_CODES
#undef CK_NF4_ROW
    CK_UNROLL
    for (int i = 0; i < MR; i++) out[i] = hsum8(_mm256_add_ps(lo[i], hi[i]));
}

/// Rows per pass: 8 at VNNI (8 zmm accumulators), 3 at AVX2 (6 of its 16 ymm registers beside the
/// block's codes); a row's result is the same either way.
CK_QTARGET static void CK_QNAME(nf4_column)(const void *c, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
#if CK_QVNNI
    CK_QUANT_ROWS(CK_QNAME(nf4_rows), c, a, i0, mr, j, out);
#else
    CK_QUANT_ROWS3(CK_QNAME(nf4_rows), c, a, i0, mr, j, out);
#endif
}

CK_QTARGET static void CK_QNAME(nf4_dot)(const void *c, const ck_qact *a, long i0, int mr, long j, int nj,
                                         float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    CK_QUANT_EACH_COLUMN(CK_QNAME(nf4_column), c, a, i0, mr, j, nj, out);
}
