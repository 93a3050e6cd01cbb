// nf4's (and fp4's) SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): up to
// CK_QUANT_MR activation rows against one tile of CK_QUANT_TILE weight rows (ckernels.h's layout),
// block by block. A block's eight 64-byte chunks give, masked and shifted, registers whose 32-bit
// lane c holds 4 indices of the tile's row c; vpshufb turns them into the two 8-bit parts of the
// product codes, c = 128·h + l (quant_nf4.c), each multiplied by the matching 4 activation bytes
// broadcast to every lane and summed exactly in int32 over the block:
//   VNNI: Σ h·a as (h + 128) (u8) · a (s8) by vpdpbusd on 16 lanes, started at −128·Σa (the
//         activations' block sums), Σ l·a by vpdpbusd from zero;
//   AVX2: on 8 lanes (the tile in two halves), the whole codes as int16 against the activations as
//         int16 by vpmaddwd (nf4_tile_half);
// with one 8-bit part (C8: codes round(127·code), matmul precision medium) h = c and the Σ l·a half
// is skipped (AVX2: |c| · (a with c's sign) by vpmaddubsw). Then per (row, column, block)
//   acc = fma(float(128·Σ h·a + Σ l·a), absmax·(a_scale / unit), acc)
// the blocks in order, absmax = dynamic_code[qabsmax]·absmax2 + offset when double-quantized — the
// portable body's operations, so every level gives the same bits and a row's result does not depend
// on the other rows or the tile's other columns.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

#if CK_QVNNI
/// The absmax of block b of the tile's 16 rows j0 + c (lanes c < nt; the others 0): block_absmax's
/// arithmetic, lane by lane.
CK_INLINE CK_QTARGET __m512 CK_QNAME(nf4_absmax_cols)(const ck_nf4_matrix *w, long tile, long b, long nb, __m512i rows_nb,
                                                      __mmask16 live) {
    const long at = (tile * nb + b) * CK_QUANT_TILE;
    if (w->absmax) return _mm512_loadu_ps(w->absmax + at);
    const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(w->qabsmax + at)));
    // ck_nf4_dynamic_code[q]: eight 32-entry lookups (index bits 0-4), then a choice by bits 5, 6, 7
    const float *t = ck_nf4_dynamic_code;
    __m512 v[8];
    CK_UNROLL
    for (int k = 0; k < 8; k++) v[k] = _mm512_permutex2var_ps(_mm512_loadu_ps(t + 32 * k), q, _mm512_loadu_ps(t + 32 * k + 16));
    const __mmask16 b5 = _mm512_test_epi32_mask(q, _mm512_set1_epi32(32)), b6 = _mm512_test_epi32_mask(q, _mm512_set1_epi32(64));
    const __mmask16 b7 = _mm512_test_epi32_mask(q, _mm512_set1_epi32(128));
    CK_UNROLL
    for (int k = 0; k < 4; k++) v[k] = _mm512_mask_mov_ps(v[2 * k], b5, v[2 * k + 1]);
    CK_UNROLL
    for (int k = 0; k < 2; k++) v[k] = _mm512_mask_mov_ps(v[2 * k], b6, v[2 * k + 1]);
    const __m512 code = _mm512_mask_mov_ps(v[0], b7, v[1]);
    // absmax2 of each row's row-major block index (j·nb + b) / 256; the missing rows' lanes unread
    const __m512i g = _mm512_srli_epi32(_mm512_add_epi32(rows_nb, _mm512_set1_epi32((int)b)), 8);
    const __m512 a2 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, g, w->absmax2, 4);
    return _mm512_maskz_mov_ps(live, _mm512_add_ps(_mm512_mul_ps(code, a2), _mm512_set1_ps(w->offset)));
}

/// out[i·CK_QUANT_TILE + c] for MR (1...8) rows i0 + i against the tile's rows j0 + c (c < nt).
CK_INLINE CK_QTARGET void CK_QNAME(nf4_tile_rows)(const int MR, const int C8, const nf4_ctx *c, const ck_qact *a, long i0,
                                                 long j0, int nt, float *out) {
    const ck_nf4_matrix *w = c->w;
    const long kp = a->kp, nb = a->nb, tile = j0 / CK_QUANT_TILE;
    const unsigned char *pt = w->packed + tile * nb * (CK_QUANT_TILE * CK_NF4_BLOCK / 2);
    const __mmask16 live = (__mmask16)((1u << nt) - 1u);
    const __m512i rows_nb = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)j0), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)),
                                               _mm512_set1_epi32((int)nb));
    const __m512i mask = _mm512_set1_epi8(15);
    const __m512i TH = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->hi));
    const __m512i TL = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->lo));
    __m512 acc[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const unsigned char *pb = pt + b * (CK_QUANT_TILE * CK_NF4_BLOCK / 2);
        if (w->qabsmax) CK_QUANT_PREFETCH_AHEAD(w->qabsmax + (tile * nb + b) * CK_QUANT_TILE, 32);   // 16 bytes per 512 of W
        else CK_QUANT_PREFETCH_AHEAD(w->absmax + (tile * nb + b) * CK_QUANT_TILE, 8);              // 64 bytes per 512
        const __m512 am = CK_QNAME(nf4_absmax_cols)(w, tile, b, nb, rows_nb, live);
        __m512i sh[CK_QUANT_MR], sl[CK_QUANT_MR];
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            sh[i] = _mm512_set1_epi32(-128 * a->sum[(i0 + i) * nb + b]);
            sl[i] = _mm512_setzero_si512();
        }
        CK_UNROLL
        for (int L = 0; L < 8; L++) {
            CK_QUANT_PREFETCH_AHEAD(pb + 64 * L, 1);
            const __m512i v = _mm512_loadu_si512(pb + 64 * L);
            const __m512i il = _mm512_and_si512(v, mask), ih = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask);
            const __m512i hl = _mm512_shuffle_epi8(TH, il), hh = _mm512_shuffle_epi8(TH, ih);
            __m512i ll = hl, lh = hh;
            if (!C8) { ll = _mm512_shuffle_epi8(TL, il); lh = _mm512_shuffle_epi8(TL, ih); }
            CK_UNROLL
            for (int i = 0; i < MR; i++) {
                const int32_t *ar = (const int32_t *)(a->q + (i0 + i) * kp + b * CK_NF4_BLOCK) + 2 * L;
                const __m512i a0 = _mm512_set1_epi32(ar[0]), a1 = _mm512_set1_epi32(ar[1]);
                sh[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(sh[i], hl, a0), hh, a1);
                if (!C8) sl[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(sl[i], ll, a0), lh, a1);
            }
        }
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const __m512i s = C8 ? sh[i] : _mm512_add_epi32(_mm512_slli_epi32(sh[i], 7), sl[i]);
            const __m512 d = _mm512_mul_ps(am, _mm512_set1_ps(c->asu[(i0 + i) * nb + b]));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc[i]);
        }
    }
    CK_UNROLL
    for (int i = 0; i < MR; i++) _mm512_storeu_ps(out + i * CK_QUANT_TILE, acc[i]);
}

/// A ck_quant_tile_fn: mr (1...8) rows against the tile at j0, its first nt rows.
CK_QTARGET static void CK_QNAME(nf4_tile)(const void *cv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    const nf4_ctx *c = cv;
#define CK_NF4_TILE_ROWS(MR, c, a, i0, j0, out) do { \
        if (c->codes8) CK_QNAME(nf4_tile_rows)(MR, 1, c, a, i0, j0, nt, out); \
        else CK_QNAME(nf4_tile_rows)(MR, 0, c, a, i0, j0, nt, out); \
    } while (0)
    CK_QUANT_ROWS(CK_NF4_TILE_ROWS, c, a, i0, mr, j0, out);
#undef CK_NF4_TILE_ROWS
}
#else
/// The absmax of block b of columns 8h … 8h+7 of the tile (lanes c with 8h + c < nt; the others 0).
CK_INLINE CK_QTARGET __m256 CK_QNAME(nf4_absmax_half)(const ck_nf4_matrix *w, long tile, long b, long nb, int h,
                                                      __m256i rows_nb, __m256i live) {
    const long at = (tile * nb + b) * CK_QUANT_TILE + 8 * h;
    if (w->absmax) return _mm256_loadu_ps(w->absmax + at);
    const __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(w->qabsmax + at)));
    const __m256 code = _mm256_i32gather_ps(ck_nf4_dynamic_code, q, 4);
    const __m256i g = _mm256_srli_epi32(_mm256_add_epi32(rows_nb, _mm256_set1_epi32((int)b)), 8);
    const __m256 a2 = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), w->absmax2, g, _mm256_castsi256_ps(live), 4);
    return _mm256_and_ps(_mm256_add_ps(_mm256_mul_ps(code, a2), _mm256_set1_ps(w->offset)), _mm256_castsi256_ps(live));
}

/// out[i·CK_QUANT_TILE + 8h + c] for MR (1...4) rows against columns 8h … 8h+7 of the tile (AVX2's
/// 16 registers). C8: the one-part codes as bytes, |c| (u8) · (a with c's sign) (s8) by vpmaddubsw
/// (pairs ≤ 2·127·127) and vpmaddwd. Otherwise the 15-bit codes as int16 (two vpshufb lookups, of
/// their low and high bytes, interleaved into words) against the activations as int16 by vpmaddwd:
/// one instruction per 2 values instead of the bytes' two parts. A chunk's words hold columns 0, 1,
/// 4, 5 (the low interleave) or 2, 3, 6, 7 (the high one) two pairs of values each, so each row keeps
/// two accumulators of (column, pair) lanes, added pairwise into the 8 columns' sums at the block's
/// end (vphaddd): the same exact int32 Σ c·a as every level's.
CK_INLINE CK_QTARGET void CK_QNAME(nf4_tile_half)(const int MR, const int C8, const nf4_ctx *c, const ck_qact *a, long i0,
                                                 long j0, int nt, int h, float *out) {
    const ck_nf4_matrix *w = c->w;
    const long kp = a->kp, nb = a->nb, tile = j0 / CK_QUANT_TILE;
    const unsigned char *pt = w->packed + tile * nb * (CK_QUANT_TILE * CK_NF4_BLOCK / 2) + 32 * h;
    const __m256i lane = _mm256_add_epi32(_mm256_set1_epi32(8 * h), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(nt), lane);
    const __m256i rows_nb = _mm256_mullo_epi32(_mm256_add_epi32(_mm256_set1_epi32((int)j0), lane), _mm256_set1_epi32((int)nb));
    const __m256i mask = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    // C8: the codes as signed bytes; otherwise the low and high bytes of the 15-bit codes
    const __m256i TA = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(C8 ? c->hi : c->clo)));
    const __m256i TB = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)c->chi));
    __m256 acc[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) acc[i] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const unsigned char *pb = pt + b * (CK_QUANT_TILE * CK_NF4_BLOCK / 2);
        if (h == 0) {
            if (w->qabsmax) CK_QUANT_PREFETCH_AHEAD(w->qabsmax + (tile * nb + b) * CK_QUANT_TILE, 32);
            else CK_QUANT_PREFETCH_AHEAD(w->absmax + (tile * nb + b) * CK_QUANT_TILE, 8);
        }
        const __m256 am = CK_QNAME(nf4_absmax_half)(w, tile, b, nb, h, rows_nb, live);
        __m256i s0[CK_QUANT_MR], s1[CK_QUANT_MR];
        CK_UNROLL
        for (int i = 0; i < MR; i++) { s0[i] = _mm256_setzero_si256(); s1[i] = _mm256_setzero_si256(); }
        CK_UNROLL
        for (int L = 0; L < 8; L++) {
            if (h == 0) CK_QUANT_PREFETCH_AHEAD(pb + 64 * L, 1);
            const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 64 * L));
            const __m256i il = _mm256_and_si256(v, mask), ih = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
            if (C8) {
                const __m256i cl = _mm256_shuffle_epi8(TA, il), ch = _mm256_shuffle_epi8(TA, ih);
                const __m256i ul = _mm256_abs_epi8(cl), uh = _mm256_abs_epi8(ch);
                CK_UNROLL
                for (int i = 0; i < MR; i++) {
                    const int32_t *ar = (const int32_t *)(a->q + (i0 + i) * kp + b * CK_NF4_BLOCK) + 2 * L;
                    const __m256i a0 = _mm256_set1_epi32(ar[0]), a1 = _mm256_set1_epi32(ar[1]);
                    s0[i] = _mm256_add_epi32(s0[i], _mm256_madd_epi16(_mm256_maddubs_epi16(ul, _mm256_sign_epi8(a0, cl)), ones));
                    s0[i] = _mm256_add_epi32(s0[i], _mm256_madd_epi16(_mm256_maddubs_epi16(uh, _mm256_sign_epi8(a1, ch)), ones));
                }
            } else {
                const __m256i ll = _mm256_shuffle_epi8(TA, il), lh = _mm256_shuffle_epi8(TB, il);
                const __m256i hl = _mm256_shuffle_epi8(TA, ih), hh = _mm256_shuffle_epi8(TB, ih);
                // words: (values 8L…8L+3 | 8L+4…8L+7) of columns 0, 1, 4, 5 (w0) and 2, 3, 6, 7 (w1)
                const __m256i w0l = _mm256_unpacklo_epi8(ll, lh), w1l = _mm256_unpackhi_epi8(ll, lh);
                const __m256i w0h = _mm256_unpacklo_epi8(hl, hh), w1h = _mm256_unpackhi_epi8(hl, hh);
                CK_UNROLL
                for (int i = 0; i < MR; i++) {
                    const int64_t *ar = (const int64_t *)(c->a16 + (i0 + i) * kp + b * CK_NF4_BLOCK + 8 * L);
                    const __m256i a0 = _mm256_set1_epi64x(ar[0]), a1 = _mm256_set1_epi64x(ar[1]);
                    s0[i] = _mm256_add_epi32(s0[i], _mm256_add_epi32(_mm256_madd_epi16(w0l, a0), _mm256_madd_epi16(w0h, a1)));
                    s1[i] = _mm256_add_epi32(s1[i], _mm256_add_epi32(_mm256_madd_epi16(w1l, a0), _mm256_madd_epi16(w1h, a1)));
                }
            }
        }
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
            const __m256i s = C8 ? s0[i] : _mm256_hadd_epi32(s0[i], s1[i]);
            const __m256 d = _mm256_mul_ps(am, _mm256_set1_ps(c->asu[(i0 + i) * nb + b]));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[i]);
        }
    }
    CK_UNROLL
    for (int i = 0; i < MR; i++) _mm256_storeu_ps(out + i * CK_QUANT_TILE + 8 * h, acc[i]);
}

CK_QTARGET static void CK_QNAME(nf4_tile)(const void *cv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    const nf4_ctx *c = cv;
    for (int h = 0; h < 2 && 8 * h < nt; h++) {
#define CK_NF4_TILE_HALF(MR, c, a, i0, j0, out) do { \
        if (c->codes8) CK_QNAME(nf4_tile_half)(MR, 1, c, a, i0, j0, nt, h, out); \
        else CK_QNAME(nf4_tile_half)(MR, 0, c, a, i0, j0, nt, h, out); \
    } while (0)
        CK_QUANT_TILE_ROWS4(CK_NF4_TILE_HALF, c, a, i0, mr, j0, out);
#undef CK_NF4_TILE_HALF
    }
}
#endif
