// q4's SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): up to CK_QUANT_MR
// activation rows against one tile of CK_QUANT_TILE weight rows (quant_q4.c's layout), group by
// group. A group's four 64-byte chunks give, masked and shifted, eight registers whose 32-bit lane c
// holds 4 values (0...15) of the tile's row c; each is multiplied by the matching 4 activation bytes
// broadcast to every lane and summed exactly in int32 (VNNI: vpdpbusd on 16 lanes; AVX2: vpmaddubsw,
// pairs ≤ 2·15·127, and vpmaddwd on 8 lanes, the tile in two halves), then
//   acc = fma(float(Σ q·a), d·da, acc);  acc = fma(m, da·Σa, acc)
// per (row, column, group), the groups in order — the portable body's fmaf, so every level gives the
// same bits and a row's result does not depend on the other rows or the tile's other columns.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

#if CK_QVNNI
/// out[i·CK_QUANT_TILE + c] for MR (1...8) rows i0 + i against the tile's 16 rows j0 + c.
CK_INLINE CK_QTARGET void CK_QNAME(q4_tile_rows)(const int MR, const q4_tiles *tc, const ck_qact *a, long i0, long j0,
                                                float *out) {
    const ck_q4_matrix *w = tc->w;
    const long kp = a->kp, ng = a->nb;
    const unsigned char *qt = w->packed + (j0 / CK_QUANT_TILE) * ng * (CK_QUANT_TILE * CK_Q4_GROUP / 2);
    const uint16_t *dt = w->dm + (j0 / CK_QUANT_TILE) * ng * 2 * CK_QUANT_TILE;
    const __m512i mask = _mm512_set1_epi8(15);
    __m512 acc[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
    for (long g = 0; g < ng; g++) {
        const unsigned char *qg = qt + g * 256;
        CK_UNROLL
        for (int l = 0; l < 4; l++) CK_QUANT_PREFETCH_AHEAD(qg + 64 * l, 1);
        CK_QUANT_PREFETCH_AHEAD(dt + g * 32, 4);   // 64 bytes of d, m per 256 of nibbles
        __m512i wq[8];
        CK_UNROLL
        for (int l = 0; l < 4; l++) {
            const __m512i v = _mm512_loadu_si512(qg + 64 * l);
            wq[2 * l] = _mm512_and_si512(v, mask);                          // values 8l … 8l+3
            wq[2 * l + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask);  // values 8l+4 … 8l+7
        }
        const __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(dt + g * 32)));
        const __m512 wm = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(dt + g * 32 + 16)));
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int32_t *ar = (const int32_t *)(a->q + (i0 + i) * kp + g * CK_Q4_GROUP);
            __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
            CK_UNROLL
            for (int r = 0; r < 8; r += 2) {
                s0 = _mm512_dpbusd_epi32(s0, wq[r], _mm512_set1_epi32(ar[r]));
                s1 = _mm512_dpbusd_epi32(s1, wq[r + 1], _mm512_set1_epi32(ar[r + 1]));
            }
            const __m512 d = _mm512_mul_ps(wd, _mm512_set1_ps(a->scale[(i0 + i) * ng + g]));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), d, acc[i]);
            acc[i] = _mm512_fmadd_ps(wm, _mm512_set1_ps(tc->das[(i0 + i) * ng + g]), acc[i]);
        }
    }
    CK_UNROLL
    for (int i = 0; i < MR; i++) _mm512_storeu_ps(out + i * CK_QUANT_TILE, acc[i]);
}

/// A ck_quant_tile_fn: mr (1...8) rows against the tile at j0 (all 16 of its rows: the storage has them).
CK_QTARGET static void CK_QNAME(q4_tile)(const void *cv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    (void)nt;
    CK_QUANT_ROWS(CK_QNAME(q4_tile_rows), (const q4_tiles *)cv, a, i0, mr, j0, out);
}
#else
/// The same for MR (1...4) rows against columns 8h … 8h+7 of the tile (AVX2's 16 registers).
CK_INLINE CK_QTARGET void CK_QNAME(q4_tile_half)(const int MR, const q4_tiles *tc, const ck_qact *a, long i0, long j0,
                                                int h, float *out) {
    const ck_q4_matrix *w = tc->w;
    const long kp = a->kp, ng = a->nb;
    const unsigned char *qt = w->packed + (j0 / CK_QUANT_TILE) * ng * (CK_QUANT_TILE * CK_Q4_GROUP / 2);
    const uint16_t *dt = w->dm + (j0 / CK_QUANT_TILE) * ng * 2 * CK_QUANT_TILE;
    const __m256i mask = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    __m256 acc[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) acc[i] = _mm256_setzero_ps();
    for (long g = 0; g < ng; g++) {
        const unsigned char *qg = qt + g * 256 + 32 * h;
        if (h == 0) {
            CK_UNROLL
            for (int l = 0; l < 4; l++) CK_QUANT_PREFETCH_AHEAD(qt + g * 256 + 64 * l, 1);
            CK_QUANT_PREFETCH_AHEAD(dt + g * 32, 4);
        }
        __m256i wq[8];
        CK_UNROLL
        for (int l = 0; l < 4; l++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qg + 64 * l));
            wq[2 * l] = _mm256_and_si256(v, mask);
            wq[2 * l + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
        }
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(dt + g * 32 + 8 * h)));
        const __m256 wm = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(dt + g * 32 + 16 + 8 * h)));
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int32_t *ar = (const int32_t *)(a->q + (i0 + i) * kp + g * CK_Q4_GROUP);
            // two int16 pair sums (≤ 2·15·127 each) added before widening: ≤ 7620, still exact
            __m256i s = _mm256_setzero_si256();
            CK_UNROLL
            for (int r = 0; r < 8; r += 2) {
                const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(wq[r], _mm256_set1_epi32(ar[r])),
                                                   _mm256_maddubs_epi16(wq[r + 1], _mm256_set1_epi32(ar[r + 1])));
                s = _mm256_add_epi32(s, _mm256_madd_epi16(p, ones));
            }
            const __m256 d = _mm256_mul_ps(wd, _mm256_set1_ps(a->scale[(i0 + i) * ng + g]));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[i]);
            acc[i] = _mm256_fmadd_ps(wm, _mm256_set1_ps(tc->das[(i0 + i) * ng + g]), acc[i]);
        }
    }
    CK_UNROLL
    for (int i = 0; i < MR; i++) _mm256_storeu_ps(out + i * CK_QUANT_TILE + 8 * h, acc[i]);
}

CK_QTARGET static void CK_QNAME(q4_tile)(const void *cv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    for (int h = 0; h < 2 && 8 * h < nt; h++) {
#define CK_Q4_TILE_HALF(MR, c, a, i0, j0, out) CK_QNAME(q4_tile_half)(MR, c, a, i0, j0, h, out)
        CK_QUANT_TILE_ROWS4(CK_Q4_TILE_HALF, (const q4_tiles *)cv, a, i0, mr, j0, out);
#undef CK_Q4_TILE_HALF
    }
}
#endif
