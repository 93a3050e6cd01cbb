// nf4's (and fp4's) SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): MR (1...8
// at VNNI, 1...4 at AVX2) activation rows against one or two weight rows. A block's 32 bytes hold
// its odd elements in the low nibbles and its even ones in the high nibbles; vpshufb turns each
// nibble set into the two 8-bit parts of the product codes, c = 128·h + l (quant_nf4.c), and the
// activations come de-interleaved to match (nf4_ctx). A block's int32 lane l sums c · a exactly over
// elements 8l…8l+7, as 128·Σ h·a + Σ l·a:
//   AVX2: Σ h·a as |h| (u8) · (a with h's sign) (s8), Σ l·a as l (u8 ≤ 127) · a, each by vpmaddubsw
//         (pairs ≤ 2·128·127, fitting int16) and vpmaddwd;
//   VNNI: Σ h·a as (h + 128) (u8) · a (s8) by vpdpbusd, started at the lanes' −128·Σa (nf4_ctx's
//         corr, shared by every weight row), Σ l·a by vpdpbusd from zero;
// With one 8-bit part (C8: codes round(127·code), matmul precision medium) h = c and the Σ l·a half
// is skipped. Then the lanes are converted (|sum| < 2^24: exact) and scaled by absmax · a_scale/unit into F32
// lanes. The blocks go in pairs: block 2p into lanes 0-7, 2p + 1 into lanes 8-15 of 16 (AVX2: two
// ymm accumulators, block by block, nf4_rows_seq; VNNI: one zmm per pair and weight row, two weight
// rows sharing each activation load, nf4_rows_pairs); an odd last block into lanes 0-7; the result
// is the sum of the two halves' 8 lanes. The lanes hold the same integers and take the same F32
// operations at both levels, so the results are the same bits.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

/// One block's 8 int32 lanes Σ c·a (lane l: elements 8l…8l+7) from its bytes (32), its activations'
/// odd and even elements (ao, ae: 32 each) and, at VNNI, the lanes' −128·Σa (corr: 8).
CK_INLINE CK_QTARGET __m256i CK_QNAME(nf4_block)(const int C8, const nf4_ctx *c, __m256i bytes, __m256i ao, __m256i ae,
                                                 const int32_t *corr) {
    const __m256i mask = _mm256_set1_epi8(15);
    const __m256i il = _mm256_and_si256(bytes, mask), ih = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
    const __m256i TH = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)c->hi));
    const __m256i TL = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)c->lo));
    const __m256i hl = _mm256_shuffle_epi8(TH, il), hh = _mm256_shuffle_epi8(TH, ih);
    const __m256i zero = _mm256_setzero_si256();
#if CK_QVNNI
    const __m256i sh = CK_DPBUSD(CK_DPBUSD(_mm256_loadu_si256((const __m256i *)corr), hl, ao), hh, ae);
#else
    (void)corr;
    const __m256i sh = CK_DPBUSD(CK_DPBUSD(zero, _mm256_abs_epi8(hl), _mm256_sign_epi8(ao, hl)), _mm256_abs_epi8(hh),
                                 _mm256_sign_epi8(ae, hh));
#endif
    if (C8) return sh;
    const __m256i sl = CK_DPBUSD(CK_DPBUSD(zero, _mm256_shuffle_epi8(TL, il), ao), _mm256_shuffle_epi8(TL, ih), ae);
    return _mm256_add_epi32(_mm256_slli_epi32(sh, 7), sl);
}

/// Row i's inputs: its re-ordered activations, its lanes' start (VNNI) and its scales (nf4_ctx).
typedef struct { const int8_t *q; const int32_t *corr; const float *ascale; } CK_QNAME(nf4_row);

CK_INLINE CK_QTARGET void CK_QNAME(nf4_row_inputs)(const int MR, const nf4_ctx *c, long i0, CK_QNAME(nf4_row) r[CK_QUANT_MR]) {
    const long kp = c->kp;
    CK_UNROLL
    for (int i = 0; i < MR; i++)
        r[i] = (CK_QNAME(nf4_row)){c->q + (i0 + i) * kp, c->corr + (i0 + i) * (kp / 8), c->ascale + (i0 + i) * (kp / B) * 8};
}

/// acc[i] += block b (bytes at pr) against row r[i]: its odd activations at a_off of the row and its
/// even ones at a_off + even_step, scale ws.
CK_INLINE CK_QTARGET void CK_QNAME(nf4_block_rows)(const int MR, const int C8, const nf4_ctx *c, const CK_QNAME(nf4_row) r[CK_QUANT_MR],
                                                  const unsigned char *pr, float ws, long b, long a_off, long even_step,
                                                  __m256 acc[CK_QUANT_MR]) {
    const __m256i bytes = _mm256_loadu_si256((const __m256i *)pr);
    const __m256 wsv = _mm256_set1_ps(ws);
    CK_UNROLL
    for (int i = 0; i < MR; i++) {
        const int8_t *ar = r[i].q + a_off;
        const __m256i s = CK_QNAME(nf4_block)(C8, c, bytes, _mm256_loadu_si256((const __m256i *)ar),
                                              _mm256_loadu_si256((const __m256i *)(ar + even_step)), r[i].corr + b * (B / 8));
        const __m256 d = _mm256_mul_ps(wsv, _mm256_loadu_ps(r[i].ascale + b * 8));
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[i]);
    }
}

#if CK_QVNNI
/// The absmax values of blocks idx … idx + count − 1 (count ≤ 16) in lanes 0 … count − 1 (block_absmax's
/// arithmetic, lane by lane), 0 in the others.
CK_INLINE CK_QTARGET __m512 CK_QNAME(nf4_absmax16)(const ck_nf4_matrix *w, long idx, long count) {
    const __mmask16 live = (__mmask16)((1u << count) - 1u);
    if (w->absmax) return _mm512_maskz_loadu_ps(live, w->absmax + idx);
    const __m512i q = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(live, w->qabsmax + idx));
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
    const __m512 code = _mm512_maskz_mov_ps(live, _mm512_mask_mov_ps(v[0], b7, v[1]));
    // the 16 blocks span at most two blocks of B2 absmax values: the first's scale, and the next's
    // from the lane where it begins
    const unsigned long g = (unsigned long)idx / B2;
    const long next = (long)((g + 1) * B2) - idx;   // lanes ≥ next are in block g + 1
    const __mmask16 later = next < 16 ? (__mmask16)(live & ~((1u << next) - 1u)) : 0;
    __m512 a2 = _mm512_set1_ps(w->absmax2[g]);
    if (later) a2 = _mm512_mask_mov_ps(a2, later, _mm512_set1_ps(w->absmax2[g + 1]));
    return _mm512_add_ps(_mm512_mul_ps(code, a2), _mm512_set1_ps(w->offset));
}

/// out[jj·CK_QUANT_MR + i] for MR (1...8) rows against NJ (1...2) weight rows j + jj, a pair of
/// blocks (64 bytes of W) at a time in one zmm per (row, weight row); each activation load serves
/// both weight rows.
CK_INLINE CK_QTARGET void CK_QNAME(nf4_rows_pairs)(const int MR, const int NJ, const int C8, const nf4_ctx *c, long i0, long j,
                                                  float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    const ck_nf4_matrix *w = c->w;
    const long kp = c->kp, nb = kp / B, pairs = nb / 2;
    const __m512i mask = _mm512_set1_epi8(15);
    const __m512i TH = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->hi));
    const __m512i TL = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->lo));
    CK_QNAME(nf4_row) r[CK_QUANT_MR];
    CK_QNAME(nf4_row_inputs)(MR, c, i0, r);
    __m512 acc[CK_QUANT_NJ][CK_QUANT_MR];
    CK_UNROLL
    for (int jj = 0; jj < NJ; jj++)
        CK_UNROLL
        for (int i = 0; i < MR; i++) acc[jj][i] = _mm512_setzero_ps();
    // 8 pairs at a time: their 16 absmax values in one register (nf4_absmax16), each pair's two
    // spread over lanes 0-7 and 8-15 by one permute.
    for (long p0 = 0; p0 < pairs; p0 += 8) {
        const long p1 = p0 + 8 < pairs ? p0 + 8 : pairs;
        __m512 am[CK_QUANT_NJ];
        CK_UNROLL
        for (int jj = 0; jj < NJ; jj++) {
            am[jj] = CK_QNAME(nf4_absmax16)(w, (j + jj) * nb + 2 * p0, 2 * (p1 - p0));
            // one absmax byte (or F32 value) per 32 bytes of W
            if (w->qabsmax) CK_QUANT_PREFETCH_AHEAD(w->qabsmax + (j + jj) * nb + 2 * p0, 32);
            else CK_QUANT_PREFETCH_AHEAD(w->absmax + (j + jj) * nb + 2 * p0, 8);
        }
        __m512i sel = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        for (long p = p0; p < p1; p++) {
            // per weight row: the codes' high parts (+ 128) and low parts, of the low and high nibbles
            __m512i hl[CK_QUANT_NJ], hh[CK_QUANT_NJ], ll[CK_QUANT_NJ], lh[CK_QUANT_NJ];
            __m512 ws[CK_QUANT_NJ];
            CK_UNROLL
            for (int jj = 0; jj < NJ; jj++) {
                const unsigned char *pr = w->packed + (j + jj) * (kp / 2) + p * B;
                CK_QUANT_PREFETCH_AHEAD(pr, 1);
                const __m512i bytes = _mm512_loadu_si512(pr);
                const __m512i il = _mm512_and_si512(bytes, mask), ih = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), mask);
                hl[jj] = _mm512_shuffle_epi8(TH, il);
                hh[jj] = _mm512_shuffle_epi8(TH, ih);
                if (!C8) {
                    ll[jj] = _mm512_shuffle_epi8(TL, il);
                    lh[jj] = _mm512_shuffle_epi8(TL, ih);
                }
                ws[jj] = _mm512_permutexvar_ps(sel, am[jj]);
            }
            sel = _mm512_add_epi32(sel, _mm512_set1_epi32(2));
            CK_UNROLL
            for (int i = 0; i < MR; i++) {
                const int8_t *ar = r[i].q + p * 2 * B;
                const __m512i ao = _mm512_loadu_si512(ar), ae = _mm512_loadu_si512(ar + 64);
                const __m512i start = _mm512_loadu_si512(r[i].corr + p * 2 * (B / 8));
                const __m512 as = _mm512_loadu_ps(r[i].ascale + p * 16);
                CK_UNROLL
                for (int jj = 0; jj < NJ; jj++) {
                    const __m512i sh = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(start, hl[jj], ao), hh[jj], ae);
                    __m512i s = sh;
                    if (!C8) {
                        const __m512i sl = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ll[jj], ao), lh[jj], ae);
                        s = _mm512_add_epi32(_mm512_slli_epi32(sh, 7), sl);
                    }
                    acc[jj][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(ws[jj], as), acc[jj][i]);
                }
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
        if (nb % 2)
            CK_QNAME(nf4_block_rows)(MR, C8, c, r, w->packed + (j + jj) * (kp / 2) + (nb - 1) * (B / 2),
                                     block_absmax(w, (j + jj) * nb + nb - 1), nb - 1, (nb - 1) * B, 32, lo);
        CK_UNROLL
        for (int i = 0; i < MR; i++) out[jj * CK_QUANT_MR + i] = hsum8(_mm256_add_ps(lo[i], hi[i]));
    }
}
#else
/// out[i] for MR (1...4) rows against weight row j, block by block: block 2p + h into lo (h = 0) or
/// hi (h = 1), its odd elements at byte 32h and its even ones at 64 + 32h of the pair's activations.
CK_INLINE CK_QTARGET void CK_QNAME(nf4_rows_seq)(const int MR, const int C8, const nf4_ctx *c, long i0, long j, float *out) {
    const ck_nf4_matrix *w = c->w;
    const long kp = c->kp, nb = kp / B, pairs = nb / 2;
    const unsigned char *pr = w->packed + j * (kp / 2);
    CK_QNAME(nf4_row) r[CK_QUANT_MR];
    CK_QNAME(nf4_row_inputs)(MR, c, i0, r);
    __m256 lo[CK_QUANT_MR], hi[CK_QUANT_MR];
    CK_UNROLL
    for (int i = 0; i < MR; i++) { lo[i] = _mm256_setzero_ps(); hi[i] = _mm256_setzero_ps(); }
    for (long p = 0; p < pairs; p++) {
        if (MR == 1) CK_QUANT_PREFETCH_AHEAD(pr + p * B, 1);
        CK_QNAME(nf4_block_rows)(MR, C8, c, r, pr + p * B, block_absmax(w, j * nb + 2 * p), 2 * p, p * 2 * B, 64, lo);
        CK_QNAME(nf4_block_rows)(MR, C8, c, r, pr + p * B + B / 2, block_absmax(w, j * nb + 2 * p + 1), 2 * p + 1,
                                 p * 2 * B + 32, 64, hi);
    }
    if (nb % 2)
        CK_QNAME(nf4_block_rows)(MR, C8, c, r, pr + (nb - 1) * (B / 2), block_absmax(w, j * nb + nb - 1), nb - 1, (nb - 1) * B, 32, lo);
    CK_UNROLL
    for (int i = 0; i < MR; i++) out[i] = hsum8(_mm256_add_ps(lo[i], hi[i]));
}

/// The block-by-block loop in passes of up to 4 rows (2 × 4 ymm accumulators beside the block in
/// flight, of AVX2's 16 registers).
CK_QTARGET static void CK_QNAME(nf4_seq)(const nf4_ctx *c, long i0, int mr, long j, float *out) {
    for (int r = 0; r < mr; r += 4)
        switch (mr - r < 4 ? mr - r : 4) {
#define CK_NF4_SEQ(MR) \
    do { if (c->codes8) CK_QNAME(nf4_rows_seq)(MR, 1, c, i0 + r, j, out + r); else CK_QNAME(nf4_rows_seq)(MR, 0, c, i0 + r, j, out + r); } while (0)
        case 1: CK_NF4_SEQ(1); break;
        case 2: CK_NF4_SEQ(2); break;
        case 3: CK_NF4_SEQ(3); break;
        default: CK_NF4_SEQ(4); break;
#undef CK_NF4_SEQ
        }
}
#endif

/// AVX2: the block-by-block loop, one weight row at a time. VNNI: the pairs in zmm, two weight rows
/// at a time.
CK_QTARGET static void CK_QNAME(nf4_dot)(const void *cv, const ck_qact *a, long i0, int mr, long j, int nj,
                                         float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    const nf4_ctx *c = cv;
    (void)a;
#if CK_QVNNI
#define CK_NF4_PAIRS(MR, c, a, i0, j, out) do { \
        if (c->codes8) { \
            if (nj == 2) CK_QNAME(nf4_rows_pairs)(MR, 2, 1, c, i0, j, out); else CK_QNAME(nf4_rows_pairs)(MR, 1, 1, c, i0, j, out); \
        } else { \
            if (nj == 2) CK_QNAME(nf4_rows_pairs)(MR, 2, 0, c, i0, j, out); else CK_QNAME(nf4_rows_pairs)(MR, 1, 0, c, i0, j, out); \
        } \
    } while (0)
    CK_QUANT_ROWS(CK_NF4_PAIRS, c, a, i0, mr, j, out);
#undef CK_NF4_PAIRS
#else
    for (int jj = 0; jj < nj; jj++) CK_QNAME(nf4_seq)(c, i0, mr, j + jj, out + jj * CK_QUANT_MR);
#endif
}
