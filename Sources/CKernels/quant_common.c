// Shared parts of the quantized-weight kernels: activation quantization to int8 per block, the ISA
// choice (AVX2 bodies or the portable C ones, which a test can force), the compute-pool driver that
// splits a product's output columns, and binary16 conversions. See quant_internal.h.
#include "quant_internal.h"
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

static _Atomic int force_portable = 0;

void ck_quant_set_portable(int on) { atomic_store(&force_portable, on ? 1 : 0); }

int ck_quant_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

int ck_quant_use_avx2(void) {
    static int has = -1;
    if (has < 0) has = ck_quant_has_avx2();
    return has && !atomic_load_explicit(&force_portable, memory_order_relaxed);
}

int ck_qact_make(ck_qact *a, const float *x, long m, long k, long ldx, long block) {
    a->m = m; a->k = k; a->block = block;
    a->nb = (k + block - 1) / block;
    a->kp = a->nb * block;
    a->q = malloc((size_t)(m * a->kp) + 64);
    a->scale = malloc(sizeof(float) * (size_t)(m * a->nb) + 64);
    a->sum = malloc(sizeof(int32_t) * (size_t)(m * a->nb) + 64);
    if (!a->q || !a->scale || !a->sum) { ck_qact_free(a); return 0; }
    for (long i = 0; i < m; i++) {
        const float *xr = x + i * ldx;
        int8_t *qr = a->q + i * a->kp;
        for (long b = 0; b < a->nb; b++) {
            const long p0 = b * block, p1 = p0 + block < k ? p0 + block : k;
            float amax = 0.0f;
            for (long p = p0; p < p1; p++) amax = fmaxf(amax, fabsf(xr[p]));
            const float d = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
            int32_t s = 0;
            for (long p = p0; p < p1; p++) {
                const int v = (int)lrintf(xr[p] * inv);
                const int c = v > 127 ? 127 : v < -127 ? -127 : v;
                qr[p] = (int8_t)c;
                s += c;
            }
            for (long p = p1; p < p0 + block; p++) qr[p] = 0;
            a->scale[i * a->nb + b] = d;
            a->sum[i * a->nb + b] = s;
        }
    }
    return 1;
}

void ck_qact_free(ck_qact *a) {
    free(a->q); free(a->scale); free(a->sum);
    a->q = NULL; a->scale = NULL; a->sum = NULL;
}

// ---- Column-split driver ---------------------------------------------------------------------

typedef struct {
    const void *w;
    const ck_qact *a;
    long n, chunk;
    ck_quant_rows_fn fn;
    float *y;
    long ldy;
    float beta;
} run_ctx;

static void run_task(void *ctx, long task, int thread) {
    (void)thread;
    const run_ctx *c = ctx;
    const long j0 = task * c->chunk, j1 = j0 + c->chunk < c->n ? j0 + c->chunk : c->n;
    float out[4];
    for (long j = j0; j < j1; j++) {
        for (long i0 = 0; i0 < c->a->m; i0 += 4) {
            const int mr = c->a->m - i0 < 4 ? (int)(c->a->m - i0) : 4;
            c->fn(c->w, c->a, i0, mr, j, out);
            for (int i = 0; i < mr; i++) {
                float *yy = c->y + (i0 + i) * c->ldy + j;
                *yy = (c->beta == 0.0f ? 0.0f : *yy) + out[i];
            }
        }
    }
}

void ck_quant_run(const void *w, const ck_qact *a, long n, ck_quant_rows_fn fn, float *y, long ldy, float beta) {
    // About 8 tasks per thread (the pool balances them), at least 16 columns each.
    const long threads = ck_pool_threads();
    long chunk = (n + 8 * threads - 1) / (8 * threads);
    if (chunk < 16) chunk = 16;
    run_ctx c = {w, a, n, chunk, fn, y, ldy, beta};
    ck_pool_run((n + chunk - 1) / chunk, run_task, &c);
}

// ---- binary16 ------------------------------------------------------------------------------------

float ck_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, f = h & 0x3FF;
    float v;
    if (e == 0) v = ldexpf((float)f, -24);                          // zero and subnormals
    else if (e == 31) v = f ? NAN : INFINITY;
    else { uint32_t bits = ((e + 112) << 23) | (f << 13); memcpy(&v, &bits, 4); }
    uint32_t bits; memcpy(&bits, &v, 4); bits |= sign; memcpy(&v, &bits, 4);
    return v;
}

uint16_t ck_f32_to_f16(float f) {
    uint32_t x; memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const float a = fabsf(f);
    if (a != a) return sign | 0x7E00;
    if (a >= 65520.0f) return sign | 0x7C00;                       // rounds past the largest binary16
    if (a < 0x1p-14f) return sign | (uint16_t)lrintf(a * 0x1p24f); // subnormal range: units of 2^-24
    uint32_t b; memcpy(&b, &a, 4);
    // Round the 23-bit mantissa to 10 bits, nearest even; a carry into the exponent is correct.
    const uint32_t rest = b & 0x1FFF, half = 0x1000;
    uint32_t r = b >> 13;
    if (rest > half || (rest == half && (r & 1))) r++;
    return sign | (uint16_t)(r - (112u << 10));
}

// ---- Parallel dequantization (the prefill path's F32 weight tiles) ------------------------------

typedef struct {
    const void *w;
    ck_dequant_fn fn;
    long j0, j1, chunk;
    float *out;
    long ldo;
} dq_ctx;

static void dq_task(void *ctx, long task, int thread) {
    (void)thread;
    const dq_ctx *c = ctx;
    const long a = c->j0 + task * c->chunk, b = a + c->chunk < c->j1 ? a + c->chunk : c->j1;
    c->fn(c->w, a, b, c->out + (a - c->j0) * c->ldo, c->ldo);
}

void ck_quant_dequantize_parallel(const void *w, ck_dequant_fn fn, long j0, long j1, float *out, long ldo) {
    const long rows = j1 - j0, threads = ck_pool_threads();
    long chunk = (rows + 4 * threads - 1) / (4 * threads);
    if (chunk < 8) chunk = 8;
    dq_ctx c = {w, fn, j0, j1, chunk, out, ldo};
    ck_pool_run((rows + chunk - 1) / chunk, dq_task, &c);
}
