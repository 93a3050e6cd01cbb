// Small-M matrix kernels for AVX2 + FMA (+ F16C) CPUs (e.g. AMD Zen 2/3, Intel Haswell+): the
// tiling of kernels.c's AVX-512 bodies at 8 lanes and 16 vector registers, for F32 weights and
// for 16-bit (F16/BF16) weights read straight from the checkpoint mapping. Compiled for the
// baseline target; these bodies carry target attributes and small_dispatch.c calls them only when
// the CPU has AVX2, FMA and F16C.
#include "small_common.h"
#include "vmath_avx2.h"   // AVX2, hsum8

/// Lane i is all ones when i < left (left clamped to 0...8): the mask of a ragged edge.
INLINE AVX2 __m256i lanes8(long left) {
    const int l = left >= 8 ? 8 : left <= 0 ? 0 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(l), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// 8 W elements from `p` (any alignment) as F32; lanes at or past `left` read as 0 and are never
/// touched in memory (a partial 16-bit vector goes through a zero-padded copy).
INLINE AVX2 __m256 wload8(const int WT, long left, const char *p) {
    if (WT == WT_F32) {
        if (left >= 8) return _mm256_loadu_ps((const float *)p);
        return _mm256_maskload_ps((const float *)p, lanes8(left));
    }
    __m128i h;
    if (left >= 8) {
        h = _mm_loadu_si128((const __m128i *)p);
    } else {
        unsigned short t[8] = {0};
        __builtin_memcpy(t, p, 2 * (unsigned long)(left > 0 ? left : 0));
        h = _mm_loadu_si128((const __m128i *)t);
    }
    if (WT == CK_HALF_F16) return _mm256_cvtph_ps(h);                                  // IEEE binary16
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));       // BF16: top half of an F32
}

// ---- KN: y += x · W, W [k, n] ------------------------------------------------------------
// A register tile of y, M rows × NV vectors (8·NV columns), accumulates over a chunk of KC rows of
// W, as in kernels.c; the next chunk's rows are prefetched line by line in address order.

/// y[0:M, 0:nb) (+)= x · w[0:kc, 0:nb) for nb ≤ 8·NV, x the chunk's activations packed p-major (as
/// in kernels.c: x[p·M + i]); y is loaded first when `load_y`,
/// else never read. FULL (a compile-time constant) says nb == 8·NV: plain loads and stores, no
/// branch in the loop; otherwise the lanes past nb are masked with masks made once per strip.
INLINE AVX2 void kn_strip8(const int WT, const int M, const int NV, const int FULL, const float *x, long kc,
                           const char *w, long ldw, long nb, float *y, long ldy, int load_y, pf_cursor *pf) {
    __m256i mk[6];
    long left[6];
UNROLL
    for (int v = 0; v < NV; v++) { left[v] = FULL ? 8 : nb - 8 * v; mk[v] = lanes8(left[v]); }
    __m256 acc[8][6];
UNROLL
    for (int i = 0; i < M; i++)
UNROLL
        for (int v = 0; v < NV; v++) {
            const float *yp = y + i * ldy + 8 * v;
            acc[i][v] = !load_y ? _mm256_setzero_ps() : FULL ? _mm256_loadu_ps(yp) : _mm256_maskload_ps(yp, mk[v]);
        }
    for (long p = 0; p < kc; p++) {
        const char *wr = w + p * ldw * WT_SIZE(WT);
        __m256 b[6];
UNROLL
        for (int v = 0; v < NV; v++) {
            if ((v & 1) == 0) pf_step(pf);  // one 64-byte line per 16 F32 columns
            const char *wp = wr + 8 * v * WT_SIZE(WT);
            if (FULL) b[v] = wload8(WT, 8, wp);
            else if (WT == WT_F32) b[v] = _mm256_maskload_ps((const float *)wp, mk[v]);
            else b[v] = wload8(WT, left[v], wp);
        }
UNROLL
        for (int i = 0; i < M; i++) {
            const __m256 xb = _mm256_broadcast_ss(x + p * M + i);
UNROLL
            for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(xb, b[v], acc[i][v]);
        }
    }
UNROLL
    for (int i = 0; i < M; i++)
UNROLL
        for (int v = 0; v < NV; v++) {
            float *yp = y + i * ldy + 8 * v;
            if (FULL) _mm256_storeu_ps(yp, acc[i][v]);
            else if (left[v] > 0) _mm256_maskstore_ps(yp, mk[v], acc[i][v]);
        }
}

/// KC-row chunks of W (kn_chunk); within a chunk, strips of 8·NV columns (the last one masked).
/// beta = 0: the first chunk stores. Each chunk's activations are copied p-major first (kernels.c
/// says why).
INLINE AVX2 void kn_rows8(const int WT, const int M, const int NV, const float *x, long k, long ldx,
                          const char *w, long ldw, long n, float *y, long ldy, float beta) {
    const long es = WT_SIZE(WT), full = n / (8 * NV) * (8 * NV), KC = kn_chunk(CK_ISA_AVX2, M);
    for (long p0 = 0; p0 < k; p0 += KC) {
        const long kc = k - p0 < KC ? k - p0 : KC, p1 = p0 + KC;
        pf_cursor pf = {w + p1 * ldw * es, 0, n * es, ldw * es, p1 < k ? (k - p1 < KC ? k - p1 : KC) : 0};
        const int load_y = p0 > 0 || beta != 0.0f;
        float xt[KN_KC * 8] __attribute__((aligned(32)));   // KC ≤ KN_KC
        for (long p = 0; p < kc; p++)
UNROLL
            for (int i = 0; i < M; i++) xt[p * M + i] = x[i * ldx + p0 + p];
        long j = 0;
        for (; j < full; j += 8 * NV)
            kn_strip8(WT, M, NV, 1, xt, kc, w + (p0 * ldw + j) * es, ldw, 8 * NV, y + j, ldy, load_y, &pf);
        if (j < n)
            kn_strip8(WT, M, NV, 0, xt, kc, w + (p0 * ldw + j) * es, ldw, n - j, y + j, ldy, load_y, &pf);
    }
}

/// Tile widths: M·NV accumulators + NV W vectors + a broadcast within 16 ymm registers.
INLINE AVX2 void kn_avx2(const int WT, const float *x, long m, long k, long ldx, const char *w, long ldw,
                         long n, float *y, long ldy, float beta) {
    switch (m) {
    case 1: kn_rows8(WT, 1, 6, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 2: kn_rows8(WT, 2, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 3: kn_rows8(WT, 3, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 4: kn_rows8(WT, 4, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 5: kn_rows8(WT, 5, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 6: kn_rows8(WT, 6, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 7: kn_rows8(WT, 7, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    default: kn_rows8(WT, 8, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    }
}

AVX2 static void kn_f32(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                        float *y, long ldy, float beta) {
    kn_avx2(WT_F32, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX2 static void kn_f16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                        float *y, long ldy, float beta) {
    kn_avx2(CK_HALF_F16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX2 static void kn_bf16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                         float *y, long ldy, float beta) {
    kn_avx2(CK_HALF_BF16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

void ck_small_kn_avx2(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta) {
    (kind == 0 ? kn_f32 : kind == CK_HALF_BF16 ? kn_bf16 : kn_f16)(x, m, k, ldx, (const char *)w, ldw, n, y, ldy, beta);
}

// ---- NK: y += x · Wᵀ, W [n, k] -------------------------------------------------------------
// R W rows at a time against all M rows of x (x stays in L1): R·M accumulators; W rows stream in
// address order, each line also prefetched NK_PD rows ahead.

/// acc[r][i] += x[i, p:p+8] ⊙ w[r, p:p+8] (lanes at or past `left` read as 0).
INLINE AVX2 void nk_step8(const int WT, const int M, const int R, const float *x, long ldx, const char *w,
                          long ldw, long p, long left, __m256 acc[6][8]) {
    const long es = WT_SIZE(WT);
    __m256 b[6];
UNROLL
    for (int r = 0; r < R; r++) {
        if ((p & (WT == WT_F32 ? 15 : 31)) == 0) _mm_prefetch(w + ((r + NK_PD) * ldw + p) * es, PF_HINT);
        b[r] = wload8(WT, left, w + (r * ldw + p) * es);
    }
UNROLL
    for (int i = 0; i < M; i++) {
        const __m256 xv = left >= 8 ? _mm256_loadu_ps(x + i * ldx + p) : _mm256_maskload_ps(x + i * ldx + p, lanes8(left));
UNROLL
        for (int r = 0; r < R; r++) acc[r][i] = _mm256_fmadd_ps(xv, b[r], acc[r][i]);
    }
}

/// y[0:M, 0:R) (+)= x[0:M, 0:k) · w[0:R, 0:k)ᵀ — full 8-float steps unmasked, the k tail masked.
INLINE AVX2 void nk_group8(const int WT, const int M, const int R, const float *x, long k, long ldx,
                           const char *w, long ldw, float *y, long ldy, float beta) {
    __m256 acc[6][8];
UNROLL
    for (int r = 0; r < R; r++)
UNROLL
        for (int i = 0; i < M; i++) acc[r][i] = _mm256_setzero_ps();
    const long full = k & ~7L;
    for (long p = 0; p < full; p += 8) nk_step8(WT, M, R, x, ldx, w, ldw, p, 8, acc);
    if (full < k) nk_step8(WT, M, R, x, ldx, w, ldw, full, k - full, acc);
UNROLL
    for (int i = 0; i < M; i++)
UNROLL
        for (int r = 0; r < R; r++) {
            float *yy = y + i * ldy + r;
            *yy = (beta == 0.0f ? 0.0f : *yy) + hsum8(acc[r][i]);
        }
}

INLINE AVX2 void nk_rows8(const int WT, const int M, const int R, const float *x, long k, long ldx,
                          const char *w, long ldw, long n, float *y, long ldy, float beta) {
    const long es = WT_SIZE(WT);
    long j = 0;
    for (; j + R <= n; j += R) nk_group8(WT, M, R, x, k, ldx, w + j * ldw * es, ldw, y + j, ldy, beta);
    for (; j < n; j++) nk_group8(WT, M, 1, x, k, ldx, w + j * ldw * es, ldw, y + j, ldy, beta);
}

/// R·M accumulators + R W vectors + one x vector within 16 ymm registers.
INLINE AVX2 void nk_avx2(const int WT, const float *x, long m, long k, long ldx, const char *w, long ldw,
                         long n, float *y, long ldy, float beta) {
    switch (m) {
    case 1: nk_rows8(WT, 1, 6, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 2: nk_rows8(WT, 2, 4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 3: nk_rows8(WT, 3, 3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 4: nk_rows8(WT, 4, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 5: nk_rows8(WT, 5, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 6: nk_rows8(WT, 6, 2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 7: nk_rows8(WT, 7, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    default: nk_rows8(WT, 8, 1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    }
}

AVX2 static void nk_f32(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                        float *y, long ldy, float beta) {
    nk_avx2(WT_F32, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX2 static void nk_f16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                        float *y, long ldy, float beta) {
    nk_avx2(CK_HALF_F16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
AVX2 static void nk_bf16(const float *x, long m, long k, long ldx, const char *w, long ldw, long n,
                         float *y, long ldy, float beta) {
    nk_avx2(CK_HALF_BF16, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

void ck_small_nk_avx2(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta) {
    (kind == 0 ? nk_f32 : kind == CK_HALF_BF16 ? nk_bf16 : nk_f16)(x, m, k, ldx, (const char *)w, ldw, n, y, ldy, beta);
}
