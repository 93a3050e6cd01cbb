// Large-M F32 GEMM, AVX-512F (see include/ckernels.h): the prefill products (hundreds of token rows
// times every weight matrix) and attention's per-head products.
//
// Goto/BLIS structure on one thread, for a column range [j0, j1) of C:
//   for pc over K in KC steps:   pack B[pc:+KC, j0:j1] into NR-wide column panels   (L2)
//     for ic over M in MC steps: pack A[ic:+MC, pc:+KC] into MR-tall row panels      (L2)
//       for jr over panels of NR columns, ir over panels of MR rows:
//         MR×NR register tile += A panel (MR×KC) · B panel (KC×NR)
// Packing makes every inner load contiguous and handles both layouts of B, any strides, and B stored
// as F32 or as 16-bit floats (F16/BF16, widened exactly while packing: the same FMAs on the same values);
// edge tiles are zero-padded in the packs and written back with masks. Threads split C by columns
// (ck_gemm_tasks / ck_gemm_task), each with its own packing buffers.
#include "ckernels.h"
#include "scratch.h"
#include "small_common.h"   // ck_small_kn_tile_rows
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

// Register tile MR × NR (NR = 16·NV floats): 24 zmm accumulators; per k step NV vector loads of B
// and MR broadcasts of A feed MR·NV FMAs. Measured on Zen 5 (one thread, prefill shapes M = 512,
// K = 768/3072): 6×64 and 4×96 ≈ 195–200 GFLOP/s (≈ 88 % of the FMA peak), 12×32 ≈ 170, 2×192 ≈ 140
// (fewer broadcasts per FMA matter more than fewer loads). KC × NR floats of B (64 KiB) stream from
// L2; MC × KC of A (192 KiB) and KC × NC_MAX of B (768 KiB) stay in the 1 MiB L2.
enum { MR = 6, NV = 4, NR = 16 * NV, KC = 256, MC = 192 };

// ---- Packing ---------------------------------------------------------------------------------

/// ap[panel][p][r] = a[(i0 + panel·MR + r)·lda + p0 + p] · for r < mr, zero-padded to MR rows.
static void pack_a(const float *a, long lda, long mc, long kc, float *ap) {
    for (long i = 0; i < mc; i += MR) {
        const long mr = mc - i < MR ? mc - i : MR;
        const float *src = a + i * lda;
        if (mr == MR) {
            for (long p = 0; p < kc; p++)
                for (long r = 0; r < MR; r++) ap[p * MR + r] = src[r * lda + p];
        } else {
            for (long p = 0; p < kc; p++) {
                long r = 0;
                for (; r < mr; r++) ap[p * MR + r] = src[r * lda + p];
                for (; r < MR; r++) ap[p * MR + r] = 0.0f;
            }
        }
        ap += kc * MR;
    }
}

/// 16 B elements of `kind` (0: F32, else CK_HALF_*) at `p` (any alignment) as F32; only the first
/// `count` (0..16) are read, the other lanes are 0. 16-bit values are widened exactly (F16 by
/// vcvtph2ps, BF16 by a shift into the top half). Masked 16-bit loads need AVX-512BW, so a partial
/// 16-bit vector goes through a zero-padded copy (only at a matrix's ragged edge).
INLINE AVX512 __m512 load_b16(int kind, long count, const char *p) {
    if (kind == 0) return _mm512_maskz_loadu_ps((__mmask16)((1u << count) - 1u), (const float *)p);
    __m256i h;
    if (count == 16) {
        h = _mm256_loadu_si256((const __m256i *)p);
    } else {
        unsigned short t[16] = {0};
        memcpy(t, p, 2 * (size_t)count);
        h = _mm256_loadu_si256((const __m256i *)t);
    }
    if (kind == CK_HALF_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/// bp[panel][p][c] = op(B)[p0 + p, j + panel·NR + c] for c < nr, zero-padded to NR columns.
/// !transB: b is [K, N] (row stride ldb), a row segment per p.  transB: b is [N, K], a column per p.
/// b holds elements of `kind` (0: F32, else CK_HALF_*; ldb in elements): 16-bit values are widened
/// to the exact F32 values here, so the micro-kernel computes what it would on an F32 copy.
AVX512 static void pack_b(const char *b, int kind, long ldb, int transB, long kc, long nc, float *bp) {
    const long es = kind ? 2 : 4;
    for (long j = 0; j < nc; j += NR) {
        const long nr = nc - j < NR ? nc - j : NR;
        if (!transB) {
            const char *src = b + j * es;
            for (long p = 0; p < kc; p++)
                for (int v = 0; v < NV; v++) {
                    long left = nr - 16 * v; left = left < 0 ? 0 : left > 16 ? 16 : left;
                    _mm512_storeu_ps(bp + p * NR + 16 * v, load_b16(kind, left, src + (p * ldb + 16 * v) * es));
                }
        } else if (kind == 0) {
            const float *src = (const float *)b + j * ldb;
            long c = 0;
            for (; c < nr; c++) { const float *row = src + c * ldb; for (long p = 0; p < kc; p++) bp[p * NR + c] = row[p]; }
            for (; c < NR; c++) for (long p = 0; p < kc; p++) bp[p * NR + c] = 0.0f;
        } else {
            // A 16-bit B row (one column of op(B)) widened 16 values at a time, then scattered down the panel.
            const char *src = b + j * ldb * es;
            long c = 0;
            for (; c < nr; c++) {
                const char *row = src + c * ldb * es;
                for (long p = 0; p < kc; p += 16) {
                    const long cnt = kc - p < 16 ? kc - p : 16;
                    float t[16] __attribute__((aligned(64)));
                    _mm512_store_ps(t, load_b16(kind, cnt, row + p * es));
                    for (long q = 0; q < cnt; q++) bp[(p + q) * NR + c] = t[q];
                }
            }
            for (; c < NR; c++) for (long p = 0; p < kc; p++) bp[p * NR + c] = 0.0f;
        }
        bp += kc * NR;
    }
}

// ---- Micro-kernel ----------------------------------------------------------------------------

/// c[0:mr, 0:nr] (+)= alpha · Σ_p ap[p][0:MR] ⊗ bp[p][0:NR] — added to c when `accumulate`, else stored.
/// MR·NV zmm accumulators; per p: NV B vectors, MR broadcast A values, MR·NV FMAs. Full tiles store
/// straight from registers; edge tiles go through a stack tile.
INLINE AVX512 void micro_kernel(long kc, const float *restrict ap, const float *restrict bp,
                                float *c, long ldc, long mr, long nr, float alpha, int accumulate) {
    __m512 acc[MR][NV];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        __m512 bv[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(bp + 16 * v);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            const __m512 av = _mm512_set1_ps(ap[r]);
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
        ap += MR; bp += NR;
    }
    const __m512 al = _mm512_set1_ps(alpha);
    if (mr == MR && nr == NR) {
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) {
                float *dst = c + r * ldc + 16 * v;
                __m512 y = _mm512_mul_ps(al, acc[r][v]);
                if (accumulate) y = _mm512_add_ps(y, _mm512_loadu_ps(dst));
                _mm512_storeu_ps(dst, y);
            }
        return;
    }
    float tile[MR][NR] __attribute__((aligned(64)));
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) _mm512_store_ps(tile[r] + 16 * v, _mm512_mul_ps(al, acc[r][v]));
    for (long r = 0; r < mr; r++)
        for (long j = 0; j < nr; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r][j] : tile[r][j];
}

// ---- Driver ----------------------------------------------------------------------------------

/// Largest column range one task handles: its packed B block (KC × NC_MAX) stays in L2.
enum { NC_MAX = 768 };

/// One column block [j0, j1) (at most NC_MAX wide) of C = alpha·A·op(B) + beta·C.
AVX512 static void gemm_block(long m, long k, float alpha, const float *a, long lda,
                              const char *b, int kind, long ldb, int transB, float beta,
                              float *c, long ldc, long j0, long j1) {
    const long nc = j1 - j0;
    const long npanels = (nc + NR - 1) / NR;
    const long kcmax = k < KC ? k : KC;
    const long mcmax = m < MC ? m : MC;
    float *bp = ck_scratch(CK_SCRATCH_GEMM_B, 4 * npanels * NR * kcmax);
    float *ap = ck_scratch(CK_SCRATCH_GEMM_A, 4 * ((mcmax + MR - 1) / MR) * MR * kcmax);
    if (!bp || !ap) abort();

    for (long pc = 0; pc < k; pc += KC) {
        const long kc = k - pc < KC ? k - pc : KC;
        const char *bsrc = b + (transB ? j0 * ldb + pc : pc * ldb + j0) * (kind ? 2 : 4);
        pack_b(bsrc, kind, ldb, transB, kc, nc, bp);
        const int accumulate = pc > 0 || beta != 0.0f;
        for (long ic = 0; ic < m; ic += MC) {
            const long mc = m - ic < MC ? m - ic : MC;
            pack_a(a + ic * lda + pc, lda, mc, kc, ap);
            for (long jp = 0; jp < npanels; jp++) {
                const long jj = jp * NR, nr = nc - jj < NR ? nc - jj : NR;
                const float *bpanel = bp + jp * NR * kc;
                for (long ir = 0; ir < mc; ir += MR) {
                    const long mr = mc - ir < MR ? mc - ir : MR;
                    micro_kernel(kc, ap + ir * kc, bpanel, c + (ic + ir) * ldc + j0 + jj, ldc, mr, nr,
                                 alpha, accumulate);
                }
            }
        }
    }
}

/// Columns [j0, j1) of C, in blocks of NC_MAX.
AVX512 static void gemm_columns(long m, long k, float alpha, const float *a, long lda,
                                const char *b, int kind, long ldb, int transB, float beta,
                                float *c, long ldc, long j0, long j1) {
    if (k == 0 || beta != 1.0f) {  // C = beta·C first when beta is not 0 or 1 (or there is no product)
        if (k == 0 || beta != 0.0f)
            for (long i = 0; i < m; i++)
                for (long j = j0; j < j1; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        if (k == 0) return;
        if (beta != 0.0f) beta = 1.0f;
    }
    for (long jc = j0; jc < j1; jc += NC_MAX)
        gemm_block(m, k, alpha, a, lda, b, kind, ldb, transB, beta, c, ldc, jc, j1 - jc < NC_MAX ? j1 : jc + NC_MAX);
}

long ck_gemm_tasks(long m, long n, long k, long threads) {
    (void)k;
    if (m <= 0 || n <= 0) return 0;
    // Enough column tasks for every thread to get an even share, each at most NC_MAX wide.
    long tasks = (n + NC_MAX - 1) / NC_MAX;
    if (threads > 1 && tasks < threads) tasks = threads < (n + NR - 1) / NR ? threads : (n + NR - 1) / NR;
    if (threads > 1 && tasks % threads) tasks += threads - tasks % threads;
    long panels = (n + NR - 1) / NR;
    return tasks < panels ? tasks : panels;
}

/// Task `task` of `tasks`: C's columns in whole NR panels, spread as evenly as the panels allow.
static void gemm_task(long task, long tasks, long m, long n, long k, float alpha,
                      const float *a, long lda, const char *b, int kind, long ldb, int transB,
                      float beta, float *c, long ldc) {
    const long panels = (n + NR - 1) / NR;
    const long p0 = panels * task / tasks, p1 = panels * (task + 1) / tasks;
    const long j0 = p0 * NR, j1 = p1 * NR < n ? p1 * NR : n;
    if (j0 >= j1) return;
    gemm_columns(m, k, alpha, a, lda, b, kind, ldb, transB, beta, c, ldc, j0, j1);
}

void ck_gemm_task(long task, long tasks, long m, long n, long k, float alpha,
                  const float *a, long lda, const float *b, long ldb, int transB,
                  float beta, float *c, long ldc) {
    gemm_task(task, tasks, m, n, k, alpha, a, lda, (const char *)b, 0, ldb, transB, beta, c, ldc);
}

void ck_gemm(long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, int transB, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    gemm_columns(m, k, alpha, a, lda, (const char *)b, 0, ldb, transB, beta, c, ldc, 0, n);
}

void ck_gemm_w16(long m, long n, long k, float alpha, const float *a, long lda,
                 const void *b, int kind, long ldb, int transB, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    gemm_columns(m, k, alpha, a, lda, (const char *)b, kind, ldb, transB, beta, c, ldc, 0, n);
}

// ---- Threaded entry points (the compute pool) -----------------------------------------------

typedef struct {
    long tasks, m, n, k;
    float alpha, beta;
    const float *a;
    const char *b;
    long lda, ldb, ldc;
    int transB, kind;
    float *c;
} gemm_job;

static void gemm_job_task(void *ctx, long task, int thread) {
    (void)thread;
    const gemm_job *j = ctx;
    gemm_task(task, j->tasks, j->m, j->n, j->k, j->alpha, j->a, j->lda, j->b, j->kind, j->ldb, j->transB,
              j->beta, j->c, j->ldc);
}

static void gemm_parallel(long m, long n, long k, float alpha, const float *a, long lda,
                          const char *b, int kind, long ldb, int transB, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    gemm_job j = {ck_gemm_tasks(m, n, k, ck_pool_threads()), m, n, k, alpha, beta, a, b, lda, ldb, ldc, transB, kind, c};
    ck_pool_run(j.tasks, gemm_job_task, &j);
}

void ck_gemm_parallel(long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, int transB, float beta, float *c, long ldc) {
    gemm_parallel(m, n, k, alpha, a, lda, (const char *)b, 0, ldb, transB, beta, c, ldc);
}

void ck_gemm_w16_parallel(long m, long n, long k, float alpha, const float *a, long lda,
                          const void *b, int kind, long ldb, int transB, float beta, float *c, long ldc) {
    gemm_parallel(m, n, k, alpha, a, lda, (const char *)b, kind, ldb, transB, beta, c, ldc);
}

/// Small-M products (F32 or 16-bit weights): all rows in one pass over W where the kernel's tile
/// takes them, else row groups over L2-sized blocks of W. Linear layout [n, k]: columns (= W rows)
/// split evenly over the pool's threads, each streaming its share of the weights once. Conv1D layout [k, n] with
/// m ≤ KSPLIT_M: K splits instead, so each thread streams a contiguous run of whole W rows; part 0
/// goes to y, the other parts to the caller's scratch [parts − 1][m][n], added into y after the
/// loop. Measured on Zen 5 (768×3072 from DRAM, 2 threads): the K split runs m = 1..8 at the
/// speed of a plain contiguous read, ≈ 25 % faster than the column split with the same kernel.
typedef struct {
    const float *x;
    const char *w;      // W elements of `kind` (0: F32, else CK_HALF_*), row stride ldw elements
    long m, k, ldx, ldw, n, ldy, step;
    float *y;
    float beta;
    int nk, kind;
    long kstep;         // > 0: task t takes W rows [t·kstep, +kstep) (K split)
    float *part;        // K split: scratch [tasks − 1][m][n] for tasks 1...
} small_job;

/// The small-M kernel for the job's layout and weight kind; w is at element offset `off`.
static void small_kernel(const small_job *j, const float *x, long rows, long k, long off, long n,
                         float *y, long ldy, float beta) {
    const char *w = j->w + off * (j->kind ? 2 : 4);
    if (j->kind == 0) {
        (j->nk ? ck_matmul_nk : ck_matmul_kn)(x, rows, k, j->ldx, (const float *)w, j->ldw, n, y, ldy, beta);
    } else {
        (j->nk ? ck_matmul_nk_w16 : ck_matmul_kn_w16)(x, rows, k, j->ldx, w, j->kind, j->ldw, n, y, ldy, beta);
    }
}

/// Bytes of W one pass over the row groups works on. More than 8 rows take several groups; each
/// group walks the same block of W, so the block must stay in the core's L2 (512 KiB on Zen 3, 1 MiB
/// on Zen 5) for the second and later groups: W then streams from DRAM once per product however many
/// rows there are. Only the order of independent work changes — every y element sees the same FMAs
/// in the same order, in the same 16-row chunks — so results are identical for every m.
enum { SMALL_BLOCK_BYTES = 256 << 10 };

/// The job's W rows [p0, p1) (K split or Conv1D column split: W rows are K) for all m rows of x, into
/// out (row stride ldo; columns [c0, c0 + n) of W). m ≤ the level's tile rows (16 on AVX-512, else
/// 8): one call, one register tile of all rows, one pass over W.
/// More rows (AVX2 with m > 8): blocks of W of ≤ SMALL_BLOCK_BYTES — panels of ≥ 128 columns (whole
/// 64-byte lines) by
/// whole 16-row chunks, so a block has several chunks and the kernel's software prefetch of the
/// next chunk runs (blocks of one 16-row chunk, as before, left every line to the hardware
/// prefetcher) — each walked by row groups of ≤ 6 (the 6 × 16-column tile: 12 FMAs per 8 loads,
/// against 8 FMAs per 9 loads in the 8-row tile). Measured on Zen 3 at the GPT-2 shapes (F32, 2
/// threads, W from DRAM): m = 16 in 0.56–0.85× the time of two 8-row groups over 16-row blocks.
static void small_kn_range(const small_job *j, long p0, long p1, long c0, long n, float *out, long ldo, float beta) {
    const long es = j->kind ? 2 : 4;
    if (j->m <= ck_small_kn_tile_rows(ck_isa())) {
        small_kernel(j, j->x + p0, j->m, p1 - p0, p0 * j->ldw + c0, n, out, ldo, beta);
        return;
    }
    long nb = SMALL_BLOCK_BYTES / ((p1 - p0) * es) / 16 * 16;
    if (nb < 128) nb = 128;
    if (nb > n) nb = n;
    long kb = SMALL_BLOCK_BYTES / (nb * es) / CK_KN_CHUNK * CK_KN_CHUNK;
    if (kb < CK_KN_CHUNK) kb = CK_KN_CHUNK;
    const long groups = (j->m + 5) / 6, base = j->m / groups, extra = j->m % groups;
    for (long cb = 0; cb < n; cb += nb) {
        const long w = n - cb < nb ? n - cb : nb;
        for (long b0 = p0; b0 < p1; b0 += kb) {
            const long b1 = b0 + kb < p1 ? b0 + kb : p1;
            for (long g = 0, r0 = 0; g < groups; g++) {
                const long rows = base + (g < extra);
                small_kernel(j, j->x + r0 * j->ldx + b0, rows, b1 - b0, b0 * j->ldw + c0 + cb, w,
                             out + r0 * ldo + cb, ldo, b0 == p0 ? beta : 1.0f);
                r0 += rows;
            }
        }
    }
}

/// Linear layout: W rows (= outputs) [c0, c1), each a whole dot product over k, in blocks that fit
/// SMALL_BLOCK_BYTES; row groups of ≤ 8 inside.
static void small_nk_range(const small_job *j, long c0, long c1) {
    const long es = j->kind ? 2 : 4;
    long cb = j->m <= 8 ? c1 - c0 : SMALL_BLOCK_BYTES / (j->k * es);
    if (cb < 1) cb = 1;
    for (long b0 = c0; b0 < c1; b0 += cb) {
        const long b1 = b0 + cb < c1 ? b0 + cb : c1;
        for (long r0 = 0; r0 < j->m; r0 += 8) {
            const long rows = j->m - r0 < 8 ? j->m - r0 : 8;
            small_kernel(j, j->x + r0 * j->ldx, rows, j->k, b0 * j->ldw, b1 - b0,
                         j->y + r0 * j->ldy + b0, j->ldy, j->beta);
        }
    }
}

static void small_job_task(void *ctx, long task, int thread) {
    (void)thread;
    const small_job *j = ctx;
    if (j->kstep > 0) {
        const long p0 = task * j->kstep, p1 = p0 + j->kstep < j->k ? p0 + j->kstep : j->k;
        if (p0 >= p1) return;
        float *out = task == 0 ? j->y : j->part + (task - 1) * j->m * j->n;
        const long ldo = task == 0 ? j->ldy : j->n;
        small_kn_range(j, p0, p1, 0, j->n, out, ldo, task == 0 ? j->beta : 0.0f);
        return;
    }
    const long c0 = task * j->step, c1 = c0 + j->step < j->n ? c0 + j->step : j->n;
    if (c0 >= c1) return;
    if (j->nk) small_nk_range(j, c0, c1);
    else small_kn_range(j, 0, j->k, c0, c1 - c0, j->y + c0, j->ldy, j->beta);
}

/// Largest m that splits K (its scratch is (threads − 1)·m·n floats).
enum { KSPLIT_M = 16 };

static void small_parallel(int nk, int kind, const float *x, long m, long k, long ldx, const void *w, long ldw,
                           long n, float *y, long ldy, float beta) {
    if (m <= 0 || n <= 0) return;
    const long threads = ck_pool_threads();
    if (!nk && m <= KSPLIT_M && threads > 1 && k >= 256 * threads) {
        const long kstep = (k + threads - 1) / threads;
        const long tasks = (k + kstep - 1) / kstep;
        float *part = ck_scratch(CK_SCRATCH_GEMM_PART, 4 * (tasks - 1) * m * n);
        if (!part) abort();
        small_job j = {x, w, m, k, ldx, ldw, n, ldy, 0, y, beta, nk, kind, kstep, part};
        ck_pool_run(tasks, small_job_task, &j);
        for (long t = 1; t < tasks; t++) {
            for (long i = 0; i < m; i++) {
                const float *src = part + ((t - 1) * m + i) * n;
                for (long c = 0; c < n; c++) y[i * ldy + c] += src[c];
            }
        }
        return;
    }
    const long align = nk ? 2 : 16;
    long parts = n / 256 < 1 ? 1 : n / 256;
    if (parts > threads) parts = threads;
    const long step = ((n + parts - 1) / parts + align - 1) / align * align;
    small_job j = {x, w, m, k, ldx, ldw, n, ldy, step, y, beta, nk, kind, 0, NULL};
    ck_pool_run((n + step - 1) / step, small_job_task, &j);
}

void ck_matmul_kn_parallel(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                           float *y, long ldy, float beta) {
    small_parallel(0, 0, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

void ck_matmul_nk_parallel(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                           float *y, long ldy, float beta) {
    small_parallel(1, 0, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

void ck_matmul_kn_w16_parallel(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                               long n, float *y, long ldy, float beta) {
    small_parallel(0, kind, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}

void ck_matmul_nk_w16_parallel(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                               long n, float *y, long ldy, float beta) {
    small_parallel(1, kind, x, m, k, ldx, w, ldw, n, y, ldy, beta);
}
