// Small-M matrix kernels, AVX-512 F + BW + VL (see include/ckernels.h), for F32 weights and for 16-bit
// (F16/BF16) weights read straight from the checkpoint mapping. Compiled for the baseline target;
// the AVX-512 bodies carry target attributes and are only called (through small_dispatch.c) when
// the CPU has AVX-512 F, BW and VL (ck_has_avx512). kernels_avx2.c is the same tiling at 8 lanes for AVX2 + FMA CPUs.
#include "ckernels.h"
#include "small_common.h"
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

/// 16 W elements from `p` (any alignment) as F32; lanes outside mk read as 0 (mk is a prefix
/// mask from lanes()). 16-bit elements come through a masked AVX-512BW/VL load (a zero-padded
/// stack copy for the ragged edge, as before, made the compiler keep the whole register tile on the
/// stack: BF16 decode ran at 0.6–0.7× the AVX2 body's speed on a Zen 4).
INLINE AVX512 __m512 wload(const int WT, __mmask16 mk, const char *p) {
    if (WT == WT_F32) return _mm512_maskz_loadu_ps(mk, (const float *)p);
    const __m256i h = _mm256_maskz_loadu_epi16(mk, p);
    if (WT == CK_HALF_F16) return _mm512_cvtph_ps(h);                                   // IEEE binary16
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));        // BF16: top half of an F32
}

// ---- KN: y += x · W, W [k, n] ------------------------------------------------------------
// A register tile of y, M rows × NV vectors (16·NV columns), accumulates over a chunk of KC rows
// of W: per W row NV vector loads and M broadcasts feed M·NV FMAs, and y is read and written once
// per chunk (before: once per four FMAs). The chunk's strips walk W column-strip by column-strip,
// so while they compute, a cursor prefetches the next chunk's rows line by line in address order:
// DRAM sees one linear stream instead of KC strided ones. Measured on Zen 5, 768×3072 weights
// streaming from DRAM, 2 threads: KC = 16 beats 8 and 32; the linear prefetch beats prefetching
// each strip 16 rows ahead by ≈ 15 % at m = 8.

/// y[0:M, 0:nb) (+)= x · w[0:kc, 0:nb) for nb ≤ 16·NV (masked past nb), x the chunk's activations
/// packed p-major (x[p·M + i] = row i's value p: the M broadcasts of one W row read one cache line);
/// y is loaded first when `load_y`, else never read. w holds WT elements, row stride ldw elements.
/// NV prefetch steps per W row (a 16-bit W needs only half of them: the cursor just finishes early).
INLINE AVX512 void kn_strip(const int WT, const int M, const int NV, const float *x, long kc,
                            const char *w, long ldw, long nb, float *y, long ldy, int load_y, pf_cursor *pf) {
    __mmask16 mk[8];
    __m512 acc[16][8];
    tile_load(M, NV, nb, y, ldy, load_y, mk, acc);
    for (long p = 0; p < kc; p++) {
        const char *wr = w + p * ldw * WT_SIZE(WT);
        __m512 b[8];
UNROLL
        for (int v = 0; v < NV; v++) {
            pf_step(pf);
            b[v] = wload(WT, mk[v], wr + 16 * v * WT_SIZE(WT));
        }
UNROLL
        for (int i = 0; i < M; i++) {
            const __m512 xb = _mm512_set1_ps(x[p * M + i]);
UNROLL
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(xb, b[v], acc[i][v]);
        }
    }
    tile_store(M, NV, y, ldy, mk, acc);
}

/// KC-row chunks of W (kn_chunk); within a chunk, strips of 16·NV columns. beta = 0: the first
/// chunk stores.
/// Each chunk's activations are first copied p-major into `xt` (KC·M floats): read in place, row i's
/// value p sits at x + i·ldx + p, and at ldx = 3072 (the MLP's down projection) every row's line
/// maps to the same L1 set — 16 rows thrash an 8-way set and the m = 16 product ran at 0.6× the
/// speed of one with ldx = 768 (Zen 4, W from DRAM, 2 threads).
INLINE AVX512 void kn_rows(const int WT, const int M, const int NV, const float *x, long k, long ldx,
                           const char *w, long ldw, long n, float *y, long ldy, float beta) {
    const long es = WT_SIZE(WT), KC = kn_chunk(CK_ISA_AVX512, M);
    for (long p0 = 0; p0 < k; p0 += KC) {
        const long kc = k - p0 < KC ? k - p0 : KC, p1 = p0 + KC;
        pf_cursor pf = {w + p1 * ldw * es, 0, n * es, ldw * es, p1 < k ? (k - p1 < KC ? k - p1 : KC) : 0};
        const int load_y = p0 > 0 || beta != 0.0f;
        float xt[KN_KC * 16] __attribute__((aligned(64)));   // KC ≤ KN_KC
        for (long p = 0; p < kc; p++)
UNROLL
            for (int i = 0; i < M; i++) xt[p * M + i] = x[i * ldx + p0 + p];
        for (long j = 0; j < n; j += 16 * NV)
            kn_strip(WT, M, NV, xt, kc, w + (p0 * ldw + j) * es, ldw, n - j, y + j, ldy, load_y, &pf);
    }
}

/// Tile widths: M·NV ≤ 24 accumulators, plus NV W vectors and a broadcast, within 32 zmm. Up to 16
/// rows take one tile, so W is read once per product and its stream from memory overlaps the FMAs
/// (two passes of 8 rows over L2-sized blocks of W left the first pass waiting on memory and the
/// second computing alone: on Zen 4, W from DRAM, 2 threads, m = 16 took 1.5–1.65× the time of
/// m = 8; in one tile it takes ≈ 1.0× for F32 W, where 16 rows are still bound by the stream).
INLINE AVX512 void kn_avx512(const int WT, const float *x, long m, long k, long ldx, const char *w, long ldw,
                             long n, float *y, long ldy, float beta) {
    switch (m) {
    case 1: kn_rows(WT, 1, 8, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 2: kn_rows(WT, 2, 6, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 3: kn_rows(WT, 3, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 4: kn_rows(WT, 4, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 5: kn_rows(WT, 5, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 6: kn_rows(WT, 6, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 7: kn_rows(WT, 7, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 8: kn_rows(WT, 8, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 9: kn_rows(WT, 9, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 10: kn_rows(WT, 10, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 11: kn_rows(WT, 11, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 12: kn_rows(WT, 12, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 13: kn_rows(WT, 13, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 14: kn_rows(WT, 14, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 15: kn_rows(WT, 15, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    default: kn_rows(WT, 16, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    }
}

/// One instantiation per weight element type.
AVX512 static void kn_f32(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                          float *y, long ldy, float beta) {
    kn_avx512(WT_F32, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX512 static void kn_f16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                          float *y, long ldy, float beta) {
    kn_avx512(CK_HALF_F16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX512 static void kn_bf16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                           float *y, long ldy, float beta) {
    kn_avx512(CK_HALF_BF16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

/// m ≤ 16 rows in one tile.
void ck_small_kn_avx512(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                        float *y, long ldy, float beta) {
    (kind == 0 ? kn_f32 : kind == CK_HALF_BF16 ? kn_bf16 : kn_f16)(x, m, k, ldx, (const char *)w, ldw, n, y, ldy, beta);
}

// ---- NK: y += x · Wᵀ, W [n, k] -------------------------------------------------------------
// R W rows at a time against all M rows of x (x stays in L1): R·M accumulators, per 16 k-steps
// R W loads and M x loads feed R·M FMAs (before: 2 W rows, 2 FMAs per x load). W rows stream in
// address order, each line also prefetched NK_PD rows ahead (LM head 50257×768 from DRAM, 2 threads:
// without it m = 8 takes ≈ 3× as long; masked loads in the main loop cost m = 1 ≈ 10 %).

/// acc[r][i] += x[i, p:p+16] ⊙ w[r, p:p+16] (lanes outside mk read as 0); prefetches the same
/// lines NK_PD rows ahead.
/// w holds WT elements, row stride ldw elements; a 16-bit W prefetches on every other step (one
/// step covers half a line).
INLINE AVX512 void nk_step(const int WT, const int M, const int R, const float *x, long ldx, const char *w,
                           long ldw, long p, __mmask16 mk, __m512 acc[8][8]) {
    const long es = WT_SIZE(WT);
    __m512 b[8];
UNROLL
    for (int r = 0; r < R; r++) {
        if (WT == WT_F32 || (p & 31) == 0) _mm_prefetch(w + ((r + NK_PD) * ldw + p) * es, PF_HINT);
        b[r] = wload(WT, mk, w + (r * ldw + p) * es);
    }
UNROLL
    for (int i = 0; i < M; i++) {
        const __m512 xv = _mm512_maskz_loadu_ps(mk, x + i * ldx + p);
UNROLL
        for (int r = 0; r < R; r++) acc[r][i] = _mm512_fmadd_ps(xv, b[r], acc[r][i]);
    }
}

/// y[0:M, 0:R) (+)= x[0:M, 0:k) · w[0:R, 0:k)ᵀ — full 16-float steps unmasked, the k tail masked.
INLINE AVX512 void nk_group(const int WT, const int M, const int R, const float *x, long k, long ldx,
                            const char *w, long ldw, float *y, long ldy, float beta) {
    __m512 acc[8][8];
UNROLL
    for (int r = 0; r < R; r++)
UNROLL
        for (int i = 0; i < M; i++) acc[r][i] = _mm512_setzero_ps();
    const long full = k & ~15L;
    for (long p = 0; p < full; p += 16) nk_step(WT, M, R, x, ldx, w, ldw, p, (__mmask16)0xFFFF, acc);
    if (full < k) nk_step(WT, M, R, x, ldx, w, ldw, full, lanes(k - full), acc);
UNROLL
    for (int i = 0; i < M; i++)
UNROLL
        for (int r = 0; r < R; r++) {
            float *yy = y + i * ldy + r;
            *yy = (beta == 0.0f ? 0.0f : *yy) + _mm512_reduce_add_ps(acc[r][i]);
        }
}

INLINE AVX512 void nk_rows(const int WT, const int M, const int R, const float *x, long k, long ldx,
                           const char *w, long ldw, long n, float *y, long ldy, float beta) {
    const long es = WT_SIZE(WT);
    long j = 0;
    for (; j + R <= n; j += R) nk_group(WT, M, R, x, k, ldx, w + j * ldw * es, ldw, y + j, ldy, beta);
    for (; j < n; j++) nk_group(WT, M, 1, x, k, ldx, w + j * ldw * es, ldw, y + j, ldy, beta);
}

/// R·M ≤ 24 accumulators.
INLINE AVX512 void nk_avx512(const int WT, const float *x, long m, long k, long ldx, const char *w, long ldw,
                             long n, float *y, long ldy, float beta) {
    switch (m) {
    case 1: nk_rows(WT, 1, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 2: nk_rows(WT, 2, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 3: nk_rows(WT, 3, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 4: nk_rows(WT, 4, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 5: nk_rows(WT, 5, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 6: nk_rows(WT, 6, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 7: nk_rows(WT, 7, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    default: nk_rows(WT, 8, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    }
}

/// One instantiation per weight element type.
AVX512 static void nk_f32(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                          float *y, long ldy, float beta) {
    nk_avx512(WT_F32, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX512 static void nk_f16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                          float *y, long ldy, float beta) {
    nk_avx512(CK_HALF_F16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX512 static void nk_bf16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                           float *y, long ldy, float beta) {
    nk_avx512(CK_HALF_BF16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

void ck_small_nk_avx512(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                        float *y, long ldy, float beta) {
    (kind == 0 ? nk_f32 : kind == CK_HALF_BF16 ? nk_bf16 : nk_f16)(x, m, k, ldx, (const char *)w, ldw, n, y, ldy, beta);
}
