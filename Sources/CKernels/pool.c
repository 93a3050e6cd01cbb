// The compute thread pool (see include/ckernels.h): one process-wide set of worker threads that
// the forward pass hands its parallel loops to. Workers spin briefly between loops (a forward
// pass issues ~100 of them, microseconds apart) and then sleep on a futex, so an idle daemon
// costs nothing. Tasks are handed out through an atomic counter: the caller takes part, threads
// that finish early take more.
#define _GNU_SOURCE
#include "ckernels.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 256 };

/// How long an idle worker keeps polling for the next loop before it sleeps (nanoseconds).
static const long SPIN_NS = 300 * 1000;

typedef struct {
    pthread_mutex_t lock;             // held by the thread running a loop (try-lock) or resizing
    int threads;                      // caller + workers
    pthread_t workers[MAX_THREADS];
    _Atomic unsigned generation;      // bumped once per loop; workers wait for it to change
    _Atomic int sleepers;             // workers inside futex_wait
    _Atomic int pending;              // workers still inside the current loop
    _Atomic long next;                // next task index to hand out
    _Atomic int stop;                 // workers exit at the next generation
    unsigned start_generation;        // the generation when the current workers were created
    long tasks;
    ck_task_fn fn;
    void *ctx;
} pool_t;

static pool_t pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .threads = 1};

static void futex_wait(_Atomic unsigned *addr, unsigned value) {
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic unsigned *addr) {
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

/// Takes tasks until none are left.
static void drain(int thread) {
    const long tasks = pool.tasks;
    for (;;) {
        const long t = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        if (t >= tasks) return;
        pool.fn(pool.ctx, t, thread);
    }
}

static void *worker_main(void *arg) {
    const int thread = (int)(long)arg;
    // Not the current generation: a loop may already have been published before this thread ran.
    unsigned seen = pool.start_generation;
    for (;;) {
        // Wait for the next loop: spin for SPIN_NS, then sleep until woken.
        unsigned g;
        long start = 0;
        int polls = 0;
        while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            cpu_relax();
            if (++polls < 64) continue;
            polls = 0;
            const long t = now_ns();
            if (start == 0) { start = t; continue; }
            if (t - start < SPIN_NS) continue;
            atomic_fetch_add(&pool.sleepers, 1);
            if (atomic_load(&pool.generation) == seen) futex_wait(&pool.generation, seen);
            atomic_fetch_sub(&pool.sleepers, 1);
            start = 0;
        }
        seen = g;
        if (atomic_load(&pool.stop)) {
            atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
            return NULL;
        }
        drain(thread);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
    }
}

/// Publishes a new generation to every worker (waking sleepers); wait_workers() then waits until
/// all of them have left it.
static void publish_generation(void) {
    atomic_store(&pool.pending, pool.threads - 1);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) futex_wake_all(&pool.generation);
}

static void wait_workers(void) {
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) cpu_relax();
}

int ck_pool_set_threads(int threads) {
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    pthread_mutex_lock(&pool.lock);
    if (threads != pool.threads) {
        // Stop the current workers, then start the new set.
        if (pool.threads > 1) {
            atomic_store(&pool.stop, 1);
            publish_generation();
            wait_workers();
            for (int i = 1; i < pool.threads; i++) pthread_join(pool.workers[i], NULL);
            atomic_store(&pool.stop, 0);
        }
        pool.threads = 1;
        pool.start_generation = atomic_load(&pool.generation);
        for (int i = 1; i < threads; i++) {
            if (pthread_create(&pool.workers[i], NULL, worker_main, (void *)(long)i) != 0) break;
            pool.threads = i + 1;
        }
    }
    const int n = pool.threads;
    pthread_mutex_unlock(&pool.lock);
    return n;
}

int ck_pool_threads(void) { return pool.threads; }

void ck_pool_run(long tasks, ck_task_fn fn, void *ctx) {
    if (tasks <= 0) return;
    // One loop at a time: a second caller (another runner, or a nested loop) runs its tasks alone.
    if (tasks == 1 || pool.threads == 1 || pthread_mutex_trylock(&pool.lock) != 0) {
        for (long t = 0; t < tasks; t++) fn(ctx, t, 0);
        return;
    }
    pool.tasks = tasks;
    pool.fn = fn;
    pool.ctx = ctx;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    publish_generation();
    drain(0);
    wait_workers();
    pthread_mutex_unlock(&pool.lock);
}
