// Small-M matrix products in plain C, for any CPU: the reference the SIMD kernels are tested
// against when forced (ck_force_isa(CK_ISA_PLAIN)), and the path of CPUs without AVX2.
#include "small_common.h"
#include <string.h>

/// W element `i` of a row of kind `kind` (0: F32, else CK_HALF_*), widened exactly to F32.
static float welem(const char *w, int kind, long i) {
    if (kind == 0) { float f; memcpy(&f, w + 4 * i, 4); return f; }
    unsigned short h;
    memcpy(&h, w + 2 * i, 2);
    unsigned int u;
    if (kind == CK_HALF_BF16) {
        u = (unsigned int)h << 16;                              // the top half of an F32
    } else {                                                    // IEEE binary16 → binary32, exact
        const unsigned int sign = (unsigned int)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, f = h & 0x3FF;
        if (e == 0x1F) u = sign | 0x7F800000u | (f << 13);      // inf / NaN
        else if (e != 0) u = sign | ((e + 112) << 23) | (f << 13);
        else if (f == 0) u = sign;                              // ±0
        else {                                                  // subnormal: normalise
            unsigned int ee = 113, ff = f;
            while ((ff & 0x400) == 0) { ff <<= 1; ee--; }
            u = sign | (ee << 23) | ((ff & 0x3FF) << 13);
        }
    }
    float out;
    memcpy(&out, &u, 4);
    return out;
}

void ck_small_kn_plain(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                       float *y, long ldy, float beta) {
    const char *wb = w;
    const long es = kind ? 2 : 4;
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            float s = beta == 0.0f ? 0.0f : y[i * ldy + j];
            for (long p = 0; p < k; p++) s += x[i * ldx + p] * welem(wb + p * ldw * es, kind, j);
            y[i * ldy + j] = s;
        }
}

void ck_small_nk_plain(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                       float *y, long ldy, float beta) {
    const char *wb = w;
    const long es = kind ? 2 : 4;
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            float s = 0.0f;
            for (long p = 0; p < k; p++) s += x[i * ldx + p] * welem(wb + j * ldw * es, kind, p);
            y[i * ldy + j] = (beta == 0.0f ? 0.0f : y[i * ldy + j]) + s;
        }
}
