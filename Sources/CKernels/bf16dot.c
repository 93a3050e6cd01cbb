// Products of bfloat16 weights with activations rounded to bfloat16 — matmul precision "medium"
// (include/ckernels.h, "bfloat16 dot products") — on AVX512_BF16's vdpbf16ps: one instruction
// multiplies 16 pairs of bf16 values exactly and adds both products to 16 F32 sums, so a zmm does 32
// multiply-adds where the exact kernels' FMA does 16 and must first widen the weights.
//
// Activations: each row is rounded once per product into a bf16 plane, zero-padded to an even
// length kp. Weights: read in place (checkpoint mapping or arena), any alignment.
//  - KN (Conv1D, W [k, n]): vdpbf16ps pairs adjacent elements, but W's adjacent elements are
//    adjacent columns: two W rows (p, p + 1) are interleaved (vpermw) so lane j holds
//    (w[p, j], w[p + 1, j]), and the activation pair (x[p], x[p + 1]) is broadcast as one dword.
//    Up to 16 rows (decode; above 8 as two tiles per strip) interleave in registers while W streams; more rows
//    (prefill) pack one L2-sized column block of W at a time and pass every row group over it, so W
//    still streams from memory once per product and is interleaved once.
//  - NK (Linear / the tied LM head, W [n, k]): rows are already pairs along k; x and w load as is;
//    more rows than a tile pass over L2-sized blocks of W rows.
#include "ckernels.h"
#include "scratch.h"
#include "small_common.h"
#include <immintrin.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define BF16DOT __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int ck_has_avx512_bf16(void) {
    __builtin_cpu_init();
    return ck_has_avx512() && __builtin_cpu_supports("avx512bf16") ? 1 : 0;
}

int ck_bf16dot_available(void) {
    return ck_has_avx512_bf16() && ck_isa() == CK_ISA_AVX512 ? 1 : 0;
}

// ---- Rounding the activations ------------------------------------------------------------------
// Round to nearest even on the bits (the same in C and AVX-512, so both give the same plane); NaN
// stays a quiet NaN, overflow rounds to ±inf, subnormals round like any other value.

static inline uint16_t bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

const float *ck_bf16_rounded(const float *x, long m, long k, long ldx) {
    float *out = ck_scratch(CK_SCRATCH_BF16_ROUNDED, 4 * (m * k > 0 ? m * k : 1));
    if (!out) return NULL;
    for (long i = 0; i < m; i++)
        for (long p = 0; p < k; p++) {
            const uint32_t u = (uint32_t)bf16_rne(x[i * ldx + p]) << 16;
            memcpy(out + i * k + p, &u, 4);
        }
    return out;
}

BF16DOT static inline __m256i rne16(__m512 v) {
    const __m512i u = _mm512_castps_si512(v);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), odd), 16);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
    return _mm512_cvtepi32_epi16(r);
}

/// One row rounded, row-major: out[0:kp), p in [k, kp) holding 0.
BF16DOT static void round_row(const float *xr, long k, long kp, uint16_t *out) {
    long p = 0;
    for (; p + 16 <= k; p += 16) _mm256_storeu_si256((__m256i *)(out + p), rne16(_mm512_loadu_ps(xr + p)));
    for (; p < k; p++) out[p] = bf16_rne(xr[p]);
    for (; p < kp; p++) out[p] = 0;
}

/// Every row of x into the plane. NK (`group` 0): row-major, row i at i·kp. KN (`group` = the
/// tile rows G): rows in groups of G, each group (rows r0 …, M of them) at r0·kp and pair-major —
/// dword q·M + (i − r0) holds row i's pair q = (x[2q], x[2q + 1]) — so a tile's broadcasts of one
/// pair read consecutive dwords. `row` is scratch for kp elements.
BF16DOT static void round_rows(const float *x, long m, long k, long ldx, uint16_t *plane, long kp, long group,
                               uint16_t *row) {
    for (long i = 0; i < m; i++) {
        if (!group) {
            round_row(x + i * ldx, k, kp, plane + i * kp);
            continue;
        }
        round_row(x + i * ldx, k, kp, row);
        const long r0 = i / group * group, rows = m - r0 < group ? m - r0 : group;
        const uint32_t *src = (const uint32_t *)row;
        uint32_t *dst = (uint32_t *)(plane + r0 * kp) + (i - r0);
        for (long q = 0; q < kp / 2; q++) dst[q * rows] = src[q];
    }
}

INLINE BF16DOT __m512 dp(__m512 acc, __m512i a, __m512i b) {
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

/// Two W rows' 16 bf16 values each (columns j … j + 15) as 16 pairs: lane j holds (a[j], b[j]),
/// the operand layout vdpbf16ps multiplies against an activation pair.
INLINE BF16DOT __m512i pair_rows(__m256i a, __m256i b) {
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                         23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1));
}

INLINE BF16DOT __mmask32 lanes32(long left) {
    return left >= 32 ? (__mmask32)0xFFFFFFFFu : left <= 0 ? (__mmask32)0 : (__mmask32)((1u << left) - 1u);
}

// ---- KN: y += x · W, W [k, n] ------------------------------------------------------------

/// W rows per chunk (even: pairs never straddle chunks); y is read and written once per chunk.
enum { BKC = 32 };

/// W rows per chunk for an M-row tile (even, ≤ BKC). One row: 8 (the decode step's products in
/// 8.2–8.8 ms against 8.8–11.5 at 2 and 8.4–8.8 at 32, three alternating runs; Zen 4, 2 threads, W
/// from DRAM); more rows: BKC (2–4 rows at 4 took 1.3–1.8× the time at 32).
INLINE long kn_chunk_rows(const int PK, const int M) {
    return !PK && M == 1 ? 8 : BKC;
}

/// y[0:M, 0:nb) (+)= Σ over the chunk's pairs, nb ≤ 16·NV (masked); xt[q·xs + i] is row i's pair q
/// (from the chunk's first) as one dword. PK = 0: w is the matrix at the chunk's first row (element
/// stride ldw), two rows interleaved per pair in registers; `rows` (≤ BKC) W rows exist, so an odd
/// last pair has a zero second row. PK = 1: w is a packed block at the chunk's first pair
/// (pack_block: pair q's dword of column j at q·ldw + j, zero past the block's columns and rows).
INLINE BF16DOT void kn_strip(const int PK, const int M, const int NV, const uint32_t *xt, long xs,
                             long rows, const char *w, long ldw, long nb, float *y, long ldy, int load_y,
                             pf_cursor *pf) {
    __mmask16 mk[8];
    __m512 acc[16][8];
    tile_load(M, NV, nb, y, ldy, load_y, mk, acc);
    const long pairs = (rows + 1) / 2;
    for (long q = 0; q < pairs; q++) {
        const char *r0 = w + 2 * q * ldw * 2, *r1 = r0 + ldw * 2;
        const int second = 2 * q + 1 < rows;
        __m512i b[8];
UNROLL
        for (int v = 0; v < NV; v++) {
            if (PK) {   // packed pairs: row q of the block, 16 columns × 2 at column 16·v (masked:
                        // a strip may reach past the block's last column)
                b[v] = _mm512_maskz_loadu_epi32(mk[v], w + (q * ldw + 16 * v) * 4);
                continue;
            }
            pf_step(pf);
            const __m256i lo = _mm256_maskz_loadu_epi16(mk[v], r0 + 32 * v);
            const __m256i hi = second ? _mm256_maskz_loadu_epi16(mk[v], r1 + 32 * v) : _mm256_setzero_si256();
            b[v] = pair_rows(lo, hi);
        }
UNROLL
        for (int i = 0; i < M; i++) {
            const __m512i xb = _mm512_set1_epi32((int)xt[q * xs + i]);
UNROLL
            for (int v = 0; v < NV; v++) acc[i][v] = dp(acc[i][v], xb, b[v]);
        }
    }
    tile_store(M, NV, y, ldy, mk, acc);
}

/// y[0:M, 0:n) (+)= one row group of the planes · w[0:k, 0:n): xg is the group's term 0, pair-major
/// (dword q·M + i: row i's pair q). M > 8 runs as two tiles of ≤ 8 rows (3 vectors wide) on each
/// strip in turn: the second reads the strip's W from L1 (a 16 × 1 tile, the most 16 rows fit in
/// registers, took up to 2.5× the time of 8 rows at 768 × 3072; Zen 4, 2 threads).
INLINE BF16DOT void kn_rows(const int PK, const int M, const int NV, const uint32_t *xg,
                            long k, const char *w, long ldw, long n, float *y, long ldy, float beta) {
    const int M0 = M > 8 ? 8 : M, M1 = M - M0, V = M > 8 ? 3 : NV;
    const long C = kn_chunk_rows(PK, M);
    for (long p0 = 0; p0 < k; p0 += C) {
        const long kc = k - p0 < C ? k - p0 : C, p1 = p0 + C;
        pf_cursor pf = {w + p1 * ldw * 2, 0, n * 2, ldw * 2, !PK && p1 < k ? (k - p1 < C ? k - p1 : C) : 0};
        pf_cursor none = {0, 0, 0, 0, 0};
        const int load_y = p0 > 0 || beta != 0.0f;
        const uint32_t *xt = xg + p0 / 2 * M;
        for (long j = 0; j < n; j += 16 * V) {
            const char *ws = PK ? w + (p0 / 2 * ldw + j) * 4 : w + (p0 * ldw + j) * 2;
            kn_strip(PK, M0, V, xt, M, kc, ws, ldw, n - j, y + j, ldy, load_y, &pf);
            if (M1 > 0)   // (M1 ? M1 : 1: no 0-row instantiation of the tile for M ≤ 8)
                kn_strip(PK, M1 > 0 ? M1 : 1, V, xt + M0, M, kc, ws, ldw, n - j, y + M0 * ldy + j, ldy, load_y, &none);
        }
    }
}

/// W rows ahead that pack_block prefetches.
enum { PACK_PD = 16 };

/// Packs W rows [0, k) × columns [0, nb) (row stride ldw elements) as pairs: dst[q·ldp + j] =
/// (w[2q, j], w[2q + 1, j]) as one dword (the second 0 past k), for q < kp / 2, j < ldp (columns
/// past nb: 0). ldp is nb rounded up to 16.
BF16DOT static void pack_block(const char *w, long k, long ldw, long nb, uint32_t *dst, long ldp) {
    for (long q = 0; q < (k + 1) / 2; q++) {
        const char *r0 = w + 2 * q * ldw * 2, *r1 = r0 + ldw * 2;
        const int second = 2 * q + 1 < k;
        if (2 * q + PACK_PD + 1 < k)   // the block's rows PACK_PD ahead, a line at a time (W from DRAM)
            for (long b = 0; b < nb * 2; b += 64) {
                _mm_prefetch(r0 + PACK_PD * ldw * 2 + b, PF_HINT);
                _mm_prefetch(r1 + PACK_PD * ldw * 2 + b, PF_HINT);
            }
        for (long j = 0; j < ldp; j += 16) {
            const __mmask16 mk = lanes(nb - j);
            const __m256i lo = _mm256_maskz_loadu_epi16(mk, r0 + 2 * j);
            const __m256i hi = second ? _mm256_maskz_loadu_epi16(mk, r1 + 2 * j) : _mm256_setzero_si256();
            _mm512_storeu_si512(dst + q * ldp + j, pair_rows(lo, hi));
        }
    }
}

/// Tiles: M·NV ≤ 24 accumulators, NV W vectors and a broadcast within 32 zmm (as kernels.c); more
/// than 8 rows as two tiles per strip (kn_rows).
INLINE BF16DOT void kn_tile(const int PK, const uint32_t *xg, long m, long k, const char *w,
                            long ldw, long n, float *y, long ldy, float beta) {
    switch (m) {
    case 1: kn_rows(PK, 1, 8, xg, k, w, ldw, n, y, ldy, beta); break;
    case 2: kn_rows(PK, 2, 6, xg, k, w, ldw, n, y, ldy, beta); break;
    case 3: kn_rows(PK, 3, 4, xg, k, w, ldw, n, y, ldy, beta); break;
    case 4: kn_rows(PK, 4, 4, xg, k, w, ldw, n, y, ldy, beta); break;
    case 5: kn_rows(PK, 5, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 6: kn_rows(PK, 6, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 7: kn_rows(PK, 7, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 8: kn_rows(PK, 8, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 9: kn_rows(PK, 9, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 10: kn_rows(PK, 10, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 11: kn_rows(PK, 11, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 12: kn_rows(PK, 12, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 13: kn_rows(PK, 13, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 14: kn_rows(PK, 14, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    case 15: kn_rows(PK, 15, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    default: kn_rows(PK, 16, 3, xg, k, w, ldw, n, y, ldy, beta); break;
    }
}

// ---- NK: y += x · Wᵀ, W [n, k] -------------------------------------------------------------

/// y[0:M, 0:R) (+)= planes rows [0, M) · w[0:R, 0:k)ᵀ, 32 k-values per step (the tail masked).
INLINE BF16DOT void nk_group(const int M, const int R, const uint16_t *xp, long kp, long k,
                             const char *w, long ldw, float *y, long ldy, float beta) {
    __m512 acc[8][8];
UNROLL
    for (int r = 0; r < R; r++)
UNROLL
        for (int i = 0; i < M; i++) acc[r][i] = _mm512_setzero_ps();
    for (long p = 0; p < k; p += 32) {
        const __mmask32 mk = lanes32(k - p);
        __m512i b[8];
UNROLL
        for (int r = 0; r < R; r++) {
            _mm_prefetch(w + ((r + NK_PD) * ldw + p) * 2, PF_HINT);
            b[r] = _mm512_maskz_loadu_epi16(mk, w + (r * ldw + p) * 2);
        }
UNROLL
        for (int i = 0; i < M; i++) {
            const __m512i xv = _mm512_maskz_loadu_epi16(mk, xp + i * kp + p);
UNROLL
            for (int r = 0; r < R; r++) acc[r][i] = dp(acc[r][i], xv, b[r]);
        }
    }
UNROLL
    for (int i = 0; i < M; i++)
UNROLL
        for (int r = 0; r < R; r++) {
            float *yy = y + i * ldy + r;
            *yy = (beta == 0.0f ? 0.0f : *yy) + _mm512_reduce_add_ps(acc[r][i]);
        }
}

INLINE BF16DOT void nk_rows(const int M, const int R, const uint16_t *xp, long kp, long k,
                            const char *w, long ldw, long n, float *y, long ldy, float beta) {
    long j = 0;
    for (; j + R <= n; j += R) nk_group(M, R, xp, kp, k, w + j * ldw * 2, ldw, y + j, ldy, beta);
    for (; j < n; j++) nk_group(M, 1, xp, kp, k, w + j * ldw * 2, ldw, y + j, ldy, beta);
}

/// R·M ≤ 24 accumulators, m ≤ 8.
INLINE BF16DOT void nk_tile(const uint16_t *xp, long kp, long m, long k, const char *w,
                            long ldw, long n, float *y, long ldy, float beta) {
    switch (m) {
    case 1: nk_rows(1, 4, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    case 2: nk_rows(2, 4, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    case 3: nk_rows(3, 4, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    case 4: nk_rows(4, 4, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    case 5: nk_rows(5, 4, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    case 6: nk_rows(6, 3, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    case 7: nk_rows(7, 3, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    default: nk_rows(8, 3, xp, kp, k, w, ldw, n, y, ldy, beta); break;
    }
}

// ---- Parallel driver ----------------------------------------------------------------------------

/// Rows per pass over W. KN: up to 16 rows in one pass (decode: W streams once, interleaved in
/// registers; 16 rows as two groups of 8 over packed blocks took 2–4× the time of 8 rows, Zen 4,
/// 2 threads); more in groups of 8 over packed blocks (prefill: 1.3–1.5× the exact GEMM's speed at
/// 768 × 3072). NK: groups of ≤ 8.
enum { KN_ONE_TILE = 16, KN_GROUP = 8, NK_TILE = 8 };

/// KN rows per group for an m-row product.
static inline long kn_tile_rows(long m) { return m <= KN_ONE_TILE ? KN_ONE_TILE : KN_GROUP; }
/// Bytes of W one column block keeps in L2 while every row group passes over it (rows > one tile).
enum { BLOCK_BYTES = 288 * 1024 };

typedef struct {
    const uint16_t *planes;
    long m, k, kp;
    const char *w;
    long ldw, n;
    float *y;
    long ldy;
    float beta;
    int nk;
    long step;    // columns per task, or 0 when tasks split K:
    long kstep;   // W rows per task (a multiple of BKC); task t > 0 writes part + (t − 1)·m·n
    float *part;
    _Atomic int failed;   // a task could not allocate its packing block
} bf16_job;

/// Output columns (KN) or W rows (NK) [c0, c1) for every row. Rows that fit one tile: one pass over
/// the range. More: blocks of W that fit BLOCK_BYTES, each visited by every row group in turn — a
/// KN block packed into pairs first (pack_block), so the groups load it without shuffles.
BF16DOT static int job_range(bf16_job *j, long c0, long c1) {
    const long tile = j->nk ? NK_TILE : kn_tile_rows(j->m);
    const int blocked = j->m > tile;
    long cb = c1 - c0;
    if (blocked) {
        cb = BLOCK_BYTES / (j->k * 2);
        if (!j->nk) cb = cb / 48 * 48;   // whole strips of the 8-row group's tile (3 vectors)
        if (cb < (j->nk ? 1 : 48)) cb = j->nk ? 1 : 48;
    }
    uint32_t *pack = NULL;
    if (blocked && !j->nk && !(pack = ck_scratch(CK_SCRATCH_BF16_PACK, 4 * (j->kp / 2) * (cb < c1 - c0 ? cb : (c1 - c0 + 15) / 16 * 16))))
        return 0;
    for (long b0 = c0; b0 < c1; b0 += cb) {
        const long b1 = b0 + cb < c1 ? b0 + cb : c1, ldp = (b1 - b0 + 15) / 16 * 16;
        if (pack) pack_block(j->w + b0 * 2, j->k, j->ldw, b1 - b0, pack, ldp);
        for (long r0 = 0; r0 < j->m; r0 += tile) {
            const long rows = j->m - r0 < tile ? j->m - r0 : tile;
            const uint16_t *xp = j->planes + r0 * j->kp;
            float *y = j->y + r0 * j->ldy + b0;
            if (j->nk) {
                const char *w = j->w + b0 * j->ldw * 2;
                nk_tile(xp, j->kp, rows, j->k, w, j->ldw, b1 - b0, y, j->ldy, j->beta);
            } else if (pack) {
                kn_tile(1, (const uint32_t *)xp, rows, j->k, (const char *)pack, ldp, b1 - b0, y, j->ldy, j->beta);
            } else {
                kn_tile(0, (const uint32_t *)xp, rows, j->k, j->w + b0 * 2, j->ldw, b1 - b0, y, j->ldy, j->beta);
            }
        }
    }
    return 1;
}

BF16DOT static void job_task(void *ctx, long task, int thread) {
    (void)thread;
    bf16_job *j = ctx;
    if (j->kstep > 0) {   // one tile of rows (m ≤ KN_ONE_TILE), W rows [p0, p1), every column
        const long p0 = task * j->kstep, p1 = p0 + j->kstep < j->k ? p0 + j->kstep : j->k;
        if (p0 >= p1) return;
        float *out = task == 0 ? j->y : j->part + (task - 1) * j->m * j->n;
        kn_tile(0, (const uint32_t *)j->planes + p0 / 2 * j->m, j->m, p1 - p0, j->w + p0 * j->ldw * 2, j->ldw, j->n,
                out, task == 0 ? j->ldy : j->n, task == 0 ? j->beta : 0.0f);
        return;
    }
    const long c0 = task * j->step, c1 = c0 + j->step < j->n ? c0 + j->step : j->n;
    if (c0 < c1 && !job_range(j, c0, c1)) atomic_store(&j->failed, 1);
}

int ck_matmul_bf16dot_parallel(int nk, const float *x, long m, long k, long ldx, const void *w, long ldw, long n,
                               float *y, long ldy, float beta) {
    if (m <= 0 || n <= 0) return 1;
    const long kp = (k + 1) & ~1L;
    uint16_t *plane = ck_scratch(CK_SCRATCH_BF16_PLANE, 2 * (m + 1) * kp);
    if (!plane) return 0;
    round_rows(x, m, k, ldx, plane, kp, nk ? 0 : kn_tile_rows(m), plane + m * kp);
    const long threads = ck_pool_threads(), align = nk ? 2 : 16;
    if (!nk && m <= KN_ONE_TILE && threads > 1 && k >= 256 * threads && n <= 1024) {
        // Few columns, long K (the projections back to n_embd): threads split K, as the exact
        // kernels do; the partial sums are added in task order. At 768 × 3072 → 768 (Zen 4, 2
        // threads, m = 8) a column split took ≈ 2× as long.
        const long kstep = ((k + threads - 1) / threads + BKC - 1) / BKC * BKC, tasks = (k + kstep - 1) / kstep;
        float *part = ck_scratch(CK_SCRATCH_BF16_PART, 4 * (tasks - 1) * m * n);
        if (!part) return 0;
        bf16_job j = {plane, m, k, kp, (const char *)w, ldw, n, y, ldy, beta, nk, 0, kstep, part, 0};
        ck_pool_run(tasks, job_task, &j);
        for (long t = 1; t < tasks; t++)
            for (long i = 0; i < m; i++) {
                const float *src = part + ((t - 1) * m + i) * n;
                for (long c = 0; c < n; c++) y[i * ldy + c] += src[c];
            }
        return 1;
    }
    long parts = n / 256 < 1 ? 1 : n / 256;
    if (parts > threads) parts = threads;
    const long step = ((n + parts - 1) / parts + align - 1) / align * align;
    bf16_job j = {plane, m, k, kp, (const char *)w, ldw, n, y, ldy, beta, nk, step, 0, NULL, 0};
    ck_pool_run((n + step - 1) / step, job_task, &j);
    return !atomic_load(&j.failed);
}
