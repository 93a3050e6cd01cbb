// Small-M matrix kernels, AVX-512F (see include/ckernels.h). Compiled for the baseline target;
// the AVX-512 bodies carry target attributes and are only called when ck_has_avx512() says so.
#include "ckernels.h"
#include <immintrin.h>

int ck_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

// ---- KN: y += x · W, W [k, n] ------------------------------------------------------------
// Column blocks of NB floats keep y[0:M, block] in L1 while W streams row by row; four W rows
// per pass so each y vector is loaded and stored once per four FMAs per row of x.
#define NB 512

INLINE AVX512 void kn_block(const int M, const float *x, long k, long ldx, const float *w, long ldw,
                            long nb, float *y, long ldy) {
    const long full = nb & ~15L;
    const __mmask16 tail = (__mmask16)((1u << (nb - full)) - 1u);
    long p = 0;
    for (; p + 4 <= k; p += 4) {
        const float *w0 = w + p * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        _mm_prefetch((const char *)(w3 + 4 * ldw), _MM_HINT_T0);
        _mm_prefetch((const char *)(w3 + 5 * ldw), _MM_HINT_T0);
        __m512 xb[8][4];
        for (int i = 0; i < M; i++)
            for (int q = 0; q < 4; q++) xb[i][q] = _mm512_set1_ps(x[i * ldx + p + q]);
        for (long c = 0; c < full; c += 16) {
            __m512 a = _mm512_loadu_ps(w0 + c), b = _mm512_loadu_ps(w1 + c);
            __m512 d = _mm512_loadu_ps(w2 + c), e = _mm512_loadu_ps(w3 + c);
            for (int i = 0; i < M; i++) {
                float *yy = y + i * ldy + c;
                __m512 acc = _mm512_loadu_ps(yy);
                acc = _mm512_fmadd_ps(xb[i][0], a, acc);
                acc = _mm512_fmadd_ps(xb[i][1], b, acc);
                acc = _mm512_fmadd_ps(xb[i][2], d, acc);
                acc = _mm512_fmadd_ps(xb[i][3], e, acc);
                _mm512_storeu_ps(yy, acc);
            }
        }
        if (tail) {
            __m512 a = _mm512_maskz_loadu_ps(tail, w0 + full), b = _mm512_maskz_loadu_ps(tail, w1 + full);
            __m512 d = _mm512_maskz_loadu_ps(tail, w2 + full), e = _mm512_maskz_loadu_ps(tail, w3 + full);
            for (int i = 0; i < M; i++) {
                float *yy = y + i * ldy + full;
                __m512 acc = _mm512_maskz_loadu_ps(tail, yy);
                acc = _mm512_fmadd_ps(xb[i][0], a, acc);
                acc = _mm512_fmadd_ps(xb[i][1], b, acc);
                acc = _mm512_fmadd_ps(xb[i][2], d, acc);
                acc = _mm512_fmadd_ps(xb[i][3], e, acc);
                _mm512_mask_storeu_ps(yy, tail, acc);
            }
        }
    }
    for (; p < k; p++) {
        const float *w0 = w + p * ldw;
        for (int i = 0; i < M; i++) {
            const __m512 xv = _mm512_set1_ps(x[i * ldx + p]);
            float *yy = y + i * ldy;
            long c = 0;
            for (; c < full; c += 16)
                _mm512_storeu_ps(yy + c, _mm512_fmadd_ps(xv, _mm512_loadu_ps(w0 + c), _mm512_loadu_ps(yy + c)));
            if (tail)
                _mm512_mask_storeu_ps(yy + full, tail,
                    _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, w0 + full), _mm512_maskz_loadu_ps(tail, yy + full)));
        }
    }
}

AVX512 static void kn_avx512(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                             float *y, long ldy, float beta) {
    if (beta == 0.0f)
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) y[i * ldy + j] = 0.0f;
    for (long j0 = 0; j0 < n; j0 += NB) {
        const long nb = n - j0 < NB ? n - j0 : NB;
        switch (m) {
        case 1: kn_block(1, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        case 2: kn_block(2, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        case 3: kn_block(3, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        case 4: kn_block(4, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        case 5: kn_block(5, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        case 6: kn_block(6, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        case 7: kn_block(7, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        default: kn_block(8, x, k, ldx, w + j0, ldw, nb, y + j0, ldy); break;
        }
    }
}

void ck_matmul_kn(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                  float *y, long ldy, float beta) {
    kn_avx512(x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

// ---- NK: y += x · Wᵀ, W [n, k] -------------------------------------------------------------
// Two W rows at a time against all M rows of x (x stays in L1): 2·M accumulators.

INLINE AVX512 float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

INLINE AVX512 void nk_rows(const int M, const float *x, long k, long ldx, const float *w, long ldw, long n,
                           float *y, long ldy, float beta) {
    const long full = k & ~15L;
    const __mmask16 tail = (__mmask16)((1u << (k - full)) - 1u);
    long j = 0;
    for (; j + 2 <= n; j += 2) {
        const float *w0 = w + j * ldw, *w1 = w0 + ldw;
        _mm_prefetch((const char *)(w1 + ldw), _MM_HINT_T0);
        __m512 a0[8], a1[8];
        for (int i = 0; i < M; i++) { a0[i] = _mm512_setzero_ps(); a1[i] = _mm512_setzero_ps(); }
        for (long p = 0; p < full; p += 16) {
            const __m512 u = _mm512_loadu_ps(w0 + p), v = _mm512_loadu_ps(w1 + p);
            for (int i = 0; i < M; i++) {
                const __m512 xv = _mm512_loadu_ps(x + i * ldx + p);
                a0[i] = _mm512_fmadd_ps(xv, u, a0[i]);
                a1[i] = _mm512_fmadd_ps(xv, v, a1[i]);
            }
        }
        if (tail) {
            const __m512 u = _mm512_maskz_loadu_ps(tail, w0 + full), v = _mm512_maskz_loadu_ps(tail, w1 + full);
            for (int i = 0; i < M; i++) {
                const __m512 xv = _mm512_maskz_loadu_ps(tail, x + i * ldx + full);
                a0[i] = _mm512_fmadd_ps(xv, u, a0[i]);
                a1[i] = _mm512_fmadd_ps(xv, v, a1[i]);
            }
        }
        for (int i = 0; i < M; i++) {
            float *yy = y + i * ldy + j;
            yy[0] = (beta == 0.0f ? 0.0f : yy[0]) + hsum(a0[i]);
            yy[1] = (beta == 0.0f ? 0.0f : yy[1]) + hsum(a1[i]);
        }
    }
    for (; j < n; j++) {
        const float *w0 = w + j * ldw;
        for (int i = 0; i < M; i++) {
            __m512 a = _mm512_setzero_ps();
            long p = 0;
            for (; p < full; p += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(x + i * ldx + p), _mm512_loadu_ps(w0 + p), a);
            if (tail) a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, x + i * ldx + full), _mm512_maskz_loadu_ps(tail, w0 + full), a);
            float *yy = y + i * ldy + j;
            *yy = (beta == 0.0f ? 0.0f : *yy) + hsum(a);
        }
    }
}

AVX512 static void nk_avx512(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                             float *y, long ldy, float beta) {
    switch (m) {
    case 1: nk_rows(1, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 2: nk_rows(2, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 3: nk_rows(3, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 4: nk_rows(4, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 5: nk_rows(5, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 6: nk_rows(6, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    case 7: nk_rows(7, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    default: nk_rows(8, x, k, ldx, w, ldw, n, y, ldy, beta); break;
    }
}

void ck_matmul_nk(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                  float *y, long ldy, float beta) {
    nk_avx512(x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
