// int8's SIMD body, one template for the AVX2 and VNNI levels (quant_body.h): MR (1...8) activation
// rows against NJ (1...2) weight rows, the 64-value blocks in pairs (b, b + 1) in 16 lanes — lanes
// 0-7 block b, 8-15 block b + 1. A pair's weights are loaded once for all rows, each row's
// activations once for both weight rows. Per pair, lane l < 8 sums exactly, in int32, the products
// of bytes 4l…4l+3 of both 32-byte halves of block b (lane 8 + l: of block b + 1):
//   AVX2: |w| (u8) · (a with w's sign) (s8), vpmaddubsw's pairs ≤ 2·127² fitting int16, two ymm;
//   VNNI: (a + 128) (u8) · w (s8) added to the lanes' −128·Σw, which all rows share (ck_i8_multiply
//         hands this level activations with their sign bits flipped, i.e. a + 128 as bytes), one zmm;
// then converted and scaled by w_scale·a_scale (one multiply of two 16-lane scale vectors) into 16
// F32 lanes. An odd last block goes into lanes 0-7 alone; the result is the sum of the two halves'
// 8 lanes. The lanes hold the same integers and take the same F32 operations at both levels, so the
// results are the same bits. The activations' byte order: pair_activations in quant_int8.c.
#include "quant_body.h"

#ifndef CK_UNROLL
#define CK_UNROLL _Pragma("clang loop unroll(full)")
#endif

#undef Q16F
#if CK_QVNNI
#define Q16F __m512
#else
typedef struct { __m256 lo, hi; } q16f_avx2;   // lanes 0-7, 8-15
#define Q16F q16f_avx2
#endif

#if CK_QVNNI
/// 16 F32 lanes: [s0 × 8, s1 × 8].
CK_INLINE CK_QTARGET __m512 CK_QNAME(i8_pair_scale)(const float *s) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm256_broadcast_ss(s))),
                                               _mm256_castps_pd(_mm256_broadcast_ss(s + 1)), 1));
}
#endif

CK_INLINE CK_QTARGET void CK_QNAME(i8_rows)(const int MR, const int NJ, const i8_acts *c, long i0, long j,
                                           float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    const ck_i8_matrix *w = c->w;
    const ck_qact *a = c->a;
    const long kp = a->kp, nb = a->nb, pairs = nb / 2;
    const __m256i zero = _mm256_setzero_si256();
    Q16F acc[CK_QUANT_NJ][CK_QUANT_MR];
    CK_UNROLL
    for (int jj = 0; jj < NJ; jj++)
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
#if CK_QVNNI
            acc[jj][i] = _mm512_setzero_ps();
#else
            acc[jj][i] = (Q16F){_mm256_setzero_ps(), _mm256_setzero_ps()};
#endif
        }
#if CK_QVNNI
    for (long p = 0; p < pairs; p++) {
        // first: the first halves of blocks 2p and 2p + 1; second: their second halves.
        __m512i first[CK_QUANT_NJ], second[CK_QUANT_NJ], start[CK_QUANT_NJ];
        __m512 ws[CK_QUANT_NJ];
        CK_UNROLL
        for (int jj = 0; jj < NJ; jj++) {
            const signed char *wq = w->q + (j + jj) * kp + p * 2 * CK_I8_BLOCK;
            // The next call's weight rows (j + NJ + jj), same offset, into L2: the hardware
            // prefetchers do not run ahead of the NJ interleaved rows on their own.
            _mm_prefetch((const char *)(wq + NJ * kp), _MM_HINT_T1);
            _mm_prefetch((const char *)(wq + NJ * kp + 64), _MM_HINT_T1);
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
            const __m512 as = CK_QNAME(i8_pair_scale)(a->scale + (i0 + i) * nb + 2 * p);
            const __m512i a0 = _mm512_loadu_si512(ar), a1 = _mm512_loadu_si512(ar + 64);
            CK_UNROLL
            for (int jj = 0; jj < NJ; jj++) {
                const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(start[jj], a0, first[jj]), a1, second[jj]);
                acc[jj][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(ws[jj], as), acc[jj][i]);
            }
        }
    }
#else
    // The same lanes block by block (few live registers): block 2p + h into acc.lo (h = 0) or
    // acc.hi (h = 1), its halves at bytes 32h and 64 + 32h of the pair's activations.
    for (long p = 0; p < pairs; p++)
        for (int h = 0; h < 2; h++)
            CK_UNROLL
            for (int jj = 0; jj < NJ; jj++) {
                const signed char *wq = w->q + (j + jj) * kp + (2 * p + h) * CK_I8_BLOCK;
                const __m256i w0 = _mm256_loadu_si256((const __m256i *)wq), w1 = _mm256_loadu_si256((const __m256i *)(wq + 32));
                const __m256i u0 = _mm256_abs_epi8(w0), u1 = _mm256_abs_epi8(w1);
                const __m256 wsb = _mm256_broadcast_ss(w->scale + (j + jj) * nb + 2 * p + h);
                CK_UNROLL
                for (int i = 0; i < MR; i++) {
                    const int8_t *ar = c->q + (i0 + i) * kp + p * 2 * CK_I8_BLOCK + 32 * h;
                    const __m256i a0 = _mm256_loadu_si256((const __m256i *)ar), a1 = _mm256_loadu_si256((const __m256i *)(ar + 64));
                    const __m256i s = CK_DPBUSD(CK_DPBUSD(zero, u0, _mm256_sign_epi8(a0, w0)), u1, _mm256_sign_epi8(a1, w1));
                    const __m256 d = _mm256_mul_ps(wsb, _mm256_broadcast_ss(a->scale + (i0 + i) * nb + 2 * p + h));
                    if (h == 0) acc[jj][i].lo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[jj][i].lo);
                    else acc[jj][i].hi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[jj][i].hi);
                }
            }
#endif
    CK_UNROLL
    for (int jj = 0; jj < NJ; jj++) {
        __m256 lo[CK_QUANT_MR], hi[CK_QUANT_MR];
        CK_UNROLL
        for (int i = 0; i < MR; i++) {
#if CK_QVNNI
            lo[i] = _mm512_castps512_ps256(acc[jj][i]);
            hi[i] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[jj][i]), 1));
#else
            lo[i] = acc[jj][i].lo; hi[i] = acc[jj][i].hi;
#endif
        }
        if (nb % 2) {   // the odd last block, natural byte order, into lanes 0-7
            const long b = nb - 1;
            const signed char *wq = w->q + (j + jj) * kp + b * CK_I8_BLOCK;
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)wq), w1 = _mm256_loadu_si256((const __m256i *)(wq + 32));
#if CK_QVNNI
            const __m256i bias = _mm256_set1_epi8((char)0x80);
            const __m256i start = _mm256_sub_epi32(zero, CK_DPBUSD(CK_DPBUSD(zero, bias, w0), bias, w1));
#else
            const __m256i u0 = _mm256_abs_epi8(w0), u1 = _mm256_abs_epi8(w1);
#endif
            const __m256 wsb = _mm256_broadcast_ss(w->scale + (j + jj) * nb + b);
            CK_UNROLL
            for (int i = 0; i < MR; i++) {
                const int8_t *ar = c->q + (i0 + i) * kp + b * CK_I8_BLOCK;
                const __m256i a0 = _mm256_loadu_si256((const __m256i *)ar), a1 = _mm256_loadu_si256((const __m256i *)(ar + 32));
#if CK_QVNNI
                const __m256i s = CK_DPBUSD(CK_DPBUSD(start, a0, w0), a1, w1);
#else
                const __m256i s = CK_DPBUSD(CK_DPBUSD(zero, u0, _mm256_sign_epi8(a0, w0)), u1, _mm256_sign_epi8(a1, w1));
#endif
                const __m256 d = _mm256_mul_ps(wsb, _mm256_broadcast_ss(a->scale + (i0 + i) * nb + b));
                lo[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, lo[i]);
            }
        }
        CK_UNROLL
        for (int i = 0; i < MR; i++) out[jj * CK_QUANT_MR + i] = hsum8(_mm256_add_ps(lo[i], hi[i]));
    }
}

/// One pass per call: up to 8 rows against 2 weight rows at VNNI (16 zmm accumulators), up to 4
/// rows against 1 weight row at AVX2 (8 ymm accumulators beside the block in flight, of its 16); a
/// row's result is the same either way.
CK_QTARGET static void CK_QNAME(i8_dot)(const void *c, const ck_qact *a, long i0, int mr, long j, int nj,
                                        float out[CK_QUANT_NJ * CK_QUANT_MR]) {
    (void)a;
#if CK_QVNNI
#define CK_I8_ROWS(MR, c, a, i0, j, out) \
    do { if (nj == 2) CK_QNAME(i8_rows)(MR, 2, c, i0, j, out); else CK_QNAME(i8_rows)(MR, 1, c, i0, j, out); } while (0)
    CK_QUANT_ROWS(CK_I8_ROWS, (const i8_acts *)c, a, i0, mr, j, out);
#undef CK_I8_ROWS
#else
#define CK_I8_ROWS4(MR, c, i0, j, out) CK_QNAME(i8_rows)(MR, 1, c, i0, j, out)
    for (int jj = 0; jj < nj; jj++)
        for (int r = 0; r < mr; r += 4) {
            float part[CK_QUANT_NJ * CK_QUANT_MR];
            const int n4 = mr - r < 4 ? mr - r : 4;
            switch (n4) {
            case 1: CK_I8_ROWS4(1, (const i8_acts *)c, i0 + r, j + jj, part); break;
            case 2: CK_I8_ROWS4(2, (const i8_acts *)c, i0 + r, j + jj, part); break;
            case 3: CK_I8_ROWS4(3, (const i8_acts *)c, i0 + r, j + jj, part); break;
            default: CK_I8_ROWS4(4, (const i8_acts *)c, i0 + r, j + jj, part); break;
            }
            for (int i = 0; i < n4; i++) out[jj * CK_QUANT_MR + r + i] = part[i];
        }
#undef CK_I8_ROWS4
#endif
}
