// int8's SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): MR (1...8) activation
// rows against weight row j. Per block (64 values) the weights are loaded once for all rows; each row's
// block product is summed exactly in 8 int32 lanes (lane l: bytes 4l…4l+3 of both 32-byte halves),
//   AVX2: |w| (u8) · (a with w's sign) (s8), vpmaddubsw's pairs ≤ 2·127² fitting int16;
//   VNNI: (a + 128) (u8) · w (s8) added to the lanes' −128·Σw, which all rows share (ck_i8_multiply
//         hands this level activations with their sign bits flipped, i.e. a + 128 as bytes),
// then converted and scaled by w_scale·a_scale (one vmulps of two broadcasts) into F32 lanes.
// The lanes hold the same integers at both levels, so the results are the same bits.
#include "quant_body.h"

CK_INLINE CK_QTARGET void CK_QNAME(i8_rows)(const int MR, const ck_i8_matrix *w, const ck_qact *a, long i0, long j,
                                           float out[CK_QUANT_MR]) {
    const long kp = a->kp, nb = a->nb;
    const signed char *wq = w->q + j * kp;
    const float *ws = w->scale + j * nb, *as = a->scale + i0 * nb;
    const int8_t *aq = a->q + i0 * kp;
    const __m256i zero = _mm256_setzero_si256();
    __m256 acc[CK_QUANT_MR];
    for (int i = 0; i < MR; i++) acc[i] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wq + b * CK_I8_BLOCK));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wq + b * CK_I8_BLOCK + 32));
#if CK_QVNNI
        const __m256i bias = _mm256_set1_epi8((char)0x80);
        const __m256i start = _mm256_sub_epi32(zero, CK_DPBUSD(CK_DPBUSD(zero, bias, w0), bias, w1));
#else
        const __m256i u0 = _mm256_abs_epi8(w0), u1 = _mm256_abs_epi8(w1);
#endif
        const __m256 wsb = _mm256_broadcast_ss(ws + b);
        for (int i = 0; i < MR; i++) {
            const int8_t *ar = aq + i * kp + b * CK_I8_BLOCK;
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)ar);
            const __m256i a1 = _mm256_loadu_si256((const __m256i *)(ar + 32));
#if CK_QVNNI
            const __m256i s = CK_DPBUSD(CK_DPBUSD(start, a0, w0), a1, w1);
#else
            const __m256i s = CK_DPBUSD(CK_DPBUSD(zero, u0, _mm256_sign_epi8(a0, w0)), u1, _mm256_sign_epi8(a1, w1));
#endif
            const __m256 d = _mm256_mul_ps(wsb, _mm256_broadcast_ss(as + i * nb + b));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[i]);
        }
    }
    for (int i = 0; i < MR; i++) out[i] = hsum8(acc[i]);
}

CK_QTARGET static void CK_QNAME(i8_dot)(const void *w, const ck_qact *a, long i0, int mr, long j, float out[CK_QUANT_MR]) {
    CK_QUANT_ROWS(CK_QNAME(i8_rows), w, a, i0, mr, j, out);
}
