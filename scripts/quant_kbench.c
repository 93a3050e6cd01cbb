// quant_kbench — the small-M products of every weight type (ck_i8 / ck_q4 / ck_nf4 multiply, nf4 also
// with bitsandbytes' FP4 code book; F32, BF16 and F16 weights through ck_matmul_{kn,nk}_w16_parallel in
// the checkpoint's layouts; BF16 at matmul precision medium, "bf16m", through ck_matmul_bf16dot_parallel
// where the CPU has AVX512_BF16) at the GPT-2 124M decode shapes (k × n: 768×2304, 768×768, 768×3072,
// 3072×768 and the tied LM head 768×50257) for m = 1, 4, 8, 16 activation rows, over enough copies of
// each W (≥ 96 MiB in all) that every product streams W from memory, not from the cache. Prints per
// type and shape the median time per product (µs), W's GB/s at m = 1, the m=16 ÷ m=8 and m=8 ÷ m=1
// time ratios and an FNV-1a hash of the outputs' bits (equal hashes: two builds compute the same
// bits), then one decode step's sum (12 layers + LM head). Not part of the daemon (BENCHMARKS.md).
//
//   clang -O2 -ISources/CKernels/include -ISources/CKernels Sources/CKernels/*.c scripts/quant_kbench.c \
//         -o /tmp/quant_kbench -lopenblas -lpthread -lm
//   /tmp/quant_kbench [threads=2] [types: bit mask, 1 int8, 2 q4, 4 nf4, 8 fp4, 16 f32, 32 bf16, 64 f16, 128 bf16m; 15] [cpu=0] [level=2]
//
// cpu = 1 times the caller thread's CPU time instead of wall time: with threads = 1 a figure that
// other programs on a shared machine disturb much less (they still share the core's caches and units).
// level caps the quantized products' body (ck_quant_set_level_cap: 0 portable C, 1 AVX2, 2 VNNI where the CPU has it).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ckernels.h"

static clockid_t clk = CLOCK_MONOTONIC;
static double now(void) { struct timespec t; clock_gettime(clk, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
static unsigned long long rs = 88172645463325252ULL;
static float rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (float)((rs >> 11) * 0x1p-53) * 2 - 1; }

enum { I8, Q4, NF4, FP4, F32, BF16, F16, BF16M, TYPES };
static const char *names[] = {"int8", "q4", "nf4", "fp4", "f32", "bf16", "f16", "bf16m"};

/// One copy of a weight matrix in type t: quantized (n × k, output-major) or plain (the checkpoint's
/// layouts: Conv1D [k, n] for the layers, Linear [n, k] for the LM head; `nk` says which).
typedef struct { ck_i8_matrix i8; ck_q4_matrix q4; ck_nf4_matrix nf; const void *plain; int nk; } mats;

/// `copies` copies of w (n × k) quantized to type t into out[]; returns the bytes of one copy.
static size_t make(int t, long n, long k, const float *w, int copies, mats *out) {
    long kp = (k + 63) / 64 * 64;
    size_t bytes = 0;
    if (t >= F32) {
        const int nk = n > 10000;  // the tied LM head is stored [n, k]; the layers [k, n]
        const size_t es = t == F32 ? 4 : 2;
        float *lay = malloc(sizeof(float) * n * k);  // w in the checkpoint's layout
        for (long j = 0; j < n; j++)
            for (long p = 0; p < k; p++) lay[nk ? j * k + p : p * n + j] = w[j * k + p];
        for (int c = 0; c < copies; c++) {
            char *p = aligned_alloc(64, n * k * es + 64);
            if (t == F32) memcpy(p, lay, n * k * 4);
            else ck_narrow_f32(lay, p, t == F16 ? CK_HALF_F16 : CK_HALF_BF16, n * k);  // as a load converts
            out[c].plain = p; out[c].nk = nk;
        }
        free(lay);
        return n * k * es;
    }
    if (t == I8) {
        const long nt = ck_i8_tiled_rows(n);   // whole tiles of 16 rows
        unsigned char *q = aligned_alloc(64, nt * kp + 64); float *s = aligned_alloc(64, nt * kp / 64 * 4 + 64);
        ck_i8_quantize(w, n, k, q, s);
        for (int c = 0; c < copies; c++) {
            unsigned char *qc = aligned_alloc(64, nt * kp + 64); float *sc = aligned_alloc(64, nt * kp / 64 * 4 + 64);
            memcpy(qc, q, nt * kp); memcpy(sc, s, nt * kp / 64 * 4);
            out[c].i8 = (ck_i8_matrix){qc, sc, n, k};
        }
        bytes = nt * kp + nt * kp / 16; free(q); free(s);
    } else if (t == Q4) {
        long kq = (k + 31) / 32 * 32, nt = ck_q4_tiled_rows(n);   // whole tiles of 16 rows
        unsigned char *p = aligned_alloc(64, nt * kq / 2 + 64); unsigned short *dm = aligned_alloc(64, nt * kq / 32 * 4 + 64);
        ck_q4_quantize(w, n, k, p, dm);
        for (int c = 0; c < copies; c++) {
            unsigned char *pc = aligned_alloc(64, nt * kq / 2 + 64); unsigned short *dc = aligned_alloc(64, nt * kq / 32 * 4 + 64);
            memcpy(pc, p, nt * kq / 2); memcpy(dc, dm, nt * kq / 32 * 4);
            out[c].q4 = (ck_q4_matrix){pc, dc, n, k};
        }
        bytes = nt * kq / 2 + nt * kq / 8; free(p); free(dm);
    } else {
        long nb = n * kp / 64, nb2 = (nb + 255) / 256, nt = ck_nf4_tiled_rows(n), tb = nt * kp / 64;
        unsigned char *p = aligned_alloc(64, n * kp / 2 + 64); float *am = aligned_alloc(64, nb * 4 + 64);
        if (t == NF4) ck_nf4_quantize(w, n, k, p, am); else ck_fp4_quantize(w, n, k, p, am);
        unsigned char *qa = aligned_alloc(64, nb + 64); float *a2 = aligned_alloc(64, nb2 * 4 + 64); float off;
        ck_nf4_compress_absmax(am, nb, qa, a2, &off);
        for (int c = 0; c < copies; c++) {   // bitsandbytes' layout into tiles of 16 rows
            unsigned char *pc = aligned_alloc(64, nt * kp / 2 + 64);
            if (t == NF4) {
                unsigned char *qc = aligned_alloc(64, tb + 64);
                ck_nf4_tile(p, qa, 1, n, k, pc, qc);
                out[c].nf = (ck_nf4_matrix){pc, NULL, qc, a2, off, n, k, CK_4BIT_NF4};
            } else {
                float *ac = aligned_alloc(64, tb * 4 + 64);
                ck_nf4_tile(p, am, 0, n, k, pc, ac);
                out[c].nf = (ck_nf4_matrix){pc, ac, NULL, NULL, 0, n, k, CK_4BIT_FP4};
            }
        }
        bytes = nt * kp / 2 + (t == NF4 ? tb : tb * 4); free(p); free(am); free(qa);
    }
    return bytes;
}

static void run(int t, const mats *w, const float *x, long m, long k, float *y, long n) {
    const int kind = t == F32 ? 0 : t == BF16 ? CK_HALF_BF16 : CK_HALF_F16;
    switch (t) {
    case F32: case BF16: case F16:
        (w->nk ? ck_matmul_nk_w16_parallel : ck_matmul_kn_w16_parallel)(x, m, k, k, w->plain, kind, w->nk ? k : n, n, y, n, 0);
        break;
    case BF16M: ck_matmul_bf16dot_parallel(w->nk, x, m, k, k, w->plain, w->nk ? k : n, n, y, n, 0); break;
    case I8: ck_i8_multiply(&w->i8, x, m, k, y, n, 0); break;
    case Q4: ck_q4_multiply(&w->q4, x, m, k, y, n, 0); break;
    default: ck_nf4_multiply(&w->nf, x, m, k, y, n, 0); break;
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, mask = argc > 2 ? atoi(argv[2]) : 15;
    ck_pool_set_threads(threads);
    if (argc > 3 && atoi(argv[3])) clk = CLOCK_THREAD_CPUTIME_ID;
    ck_quant_set_level_cap(argc > 4 ? atoi(argv[4]) : CK_QUANT_VNNI);
    printf("body level %d (0 portable, 1 AVX2, 2 VNNI)\n", ck_quant_level());
    const long shapes[5][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}, {768, 50257}};  // k, n
    const long ms[] = {1, 4, 8, 16};
    for (int t = 0; t < TYPES; t++) {
        if (!(mask >> t & 1) || (t == BF16M && !ck_bf16dot_available())) continue;
        double tot[4] = {0};
        for (int s = 0; s < 5; s++) {
            const long k = shapes[s][0], n = shapes[s][1];
            float *w = malloc(sizeof(float) * n * k);
            for (long i = 0; i < n * k; i++) w[i] = 0.02f * rnd();
            size_t per = (size_t)n * k;  // rough bytes estimate before quantizing
            int copies = (int)((96u << 20) / (t >= F32 ? per * (t == F32 ? 4 : 2) : per / (t == I8 ? 1 : 2)) + 1);
            if (copies < 2) copies = 2;
            if (copies > 64) copies = 64;
            mats *cs = malloc(sizeof(mats) * copies);
            size_t bytes = make(t, n, k, w, copies, cs);
            free(w);
            float *x = malloc(sizeof(float) * 16 * k), *y = malloc(sizeof(float) * 16 * n);
            for (long i = 0; i < 16 * k; i++) x[i] = rnd();
            double med[4];
            unsigned long long hash = 1469598103934665603ULL;  // FNV-1a over every output's bits
            for (int mi = 0; mi < 4; mi++) {
                const long m = ms[mi];
                double ts[400]; int reps = 0; double start = now();
                while (reps < 400 && (reps < 7 || now() - start < 0.25)) {
                    const double t0 = now();
                    run(t, &cs[reps % copies], x, m, k, y, n);
                    ts[reps++] = now() - t0;
                }
                run(t, &cs[0], x, m, k, y, n);
                for (long e = 0; e < m * n; e++) { unsigned u; memcpy(&u, y + e, 4); hash = (hash ^ u) * 1099511628211ULL; }
                qsort(ts, reps, sizeof(double), cmp);
                med[mi] = ts[reps / 2];
                tot[mi] += (s == 4 ? 1 : 12) * med[mi];
            }
            printf("%-4s k=%4ld n=%5ld: m=1 %8.1f us (%5.1f GB/s)  m=4 %8.1f  m=8 %8.1f  m=16 %8.1f  16/8 %.2f  8/1 %.2f  outputs %016llx\n",
                   names[t], k, n, med[0] * 1e6, bytes / med[0] / 1e9, med[1] * 1e6, med[2] * 1e6, med[3] * 1e6,
                   med[3] / med[2], med[2] / med[0], hash);
            fflush(stdout);
            free(x); free(y);
            free(cs);  // the copies leak (a benchmark process)
        }
        printf("%-4s model step (12 layers + LM head): m=1 %.0f us  m=8 %.0f  m=16 %.0f  16/8 %.2f\n", names[t],
               tot[0] * 1e6, tot[2] * 1e6, tot[3] * 1e6, tot[3] / tot[2]);
    }
    return 0;
}
