// Elementwise math for the forward pass, AVX-512F (see include/ckernels.h): the tanh-GELU of the
// MLP (n_inner values per token) and the exponentials of attention's softmax. Same formulas as the
// Swift fallbacks in GPT2Core/Kernels/VectorMath.swift: exp(x) = 2^n · p(r), x = n·ln2 + r,
// |r| ≤ ln2/2, degree-6 Cephes polynomial (relative error ≈ 2e-7); tanh from exp(−2|x|).
#include "ckernels.h"
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

INLINE AVX512 __m512 exp16(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3f)), _mm512_set1_ps(-87.3f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // Cody–Waite split of ln2 so r keeps full precision.
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    const __m512 r2 = _mm512_mul_ps(r, r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);  // y · 2^n, exact for the clamped range
}

INLINE AVX512 __m512 gelu_tanh16(__m512 v) {
    // 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))
    const __m512 v3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
    const __m512 inner = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                                       _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), v3, v));
    const __m512 ax = _mm512_abs_ps(inner);
    const __m512 e = exp16(_mm512_mul_ps(_mm512_set1_ps(-2.0f), ax));
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 t = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
    // Restore the sign of inner.
    const __mmask16 neg = _mm512_cmp_ps_mask(inner, _mm512_setzero_ps(), _CMP_LT_OQ);
    t = _mm512_mask_sub_ps(t, neg, _mm512_setzero_ps(), t);
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(one, t));
}

AVX512 void ck_gelu_tanh(float *x, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu_tanh16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(x + i, m, gelu_tanh16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

AVX512 float ck_exp_shifted_sum(float *x, long n, float shift) {
    const __m512 s = _mm512_set1_ps(shift);
    __m512 acc = _mm512_setzero_ps();
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
        _mm512_storeu_ps(x + i, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        const __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s)));
        _mm512_mask_storeu_ps(x + i, m, e);
        acc = _mm512_add_ps(acc, e);
    }
    return _mm512_reduce_add_ps(acc);
}
