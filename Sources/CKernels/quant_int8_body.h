// int8's SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): up to CK_QUANT_MR
// activation rows against one tile of CK_QUANT_TILE weight rows (quant_int8.c's layout), block by
// block. A block's 16 words are 16 registers whose 32-bit lane c holds 4 values of the tile's row c;
// each is multiplied by the matching 4 activation bytes broadcast to every lane and summed exactly in
// int32:
//   VNNI: (q + 128) (u8, as stored) · a (s8) by vpdpbusd on 16 lanes, started at −128·Σa (the
//         activations' block sums);
//   AVX2: |q| (u8) · (a with q's sign) (s8), vpmaddubsw's pairs ≤ 2·127² fitting int16, and vpmaddwd,
//         on 8 lanes (the tile in two halves);
// then acc = fma(float(Σ q·a), w_scale·a_scale, acc) per (row, column, block), the blocks in order —
// the portable body's fmaf, so every level gives the same bits and a row's result does not depend
// on the other rows or the tile's other columns.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

#if CK_QVNNI
/// out[i·CK_QUANT_TILE + c] for MR (1...8) rows i0 + i against the tile's 16 rows j0 + c.
CK_INLINE CK_QTARGET void CK_QNAME(i8_tile_rows)(const int MR, const ck_i8_matrix *w, const ck_qact *a, long i0, long j0,
                                                float *out) {
    const long kp = a->kp, nb = a->nb;
    const unsigned char *qt = w->q + (j0 / CK_QUANT_TILE) * nb * (CK_QUANT_TILE * CK_I8_BLOCK);
    const float *st = w->scale + (j0 / CK_QUANT_TILE) * nb * CK_QUANT_TILE;
    __m512 acc[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const unsigned char *qb = qt + b * (CK_QUANT_TILE * CK_I8_BLOCK);
        CK_QUANT_PREFETCH_AHEAD(st + b * CK_QUANT_TILE, 16);   // 64 bytes of scales per 1024 of W
        __m512i wq[16];
        CK_UNROLL
        for (int d = 0; d < 16; d++) {
            CK_QUANT_PREFETCH_AHEAD(qb + 64 * d, 1);
            wq[d] = _mm512_loadu_si512(qb + 64 * d);
        }
        const __m512 ws = _mm512_loadu_ps(st + b * CK_QUANT_TILE);
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int32_t *ad = (const int32_t *)(a->q + (i0 + i) * kp + b * CK_I8_BLOCK);
            __m512i s0 = _mm512_set1_epi32(-128 * a->sum[(i0 + i) * nb + b]), s1 = _mm512_setzero_si512();
            CK_UNROLL
            for (int d = 0; d < 16; d += 2) {
                s0 = _mm512_dpbusd_epi32(s0, wq[d], _mm512_set1_epi32(ad[d]));
                s1 = _mm512_dpbusd_epi32(s1, wq[d + 1], _mm512_set1_epi32(ad[d + 1]));
            }
            const __m512 sc = _mm512_mul_ps(ws, _mm512_set1_ps(a->scale[(i0 + i) * nb + b]));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), sc, acc[i]);
        }
    }
    CK_UNROLL
    for (int i = 0; i < MR; i++) _mm512_storeu_ps(out + i * CK_QUANT_TILE, acc[i]);
}

/// A ck_quant_tile_fn: mr (1...8) rows against the tile at j0 (all 16 of its rows: the storage has them).
CK_QTARGET static void CK_QNAME(i8_tile)(const void *wv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    (void)nt;
    CK_QUANT_ROWS(CK_QNAME(i8_tile_rows), (const ck_i8_matrix *)wv, a, i0, mr, j0, out);
}
#else
/// The same for MR (1...4) rows, the tile's two 8-column halves side by side (AVX2's 16 registers:
/// the block's unpacked words stay in L1).
CK_INLINE CK_QTARGET void CK_QNAME(i8_tile_rows4)(const int MR, const ck_i8_matrix *w, const ck_qact *a, long i0, long j0,
                                                 int halves, float *out) {
    const long kp = a->kp, nb = a->nb;
    const unsigned char *qt = w->q + (j0 / CK_QUANT_TILE) * nb * (CK_QUANT_TILE * CK_I8_BLOCK);
    const float *st = w->scale + (j0 / CK_QUANT_TILE) * nb * CK_QUANT_TILE;
    const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    __m256 acc[2][CK_QUANT_MR];
    for (int h = 0; h < 2; h++)
        CK_UNROLL
        for (int i = 0; i < MR; i++) acc[h][i] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const unsigned char *qb = qt + b * (CK_QUANT_TILE * CK_I8_BLOCK);
        CK_QUANT_PREFETCH_AHEAD(st + b * CK_QUANT_TILE, 16);
        __m256i wv[2][16], wu[2][16];   // per half and word: the 8 columns' values (signed) and magnitudes
        for (int h = 0; h < halves; h++)
            CK_UNROLL
            for (int d = 0; d < 16; d++) {
                if (h == 0) CK_QUANT_PREFETCH_AHEAD(qb + 64 * d, 1);
                wv[h][d] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(qb + 64 * d + 32 * h)), flip);
                wu[h][d] = _mm256_abs_epi8(wv[h][d]);
            }
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const int32_t *ad = (const int32_t *)(a->q + (i0 + i) * kp + b * CK_I8_BLOCK);
            const __m256 as = _mm256_set1_ps(a->scale[(i0 + i) * nb + b]);
            for (int h = 0; h < halves; h++) {
                __m256i s = _mm256_setzero_si256();
                CK_UNROLL
                for (int d = 0; d < 16; d++)
                    s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(wu[h][d], _mm256_sign_epi8(_mm256_set1_epi32(ad[d]), wv[h][d])),
                                                              ones));
                const __m256 sc = _mm256_mul_ps(_mm256_loadu_ps(st + b * CK_QUANT_TILE + 8 * h), as);
                acc[h][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), sc, acc[h][i]);
            }
        }
    }
    for (int h = 0; h < halves; h++)
        CK_UNROLL
        for (int i = 0; i < MR; i++) _mm256_storeu_ps(out + i * CK_QUANT_TILE + 8 * h, acc[h][i]);
}

CK_QTARGET static void CK_QNAME(i8_tile)(const void *wv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    const int halves = nt > 8 ? 2 : 1;
#define CK_I8_TILE_ROWS4(MR, w, a, i0, j0, out) CK_QNAME(i8_tile_rows4)(MR, w, a, i0, j0, halves, out)
    CK_QUANT_TILE_ROWS4(CK_I8_TILE_ROWS4, (const ck_i8_matrix *)wv, a, i0, mr, j0, out);
#undef CK_I8_TILE_ROWS4
}
#endif
