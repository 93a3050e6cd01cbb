// Shared parts of the quantized-weight kernels: activation quantization to int8 per block, the
// body's level (ck_quant_level: VNNI, AVX2 or portable C, which a test can cap for the products its
// thread starts), the compute-pool driver that
// splits a product's output columns, and binary16 conversions. See quant_internal.h.
#include "quant_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

/// Process-wide (GPT2D_CPU=generic, set once at start) and per calling thread (a test comparing the
/// bodies): a product's body is chosen by the thread that starts it, before any pool worker runs, so
/// a thread's choice never reaches products other threads start.
static _Atomic int process_cap = CK_QUANT_VNNI;
static _Thread_local int thread_cap = CK_QUANT_VNNI;

void ck_quant_set_level_cap(int level) { thread_cap = level; }

void ck_quant_set_process_level_cap(int level) { atomic_store(&process_cap, level); }

int ck_has_avx512_vnni(void) {
    __builtin_cpu_init();
    return ck_has_avx2() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") ? 1 : 0;
}

int ck_quant_level(void) {
    static _Atomic int best = -1;
    int level = atomic_load_explicit(&best, memory_order_relaxed);
    if (level < 0) {
        const int isa = ck_isa();
        level = isa == CK_ISA_AVX512 && ck_has_avx512_vnni() ? CK_QUANT_VNNI
              : isa >= CK_ISA_AVX2 ? CK_QUANT_AVX2 : CK_QUANT_PORTABLE;
        atomic_store_explicit(&best, level, memory_order_relaxed);
    }
    const int pc = atomic_load_explicit(&process_cap, memory_order_relaxed);
    if (level > pc) level = pc;
    if (level > thread_cap) level = thread_cap;
    return level < CK_QUANT_PORTABLE ? CK_QUANT_PORTABLE : level;
}

/// One block of `len` values (≤ block) of row xr quantized into qr[0, block) (zeros past len); returns
/// Σ q and sets *scale. The portable arithmetic every body follows: scale = amax/127, q = lrint(x·(127/amax)).
static int32_t quantize_block(const float *xr, long len, long block, int8_t *qr, float *scale) {
    float amax = 0.0f;
    for (long p = 0; p < len; p++) amax = fmaxf(amax, fabsf(xr[p]));
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    int32_t s = 0;
    for (long p = 0; p < len; p++) {
        const int v = (int)lrintf(xr[p] * inv);
        const int c = v > 127 ? 127 : v < -127 ? -127 : v;
        qr[p] = (int8_t)c;
        s += c;
    }
    for (long p = len; p < block; p++) qr[p] = 0;
    *scale = amax / 127.0f;
    return s;
}

/// The same for a whole block (block a multiple of 8) in AVX2, with equal results: max is exact in any
/// order (NaN skipped, as fmaxf does), x·inv is the same F32 product, vcvtps2dq rounds to nearest
/// even as lrintf does (a NaN product gives 0, as lrintf's value cast to int does here), and the clamp
/// and the integer sum do not depend on order.
CK_AVX2 static int32_t quantize_block_avx2(const float *xr, long block, int8_t *qr, float *scale) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 mx = _mm256_setzero_ps();
    for (long p = 0; p < block; p += 8) mx = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xr + p), absmask), mx);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const __m256 inv = _mm256_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
    const __m256i hi = _mm256_set1_epi32(127), lo = _mm256_set1_epi32(-127);
    __m256i sum = _mm256_setzero_si256();
    for (long p = 0; p < block; p += 8) {
        const __m256 t = _mm256_mul_ps(_mm256_loadu_ps(xr + p), inv);
        __m256i v = _mm256_max_epi32(_mm256_min_epi32(_mm256_cvtps_epi32(t), hi), lo);
        v = _mm256_andnot_si256(_mm256_castps_si256(_mm256_cmp_ps(t, t, _CMP_UNORD_Q)), v);  // NaN → 0
        sum = _mm256_add_epi32(sum, v);
        const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(qr + p), _mm_packs_epi16(w16, w16));
    }
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    *scale = amax / 127.0f;
    return _mm_cvtsi128_si32(s4);
}

int ck_qact_make(ck_qact *a, const float *x, long m, long k, long ldx, long block) {
    a->m = m; a->k = k; a->block = block;
    a->nb = (k + block - 1) / block;
    a->kp = a->nb * block;
    a->q = malloc((size_t)(m * a->kp) + 64);
    a->scale = malloc(sizeof(float) * (size_t)(m * a->nb) + 64);
    a->sum = malloc(sizeof(int32_t) * (size_t)(m * a->nb) + 64);
    if (!a->q || !a->scale || !a->sum) { ck_qact_free(a); return 0; }
    const int avx2 = ck_quant_level() >= CK_QUANT_AVX2 && block % 8 == 0;
    for (long i = 0; i < m; i++) {
        const float *xr = x + i * ldx;
        int8_t *qr = a->q + i * a->kp;
        for (long b = 0; b < a->nb; b++) {
            const long p0 = b * block, len = p0 + block < k ? block : k - p0;
            float *sc = a->scale + i * a->nb + b;
            a->sum[i * a->nb + b] = avx2 && len == block ? quantize_block_avx2(xr + p0, block, qr + p0, sc)
                                                         : quantize_block(xr + p0, len, block, qr + p0, sc);
        }
    }
    return 1;
}

void ck_qact_free(ck_qact *a) {
    free(a->q); free(a->scale); free(a->sum);
    a->q = NULL; a->scale = NULL; a->sum = NULL;
}

// ---- Column-split driver: whole tiles of output columns over the pool -----------------------

typedef struct {
    const void *w;
    const ck_qact *a;
    long n, tiles_per_task;
    ck_quant_tile_fn fn;
    float *y;
    long ldy;
    float beta;
} tile_ctx;

static void tile_task(void *ctx, long task, int thread) {
    (void)thread;
    const tile_ctx *c = ctx;
    const long j_begin = task * c->tiles_per_task * CK_QUANT_TILE;
    const long j_end = j_begin + c->tiles_per_task * CK_QUANT_TILE < c->n ? j_begin + c->tiles_per_task * CK_QUANT_TILE : c->n;
    float out[CK_QUANT_MR * CK_QUANT_TILE];
    // Many rows (prefill) go in blocks of CK_QUANT_ROW_BLOCK, each against all the task's columns:
    // a block's activations (≤ 64 × kp bytes) and the task's weight rows both stay in L2.
    for (long r0 = 0; r0 < c->a->m; r0 += CK_QUANT_ROW_BLOCK) {
        const long r1 = r0 + CK_QUANT_ROW_BLOCK < c->a->m ? r0 + CK_QUANT_ROW_BLOCK : c->a->m;
        for (long j = j_begin; j < j_end; j += CK_QUANT_TILE) {
            const int nt = j_end - j < CK_QUANT_TILE ? (int)(j_end - j) : CK_QUANT_TILE;
            for (long i0 = r0; i0 < r1; i0 += CK_QUANT_MR) {
                const int mr = r1 - i0 < CK_QUANT_MR ? (int)(r1 - i0) : CK_QUANT_MR;
                c->fn(c->w, c->a, i0, mr, j, nt, out);
                for (int i = 0; i < mr; i++) {   // (two loops, so that each vectorizes)
                    float *yy = c->y + (i0 + i) * c->ldy + j;
                    const float *o = out + i * CK_QUANT_TILE;
                    if (c->beta == 0.0f) memcpy(yy, o, sizeof(float) * (size_t)nt);
                    else for (int t = 0; t < nt; t++) yy[t] += o[t];
                }
            }
        }
    }
}

void ck_quant_run_tiles(const void *w, const ck_qact *a, long n, ck_quant_tile_fn fn, float *y, long ldy, float beta) {
    // About 8 tasks per thread (the pool balances them), whole tiles each.
    const long threads = ck_pool_threads(), tiles = (n + CK_QUANT_TILE - 1) / CK_QUANT_TILE;
    long per = (tiles + 8 * threads - 1) / (8 * threads);
    if (per < 1) per = 1;
    tile_ctx c = {w, a, n, per, fn, y, ldy, beta};
    ck_pool_run((tiles + per - 1) / per, tile_task, &c);
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
