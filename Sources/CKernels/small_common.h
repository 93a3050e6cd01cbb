// Private to CKernels: what the small-M kernel files (kernels.c for AVX-512, kernels_avx2.c for
// AVX2 + FMA, small_plain.c for any CPU) share — weight element types, the prefetch cursor and the
// tiling constants — and the per-ISA entry points small_dispatch.c chooses between.
#ifndef CKERNELS_SMALL_COMMON_H
#define CKERNELS_SMALL_COMMON_H

#include "ckernels.h"
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("clang loop unroll(full)")

/// The first min(max(left, 0), 16) lanes of a 16-lane AVX-512 mask (the AVX-512 bodies' ragged edges).
INLINE __attribute__((target("avx512f"))) __mmask16 lanes(long left) {
    return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u);
}

/// The KN strips' register tile of y, M rows × NV vectors (16·NV columns, masked past nb): its lane
/// masks, and the tile loaded from y (`load_y`) or zeroed; tile_store writes it back.
INLINE __attribute__((target("avx512f"))) void tile_load(const int M, const int NV, long nb, const float *y, long ldy,
                                                         int load_y, __mmask16 mk[8], __m512 acc[16][8]) {
UNROLL
    for (int v = 0; v < NV; v++) mk[v] = lanes(nb - 16 * v);
UNROLL
    for (int i = 0; i < M; i++)
UNROLL
        for (int v = 0; v < NV; v++)
            acc[i][v] = load_y ? _mm512_maskz_loadu_ps(mk[v], y + i * ldy + 16 * v) : _mm512_setzero_ps();
}

INLINE __attribute__((target("avx512f"))) void tile_store(const int M, const int NV, float *y, long ldy,
                                                          const __mmask16 mk[8], __m512 acc[16][8]) {
UNROLL
    for (int i = 0; i < M; i++)
UNROLL
        for (int v = 0; v < NV; v++) _mm512_mask_storeu_ps(y + i * ldy + 16 * v, mk[v], acc[i][v]);
}

// ---- Weight element types ------------------------------------------------------------------
// Every kernel body is written once, over W as raw bytes, and instantiated per weight element
// type WT (a compile-time constant): WT_F32 (4-byte floats), or the 16-bit kinds of ckernels.h
// (CK_HALF_F16, CK_HALF_BF16), whose values are widened to F32 in registers right after the load.
// The widening is exact, so a 16-bit instantiation computes bit for bit what the F32 one computes
// on the upcast values (same FMAs, same order) while reading half the bytes.
enum { WT_F32 = 0 };

/// Bytes per W element.
#define WT_SIZE(WT) ((WT) == WT_F32 ? 4L : 2L)

/// KN kernels: the largest W rows per accumulation chunk (y is read and written once per chunk), the
/// chunk of tiles of 5 rows and more (kn_chunk). Measured on Zen 5 (AVX-512), 768×3072 weights from
/// DRAM, 2 threads, m = 8: 16 beats 8 and 32.
enum { KN_KC = CK_KN_CHUNK };

/// KN kernels: W rows per chunk for an M-row tile on `level` (CK_ISA_AVX512 or CK_ISA_AVX2), ≤ KN_KC.
/// Fewer rows keep fewer W rows streaming at once, more rows read and write the y tile less often;
/// which wins depends on M. Measured on Zen 4 (F32 and BF16 W from DRAM, 2 threads, 768 × 3072 and
/// 3072 × 768, the chunk sizes alternated in one process): AVX-512 m = 1 is fastest at 2 (0.84–0.89×
/// the time at 16 for F32, 0.89–0.96× for BF16), m = 2–4 at 4 (0.83–0.89× at m = 4), m = 8 and 16 at
/// 16 (8 takes 1.13–1.38×); the AVX2 bodies (GPT2D_ISA=avx2) m = 1 at 4 (0.90–0.93×), m = 4 at 8
/// (0.93–0.95×). The chunk never changes the results: y is stored and reloaded exactly between
/// chunks, so every y element sees the same FMAs in the same order.
INLINE long kn_chunk(const int level, const int M) {
    if (M == 1) return level == CK_ISA_AVX512 ? 2 : 4;
    if (M <= 4) return level == CK_ISA_AVX512 ? 4 : 8;
    return KN_KC;
}

/// NK kernels: W rows ahead that each line is prefetched.
enum { NK_PD = 8 };

/// Where the software prefetches of W put a line: L2, not L1. W is read once per product; pulled into
/// L1 it evicts the activations (the NK kernels keep M rows of x there: 8 × 3 KiB at k = 768 beside
/// R rows of W and the lines in flight) and the y tile. Measured on Zen 4, W from DRAM, 2 threads,
/// T1 against T0 in one run: the F32 LM head (768 × 50257) m = 1 / 8 / 16 in 0.81 / 0.68 / 0.74 of
/// the time, BF16 0.52 / 0.67 / 0.81; the 768 × 3072 KN product m = 1 / 8 0.89 / 0.75 (F32).
#define PF_HINT _MM_HINT_T1

/// Prefetch cursor over W rows [row, +left) × bytes [0, n) of each (row stride ldw bytes): one
/// 64-byte line per step, row-major. The KN kernels step it while they compute a chunk, so the next
/// chunk's rows stream in address order (DRAM sees one linear stream instead of KC strided ones).
typedef struct { const char *row; long col, n, ldw, left; } pf_cursor;

INLINE void pf_step(pf_cursor *c) {
    if (c->left <= 0) return;
    _mm_prefetch(c->row + c->col, PF_HINT);
    c->col += 64;
    if (c->col >= c->n) { c->col = 0; c->row += c->ldw; c->left--; }
}

// ---- Per-ISA bodies (same contract as ck_matmul_kn / ck_matmul_nk; kind 0 = F32 weights, else a
// CK_HALF_* kind; m ≤ 8, but ck_small_kn_avx512 takes m ≤ 16 and the plain bodies any m) -------
/// Rows one ck_matmul_kn call computes in a single pass over W on the `level` body (16 on AVX-512,
/// else 8; more rows are split into passes of that many).
long ck_small_kn_tile_rows(int level);

void ck_small_kn_avx512(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                        float *y, long ldy, float beta);
void ck_small_nk_avx512(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                        float *y, long ldy, float beta);
void ck_small_kn_avx2(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta);
void ck_small_nk_avx2(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta);
void ck_small_kn_plain(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                       float *y, long ldy, float beta);
void ck_small_nk_plain(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                       float *y, long ldy, float beta);

#endif
