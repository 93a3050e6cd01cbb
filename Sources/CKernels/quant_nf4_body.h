// nf4's (and fp4's) SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): MR (1...8)
// activation rows against weight row j. Per block the 4-bit indices become 16-bit product codes by
// two vpshufb lookups (low and high bytes), once for all rows; each row's block product, codes times
// the permuted int16 activations (perm_index), is summed exactly in 8 int32 lanes — AVX2 by vpmaddwd
// and vpaddd, VNNI by vpdpwssd — and scaled by absmax/32767 · a_scale into F32 lanes. The lanes hold
// the same integers at both levels, so the results are the same bits.
#include "quant_body.h"

CK_INLINE CK_QTARGET void CK_QNAME(nf4_rows)(const int MR, const nf4_ctx *c, const ck_qact *a, long i0, long j, float out[CK_QUANT_MR]) {
    const ck_nf4_matrix *w = c->w;
    const long kp = a->kp, nb = a->nb;
    const unsigned char *pr = w->packed + j * (kp / 2);
    const __m256i mask = _mm256_set1_epi8(15);
    const __m256i TL = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)c->lo));
    const __m256i TH = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)c->hi));
    __m256 acc[CK_QUANT_MR];
    for (int i = 0; i < MR; i++) acc[i] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const __m256i bytes = _mm256_loadu_si256((const __m256i *)(pr + b * (B / 2)));
        const __m256i il = _mm256_and_si256(bytes, mask), ih = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
        const __m256i ll = _mm256_shuffle_epi8(TL, il), lh = _mm256_shuffle_epi8(TH, il);
        const __m256i hl = _mm256_shuffle_epi8(TL, ih), hh = _mm256_shuffle_epi8(TH, ih);
        const __m256i v0 = _mm256_unpacklo_epi8(ll, lh), v1 = _mm256_unpackhi_epi8(ll, lh);
        const __m256i v2 = _mm256_unpacklo_epi8(hl, hh), v3 = _mm256_unpackhi_epi8(hl, hh);
        const __m256 ws = _mm256_set1_ps(block_absmax(w, j * nb + b) / 32767.0f);
        for (int i = 0; i < MR; i++) {
            const __m256i *ap = (const __m256i *)(c->a16 + (i0 + i) * kp + b * B);
            __m256i s = CK_DPWSSD(_mm256_setzero_si256(), v0, _mm256_loadu_si256(ap));
            s = CK_DPWSSD(s, v1, _mm256_loadu_si256(ap + 1));
            s = CK_DPWSSD(s, v2, _mm256_loadu_si256(ap + 2));
            s = CK_DPWSSD(s, v3, _mm256_loadu_si256(ap + 3));
            const __m256 d = _mm256_mul_ps(ws, _mm256_broadcast_ss(a->scale + (i0 + i) * nb + b));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[i]);
        }
    }
    for (int i = 0; i < MR; i++) out[i] = hsum8(acc[i]);
}

CK_QTARGET static void CK_QNAME(nf4_column)(const void *c, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    CK_QUANT_ROWS(CK_QNAME(nf4_rows), c, a, i0, mr, j, out);
}

CK_QTARGET static void CK_QNAME(nf4_dot)(const void *c, const ck_qact *a, long i0, int mr, long j, int nj,
                                         float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    CK_QUANT_EACH_COLUMN(CK_QNAME(nf4_column), c, a, i0, mr, j, nj, out);
}
