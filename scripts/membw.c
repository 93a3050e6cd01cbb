// membw — the machine's read bandwidth, for the benchmark's "fraction of the bandwidth ceiling"
// figures (BENCHMARKS.md). Reads a buffer much larger than the last-level cache with T threads, each
// summing its own contiguous part, and prints the median of R passes in GB/s (10^9 bytes/s) as one
// JSON object. Built and run by scripts/bench_types.py (cc -O3 -march=native -pthread); not part of
// the daemon.
//
// Usage: membw [threads=2] [MiB=1024] [passes=9]
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { const float *p; size_t n; double sum; } part;

static void *reader(void *arg) {
    part *w = arg;
    // Eight independent accumulators so the loop is bound by loads, not by an add chain.
    float a[8] = {0};
    for (size_t i = 0; i + 8 <= w->n; i += 8)
        for (int j = 0; j < 8; j++) a[j] += w->p[i + j];
    w->sum = 0;
    for (int j = 0; j < 8; j++) w->sum += a[j];
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 2;
    const size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
    const int passes = argc > 3 ? atoi(argv[3]) : 9;
    if (threads < 1 || threads > 64 || mib < 64 || passes < 1 || passes > 99) {
        fprintf(stderr, "usage: membw [threads 1-64] [MiB >= 64] [passes 1-99]\n");
        return 2;
    }
    const size_t n = mib << 18;  // floats
    float *buf = aligned_alloc(64, n * sizeof(float));
    if (!buf) { perror("aligned_alloc"); return 1; }
    for (size_t i = 0; i < n; i++) buf[i] = (float)(i & 7);
    double gbs[99], check = 0;
    for (int r = 0; r < passes; r++) {
        pthread_t t[64];
        part w[64];
        const size_t per = n / threads / 8 * 8;
        const double t0 = now();
        for (int i = 0; i < threads; i++) {
            w[i] = (part){buf + i * per, per, 0};
            pthread_create(&t[i], NULL, reader, &w[i]);
        }
        for (int i = 0; i < threads; i++) { pthread_join(t[i], NULL); check += w[i].sum; }
        gbs[r] = (double)(per * threads * sizeof(float)) / (now() - t0) / 1e9;
    }
    qsort(gbs, passes, sizeof(double), cmp);
    printf("{\"threads\": %d, \"mib\": %zu, \"passes\": %d, \"read_gb_s\": %.2f, \"max_gb_s\": %.2f, \"check\": %.0f}\n",
           threads, mib, passes, gbs[passes / 2], gbs[passes - 1], check > 0 ? 1.0 : 0.0);
    free(buf);
    return 0;
}
