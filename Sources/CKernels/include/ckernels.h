// CKernels — small-batch matrix kernels that need x86 SIMD intrinsics (AVX-512F, selected at run
// time). Batched decode multiplies a few activation rows (2..16) by every weight matrix: OpenBLAS
// packs the whole weight matrix for that, tripling memory traffic; these stream each weight once.
// Everything else stays in Swift.
#ifndef CKERNELS_H
#define CKERNELS_H

/// 1 when this CPU can run the AVX-512 kernels below, else 0 (then callers use BLAS).
int ck_has_avx512(void);

/// y[i, 0:n] = beta·y[i, 0:n] + Σ_p x[i, p] · w[p, 0:n]   for i < m (≤ 8)
/// w is row-major [k, n] with row stride ldw (Conv1D layout); beta is 0 or 1.
void ck_matmul_kn(const float *x, long m, long k, long ldx,
                  const float *w, long ldw, long n,
                  float *y, long ldy, float beta);

/// y[i, 0:n] = beta·y[i, 0:n] + Σ_p x[i, p] · w[j, p]      for i < m (≤ 8), j < n
/// w is row-major [n, k] with row stride ldw (nn.Linear layout); beta is 0 or 1.
void ck_matmul_nk(const float *x, long m, long k, long ldx,
                  const float *w, long ldw, long n,
                  float *y, long ldy, float beta);

#endif
