// log Σ exp(x) over one row of logits (see include/ckernels.h): the normaliser of every log-softmax
// the samplers, scorers and beam search take over the vocabulary (V = 50257 at the gpt2 shape).
//
// Both levels compute around the row's maximum m and return m + log Σ exp(x − m). The AVX2 body takes
// exp(x − m) of whole vectors with vmath_avx2.h's exp8 (≈ 2e-7 relative error), summed in float32
// lanes over chunks of CHUNK elements, each chunk's sum added in double — so no float32 partial sum is
// long (relative error ≈ 1e-7 over 50257 entries) — and the < 8 elements left over with libm's double
// exp (a short row is exact to double rounding). The portable body: libm's double exp on every
// element, summed in double.
#include "ckernels.h"
#include "vmath_avx2.h"
#include <math.h>

enum { CHUNK = 1024 };

static float row_max_portable(const float *x, long n) {
    float m = x[0];
    for (long i = 1; i < n; i++) if (x[i] > m) m = x[i];
    return m;
}

double ck_log_sum_exp_portable(const float *x, long n) {
    if (n <= 0) return -INFINITY;
    const float m = row_max_portable(x, n);
    if (!isfinite(m)) return m;
    double total = 0;
    for (long i = 0; i < n; i++) total += exp((double)(x[i] - m));
    return (double)m + log(total);
}

static AVX2 double log_sum_exp_avx2(const float *x, long n) {
    if (n <= 0) return -INFINITY;
    long i = 0;
    float m = x[0];
    if (n >= 8) {
        __m256 vm = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
        m = hmax8(vm);
    }
    for (; i < n; i++) if (x[i] > m) m = x[i];
    if (!isfinite(m)) return m;
    const __m256 vm = _mm256_set1_ps(m);
    double total = 0;
    for (i = 0; i < n; i += CHUNK) {
        const long end = i + CHUNK < n ? i + CHUNK : n;
        __m256 acc = _mm256_setzero_ps();
        long j = i;
        for (; j + 8 <= end; j += 8) acc = _mm256_add_ps(acc, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm)));
        double s = hsum8(acc);
        for (; j < end; j++) s += exp((double)(x[j] - m));   // the < 8 left over: exactly
        total += s;
    }
    return (double)m + log(total);
}

double ck_log_sum_exp_isa(int level, const float *x, long n) {
    if (level >= CK_ISA_AVX2 && ck_has_avx2()) return log_sum_exp_avx2(x, n);
    return ck_log_sum_exp_portable(x, n);
}

double ck_log_sum_exp(const float *x, long n) { return ck_log_sum_exp_isa(ck_isa(), x, n); }
