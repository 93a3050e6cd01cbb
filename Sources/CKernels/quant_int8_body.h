// int8's SIMD body, one template for the AVX2 and VNNI levels (quant_body.h). The 64-value blocks go
// in pairs (b, b + 1) into 16 F32 lanes per (activation row, weight row): lanes 0-7 block b, 8-15
// block b + 1. A block's lane l sums exactly, in int32, the products of bytes 4l…4l+3 of both its
// 32-byte halves:
//   AVX2: |w| (u8) · (a with w's sign) (s8), vpmaddubsw's pairs ≤ 2·127² fitting int16;
//   VNNI: (a + 128) (u8) · w (s8) added to the lanes' −128·Σw, which all rows share (ck_i8_multiply
//         hands this level activations with their sign bits flipped, i.e. a + 128 as bytes);
// then it is converted and scaled by w_scale·a_scale into its F32 lanes. An odd last block goes
// into lanes 0-7 alone; the result is the sum of the two halves' 8 lanes. Two loops compute exactly
// that: i8_rows_seq block by block in two 8-lane accumulators (every level; few live registers),
// i8_rows_pairs a pair at a time in one zmm, two weight rows per call sharing each activation load
// (VNNI only). The lanes hold the same integers and take the same F32 operations in both and at both
// levels, so the results are the same bits. The activations' byte order: pair_activations in
// quant_int8.c.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

/// One block's 8 int32 lanes for activation bytes a0 / a1 (the block's two halves) against weights
/// w0 / w1 (u0 / u1 = |w| at AVX2, the lanes' start −128·Σw at VNNI).
CK_INLINE CK_QTARGET __m256i CK_QNAME(i8_block)(__m256i a0, __m256i a1, __m256i w0, __m256i w1, __m256i u0, __m256i u1) {
#if CK_QVNNI
    (void)u1;
    return CK_DPBUSD(CK_DPBUSD(u0, a0, w0), a1, w1);
#else
    const __m256i zero = _mm256_setzero_si256();
    return CK_DPBUSD(CK_DPBUSD(zero, u0, _mm256_sign_epi8(a0, w0)), u1, _mm256_sign_epi8(a1, w1));
#endif
}

/// What every row's product against block weights w0 / w1 needs besides them (see i8_block).
CK_INLINE CK_QTARGET void CK_QNAME(i8_block_prep)(__m256i w0, __m256i w1, __m256i *u0, __m256i *u1) {
#if CK_QVNNI
    const __m256i bias = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
    *u0 = _mm256_sub_epi32(zero, CK_DPBUSD(CK_DPBUSD(zero, bias, w0), bias, w1));
    *u1 = *u0;
#else
    *u0 = _mm256_abs_epi8(w0);
    *u1 = _mm256_abs_epi8(w1);
#endif
}

/// lo[i] += block b's lanes of row i0 + i against weight row j, the row's halves at ar(i), ar(i) + 64
/// (in a pair) or ar(i), ar(i) + 32 (an odd last block): `half_step`.
CK_INLINE CK_QTARGET void CK_QNAME(i8_block_rows)(const int MR, const i8_acts *c, long i0, long j, long b, long a_off,
                                                 long half_step, __m256 acc[CK_QUANT_MR]) {
    const ck_qact *a = c->a;
    const long kp = a->kp, nb = a->nb;
    const signed char *wq = c->w->q + j * kp + b * CK_I8_BLOCK;
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)wq), w1 = _mm256_loadu_si256((const __m256i *)(wq + 32));
    __m256i u0, u1;
    CK_QNAME(i8_block_prep)(w0, w1, &u0, &u1);
    const __m256 wsb = _mm256_broadcast_ss(c->w->scale + j * nb + b);
    CK_UNROLL
    for (int i = 0; i < MR; i++) {
        const int8_t *ar = c->q + (i0 + i) * kp + a_off;
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)ar);
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)(ar + half_step));
        const __m256i s = CK_QNAME(i8_block)(a0, a1, w0, w1, u0, u1);
        const __m256 d = _mm256_mul_ps(wsb, _mm256_broadcast_ss(a->scale + (i0 + i) * nb + b));
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[i]);
    }
}

/// out[i] for MR (1...4) rows against weight row j, block by block: block 2p + h into lo (h = 0)
/// or hi (h = 1), its halves at bytes 32h and 64 + 32h of the pair's activations.
CK_INLINE CK_QTARGET void CK_QNAME(i8_rows_seq)(const int MR, const i8_acts *c, long i0, long j, float *out) {
    const long nb = c->a->nb, pairs = nb / 2;
    __m256 lo[CK_QUANT_MR], hi[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) { lo[i] = _mm256_setzero_ps(); hi[i] = _mm256_setzero_ps(); }
    const signed char *wq = c->w->q + j * c->a->kp;
    const float *ws = c->w->scale + j * nb;
    for (long p = 0; p < pairs; p++) {
        if (MR == 1) {   // one row streams W fastest; more rows are bound by their dot products
            CK_QUANT_PREFETCH_AHEAD(wq + p * 2 * CK_I8_BLOCK, 1);
            CK_QUANT_PREFETCH_AHEAD(wq + p * 2 * CK_I8_BLOCK + 64, 1);
            if (p % 8 == 0) CK_QUANT_PREFETCH_AHEAD(ws + 2 * p, 16);   // 4 bytes per 64 of W
        }
        CK_QNAME(i8_block_rows)(MR, c, i0, j, 2 * p, p * 2 * CK_I8_BLOCK, 64, lo);
        CK_QNAME(i8_block_rows)(MR, c, i0, j, 2 * p + 1, p * 2 * CK_I8_BLOCK + 32, 64, hi);
    }
    if (nb % 2) CK_QNAME(i8_block_rows)(MR, c, i0, j, nb - 1, (nb - 1) * CK_I8_BLOCK, 32, lo);
    CK_UNROLL
    for (int i = 0; i < MR; i++) out[i] = hsum8(_mm256_add_ps(lo[i], hi[i]));
}

#if CK_QVNNI
/// 16 F32 lanes: [s0 × 8, s1 × 8].
CK_INLINE CK_QTARGET __m512 CK_QNAME(i8_pair_scale)(const float *s) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm256_broadcast_ss(s))),
                                               _mm256_castps_pd(_mm256_broadcast_ss(s + 1)), 1));
}

/// out[jj·CK_QUANT_MR + i] for MR (1...8) rows against NJ (1...2) weight rows j + jj, a pair of
/// blocks at a time in one zmm per (row, weight row).
CK_INLINE CK_QTARGET void CK_QNAME(i8_rows_pairs)(const int MR, const int NJ, const i8_acts *c, long i0, long j,
                                                 float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    const ck_i8_matrix *w = c->w;
    const ck_qact *a = c->a;
    const long kp = a->kp, nb = a->nb, pairs = nb / 2;
    __m512 acc[CK_QUANT_NJ][CK_QUANT_MR];
    CK_UNROLL
    for (int jj = 0; jj < NJ; jj++)
        CK_UNROLL
        for (int i = 0; i < MR; i++) acc[jj][i] = _mm512_setzero_ps();
    for (long p = 0; p < pairs; p++) {
        // first: the first halves of blocks 2p and 2p + 1; second: their second halves.
        __m512i first[CK_QUANT_NJ], second[CK_QUANT_NJ], start[CK_QUANT_NJ];
        __m512 ws[CK_QUANT_NJ];
        CK_UNROLL
        for (int jj = 0; jj < NJ; jj++) {
            const signed char *wq = w->q + (j + jj) * kp + p * 2 * CK_I8_BLOCK;
            // the hardware prefetchers do not run far enough ahead of the NJ interleaved rows
            CK_QUANT_PREFETCH_AHEAD(wq, 1);
            CK_QUANT_PREFETCH_AHEAD(wq + 64, 1);
            const __m512i b0 = _mm512_loadu_si512(wq), b1 = _mm512_loadu_si512(wq + CK_I8_BLOCK);
            first[jj] = _mm512_shuffle_i64x2(b0, b1, 0x44);
            second[jj] = _mm512_shuffle_i64x2(b0, b1, 0xEE);
            const __m512i bias = _mm512_set1_epi8((char)0x80), z = _mm512_setzero_si512();
            start[jj] = _mm512_sub_epi32(z, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, bias, first[jj]), bias, second[jj]));
            ws[jj] = CK_QNAME(i8_pair_scale)(w->scale + (j + jj) * nb + 2 * p);
        }
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int8_t *ar = c->q + (i0 + i) * kp + p * 2 * CK_I8_BLOCK;
            const __m512 as = _mm512_loadu_ps(c->ascale + ((i0 + i) * nb + 2 * p) * 8);
            const __m512i a0 = _mm512_loadu_si512(ar), a1 = _mm512_loadu_si512(ar + 64);
            CK_UNROLL
            for (int jj = 0; jj < NJ; jj++) {
                const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(start[jj], a0, first[jj]), a1, second[jj]);
                acc[jj][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(ws[jj], as), acc[jj][i]);
            }
        }
    }
    CK_UNROLL
    for (int jj = 0; jj < NJ; jj++) {
        __m256 lo[CK_QUANT_MR], hi[CK_QUANT_MR];
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            lo[i] = _mm512_castps512_ps256(acc[jj][i]);
            hi[i] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[jj][i]), 1));
        }
        if (nb % 2) CK_QNAME(i8_block_rows)(MR, c, i0, j + jj, nb - 1, (nb - 1) * CK_I8_BLOCK, 32, lo);
        CK_UNROLL
        for (int i = 0; i < MR; i++) out[jj * CK_QUANT_MR + i] = hsum8(_mm256_add_ps(lo[i], hi[i]));
    }
}
#endif

/// The block-by-block loop in passes of up to 4 rows (2 × 4 ymm accumulators beside the block in
/// flight, of AVX2's 16 registers), one weight row at a time.
CK_QTARGET static void CK_QNAME(i8_seq)(const i8_acts *c, long i0, int mr, long j, int nj,
                                        float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    for (int jj = 0; jj < nj; jj++)
        for (int r = 0; r < mr; r += 4)
            switch (mr - r < 4 ? mr - r : 4) {
            case 1: CK_QNAME(i8_rows_seq)(1, c, i0 + r, j + jj, out + jj * CK_QUANT_MR + r); break;
            case 2: CK_QNAME(i8_rows_seq)(2, c, i0 + r, j + jj, out + jj * CK_QUANT_MR + r); break;
            case 3: CK_QNAME(i8_rows_seq)(3, c, i0 + r, j + jj, out + jj * CK_QUANT_MR + r); break;
            default: CK_QNAME(i8_rows_seq)(4, c, i0 + r, j + jj, out + jj * CK_QUANT_MR + r); break;
            }
}

/// AVX2: the block-by-block loop. VNNI: the pairs in zmm for products of at least VNNI_PAIR_ROWS
/// rows; fewer rows take the block-by-block loop (with the VNNI dot products), which streams W
/// faster there (at one row ~40 GB/s against ~25 on the Zen 5, scripts/quant_kbench.c).
CK_QTARGET static void CK_QNAME(i8_dot)(const void *cv, const ck_qact *a, long i0, int mr, long j, int nj,
                                        float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    const i8_acts *c = cv;
#if CK_QVNNI
    if (a->m >= VNNI_PAIR_ROWS) {
#define CK_I8_PAIRS(MR, c, a, i0, j, out) \
    do { if (nj == 2) CK_QNAME(i8_rows_pairs)(MR, 2, c, i0, j, out); else CK_QNAME(i8_rows_pairs)(MR, 1, c, i0, j, out); } while (0)
        CK_QUANT_ROWS(CK_I8_PAIRS, c, a, i0, mr, j, out);
#undef CK_I8_PAIRS
        return;
    }
#else
    (void)a;
#endif
    CK_QNAME(i8_seq)(c, i0, mr, j, nj, out);
}
