// Which small-M kernel bodies run: AVX-512 (kernels.c) where the CPU has AVX-512 F + BW + VL, else AVX2 + FMA
// + F16C (kernels_avx2.c), else plain C (small_plain.c). Decided once from the CPU and the
// environment (GPT2D_ISA=plain|avx2|avx512 lowers it, for tests and comparisons); tests call the
// *_isa entry points to compare every body on one machine.
#include "small_common.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int ck_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") ? 1 : 0;
}

int ck_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? 1 : 0;
}

static int detected(void) {
    return ck_has_avx512() ? CK_ISA_AVX512 : ck_has_avx2() ? CK_ISA_AVX2 : CK_ISA_PLAIN;
}

/// `level` clamped to what this CPU has (< 0: the best).
static int clamp_level(int level) {
    const int best = detected();
    return level < 0 || level > best ? best : level;
}

/// The level in use; -1 until first asked.
static _Atomic int isa = -1;

int ck_isa(void) {
    int v = atomic_load_explicit(&isa, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("GPT2D_ISA");
        const int want = !e ? -1 : !strcmp(e, "plain") ? CK_ISA_PLAIN : !strcmp(e, "avx2") ? CK_ISA_AVX2 : -1;
        v = clamp_level(want);
        atomic_store_explicit(&isa, v, memory_order_relaxed);
    }
    return v;
}

void ck_matmul_kn(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                  float *y, long ldy, float beta) {
    ck_matmul_kn_w16(x, m, k, ldx, w, 0, ldw, n, y, ldy, beta);
}

void ck_matmul_nk(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                  float *y, long ldy, float beta) {
    ck_matmul_nk_w16(x, m, k, ldx, w, 0, ldw, n, y, ldy, beta);
}

void ck_matmul_kn_w16(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta) {
    ck_matmul_kn_isa(ck_isa(), x, m, k, ldx, w, kind, ldw, n, y, ldy, beta);
}

void ck_matmul_nk_w16(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta) {
    ck_matmul_nk_isa(ck_isa(), x, m, k, ldx, w, kind, ldw, n, y, ldy, beta);
}

long ck_small_kn_tile_rows(int level) {
    return clamp_level(level) == CK_ISA_AVX512 ? 16 : 8;
}

/// The SIMD bodies take ≤ 8 rows (AVX-512 KN: ≤ 16) per call; more are split into row groups, each
/// its own pass over W (every y element sees the same FMAs in the same order either way).
static void small_isa(int nk, int level, const float *x, long m, long k, long ldx, const void *w, int kind,
                      long ldw, long n, float *y, long ldy, float beta) {
    const int l = clamp_level(level);
    const long tile = l == CK_ISA_PLAIN ? m : nk ? 8 : ck_small_kn_tile_rows(l);
    for (long r0 = 0; r0 < m; r0 += tile) {
        const long rows = m - r0 < tile ? m - r0 : tile;
        const float *xr = x + r0 * ldx;
        float *yr = y + r0 * ldy;
        switch (l) {
        case CK_ISA_AVX512:
            (nk ? ck_small_nk_avx512 : ck_small_kn_avx512)(xr, rows, k, ldx, w, kind, ldw, n, yr, ldy, beta);
            break;
        case CK_ISA_AVX2:
            (nk ? ck_small_nk_avx2 : ck_small_kn_avx2)(xr, rows, k, ldx, w, kind, ldw, n, yr, ldy, beta);
            break;
        default:
            (nk ? ck_small_nk_plain : ck_small_kn_plain)(xr, rows, k, ldx, w, kind, ldw, n, yr, ldy, beta);
            break;
        }
    }
}

void ck_matmul_kn_isa(int level, const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                      long n, float *y, long ldy, float beta) {
    small_isa(0, level, x, m, k, ldx, w, kind, ldw, n, y, ldy, beta);
}

void ck_matmul_nk_isa(int level, const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                      long n, float *y, long ldy, float beta) {
    small_isa(1, level, x, m, k, ldx, w, kind, ldw, n, y, ldy, beta);
}
