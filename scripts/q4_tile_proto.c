// q4_tile_proto — a measured prototype, not part of the daemon: q4-like weights (4-bit values, one
// F16 scale d and offset m per 32-value block) with 16 output columns interleaved per block, so that
// vpdpbusd's 16 int32 lanes are 16 columns and each instruction multiplies one column tile by 4
// activation bytes broadcast from memory. Every (row, column, block) then gets one exact int32 and
// one F32 scaling (cvt, d·da, two FMAs) per 512 multiply-adds of the tile, where gpt2d's q4 body
// scales every 128 (quant_q4_body.h); a block's unpacked tile serves all rows. It times a decode
// step's products (the GPT-2 124M shapes, W from DRAM over copies) like scripts/quant_kbench.c, with
// the activations' int8 quantization (gpt2d's own, ck_qact_make, on the calling thread) inside the
// timing or, with `noquant`, outside it. Figures: BENCHMARKS.md, "a column-tiled layout, prototyped". Random bytes,
// no reference: it measures speed only (the issue note says what a real format needs on top).
//
//   clang -O2 -march=native -ISources/CKernels/include -ISources/CKernels Sources/CKernels/*.c \
//         scripts/q4_tile_proto.c -o /tmp/q4_tile_proto -lopenblas -lpthread -lm
//   /tmp/q4_tile_proto [threads=2] [noquant]
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "quant_internal.h"

enum { T = 16, G = 32 };   // columns per tile, values per block

typedef struct {
    long n, k, nb, tiles;
    uint8_t *q;      // [tiles, nb, 256]: zmm load L (0..3), lane c, byte j: low nibble K=8L+j, high nibble K=8L+4+j
    uint16_t *dm;    // [tiles, nb, 32]: 16 d (f16), 16 m (f16)
} tq4;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static unsigned long long rs = 88172645463325252ULL;
static float rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (float)((rs >> 11) * 0x1p-53) * 2 - 1; }

static tq4 make(long n, long k) {
    tq4 w = {n, k, k / G, (n + T - 1) / T, 0, 0};
    w.q = aligned_alloc(64, w.tiles * w.nb * 256);
    w.dm = aligned_alloc(64, w.tiles * w.nb * 64);
    for (long i = 0; i < w.tiles * w.nb * 256; i++) w.q[i] = (uint8_t)(rs = rs * 6364136223846793005ULL + 1, rs >> 56);
    for (long i = 0; i < w.tiles * w.nb * 32; i++) w.dm[i] = _cvtss_sh(0.01f * rnd(), 0);
    return w;
}

typedef struct { long m, nb; int8_t *q; float *da, *das; } acts;   // q [m, k]; da, das [m, nb]

/// The activations quantized as gpt2d's q4 product quantizes them (ck_qact_make: per row and
/// 32-value block, AVX2, on the calling thread), plus each block's da and da·Σa.
static void quantize(const float *x, long m, long k, acts *a) {
    ck_qact q;
    if (!ck_qact_make(&q, x, m, k, k, G)) abort();
    a->m = m; a->nb = k / G;
    memcpy(a->q, q.q, (size_t)(m * k));
    for (long i = 0; i < m * a->nb; i++) { a->da[i] = q.scale[i]; a->das[i] = q.scale[i] * (float)q.sum[i]; }
    ck_qact_free(&q);
}

typedef struct { const tq4 *w; const acts *a; float *y; long tiles_per_task; } ctx;

#define UNROLL _Pragma("clang loop unroll(full)")

static inline __attribute__((always_inline)) void tile_rows(const int MR, const tq4 *w, const acts *a, long t, long i0, float *y) {
    const long nb = w->nb, k = w->k;
    const __m512i mask = _mm512_set1_epi8(15);
    __m512 acc[16];
    UNROLL for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
    const uint8_t *qt = w->q + t * nb * 256;
    const uint16_t *dt = w->dm + t * nb * 32;
    for (long b = 0; b < nb; b++) {
        _mm_prefetch((const char *)(qt + b * 256 + 4096), _MM_HINT_T1);
        _mm_prefetch((const char *)(qt + b * 256 + 4096 + 64), _MM_HINT_T1);
        _mm_prefetch((const char *)(qt + b * 256 + 4096 + 128), _MM_HINT_T1);
        _mm_prefetch((const char *)(qt + b * 256 + 4096 + 192), _MM_HINT_T1);
        _mm_prefetch((const char *)(dt + b * 32 + 1024 / 2), _MM_HINT_T1);
        __m512i W[8];
        UNROLL for (int L = 0; L < 4; L++) {
            const __m512i v = _mm512_load_si512(qt + b * 256 + 64 * L);
            W[2 * L] = _mm512_and_si512(v, mask);
            W[2 * L + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask);
        }
        const __m512 wd = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(dt + b * 32)));
        const __m512 wm = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(dt + b * 32 + 16)));
        UNROLL for (int i = 0; i < MR; i++) {
            const int32_t *ar = (const int32_t *)(a->q + (i0 + i) * k + b * G);
            __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
            UNROLL for (int r = 0; r < 8; r += 2) {
                s0 = _mm512_dpbusd_epi32(s0, W[r], _mm512_set1_epi32(ar[r]));
                s1 = _mm512_dpbusd_epi32(s1, W[r + 1], _mm512_set1_epi32(ar[r + 1]));
            }
            const __m512i s = _mm512_add_epi32(s0, s1);
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(wd, _mm512_set1_ps(a->da[(i0 + i) * nb + b])), acc[i]);
            acc[i] = _mm512_fmadd_ps(wm, _mm512_set1_ps(a->das[(i0 + i) * nb + b]), acc[i]);
        }
    }
    UNROLL for (int i = 0; i < MR; i++) _mm512_storeu_ps(y + (i0 + i) * w->n + t * T, acc[i]);
}

static void task(void *cv, long tk, int thread) {
    (void)thread;
    const ctx *c = cv;
    const long t0 = tk * c->tiles_per_task, t1 = t0 + c->tiles_per_task < c->w->tiles ? t0 + c->tiles_per_task : c->w->tiles;
    for (long t = t0; t < t1; t++)
        for (long i0 = 0; i0 < c->a->m; i0 += 16) {
            const long mr = c->a->m - i0 < 16 ? c->a->m - i0 : 16;
            switch (mr) {
            case 1: tile_rows(1, c->w, c->a, t, i0, c->y); break;
            case 4: tile_rows(4, c->w, c->a, t, i0, c->y); break;
            case 8: tile_rows(8, c->w, c->a, t, i0, c->y); break;
            case 16: tile_rows(16, c->w, c->a, t, i0, c->y); break;
            default: abort();
            }
        }
}

static int quant_outside;

static void multiply(const tq4 *w, const float *x, long m, float *y, acts *a) {
    if (!quant_outside || a->m != m) quantize(x, m, w->k, a);
    const long threads = ck_pool_threads();
    long per = (w->tiles + 8 * threads - 1) / (8 * threads);
    ctx c = {w, a, y, per};
    ck_pool_run((w->tiles + per - 1) / per, task, &c);
}

static int cmpd(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    ck_pool_set_threads(argc > 1 ? atoi(argv[1]) : 2);
    quant_outside = argc > 2 && strcmp(argv[2], "noquant") == 0;
    const long shapes[5][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}, {768, 50257}};
    const long ms[] = {1, 4, 8, 16};
    double tot[4] = {0};
    for (int s = 0; s < 5; s++) {
        const long k = shapes[s][0], n = shapes[s][1];
        const long bytes = n * k / 2 + n * (k / G) * 4;
        int copies = (int)((96l << 20) / bytes) + 1; if (copies < 2) copies = 2; if (copies > 64) copies = 64;
        tq4 *ws = malloc(sizeof(tq4) * copies);
        for (int c = 0; c < copies; c++) ws[c] = make(n, k);
        float *x = malloc(sizeof(float) * 16 * k), *y = aligned_alloc(64, sizeof(float) * 16 * (n + 16));
        for (long i = 0; i < 16 * k; i++) x[i] = rnd();
        acts a = {0, 0, malloc(16 * k), malloc(sizeof(float) * 16 * k / G), malloc(sizeof(float) * 16 * k / G)};
        double med[4];
        for (int mi = 0; mi < 4; mi++) {
            double ts[400]; int reps = 0; double start = now();
            while (reps < 400 && (reps < 7 || now() - start < 0.25)) {
                const double t0 = now(); multiply(&ws[reps % copies], x, ms[mi], y, &a); ts[reps++] = now() - t0;
            }
            qsort(ts, reps, sizeof(double), cmpd); med[mi] = ts[reps / 2];
            tot[mi] += (s == 4 ? 1 : 12) * med[mi];
        }
        printf("q4t k=%4ld n=%5ld: m=1 %8.1f us (%5.1f GB/s)  m=4 %8.1f  m=8 %8.1f  m=16 %8.1f  16/8 %.2f\n", k, n, med[0] * 1e6,
               bytes / med[0] / 1e9, med[1] * 1e6, med[2] * 1e6, med[3] * 1e6, med[3] / med[2]);
    }
    printf("q4t model step (12 layers + LM head): m=1 %.0f us  m=8 %.0f  m=16 %.0f  16/8 %.2f\n", tot[0] * 1e6, tot[2] * 1e6, tot[3] * 1e6, tot[3] / tot[2]);
    return 0;
}
