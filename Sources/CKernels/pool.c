// The compute thread pool (see include/ckernels.h): one process-wide set of worker threads that
// the forward pass hands its parallel loops to. Workers spin briefly between loops (a forward
// pass issues ~100 of them, microseconds apart) and then sleep on a futex, so an idle daemon
// costs nothing. Tasks are handed out through an atomic counter: the caller takes part, threads
// that finish early take more.
//
// A loop ends when its tasks are done, not when every worker has seen it: on a machine shared with
// other programs a worker may not be scheduled for milliseconds, and the caller then simply runs
// the tasks itself. So a loop is open while `generation` is odd; a worker joins it by counting
// itself in `active` and then checking that the same loop is still open (else it leaves without
// touching the loop), and the caller, once every task is done, closes the loop (generation even)
// and waits only for the workers that joined — they are past their last task. The loop's fields
// are written only while it is closed and no worker is active.
#define _GNU_SOURCE
#include "ckernels.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 256 };

/// How long an idle worker keeps polling for the next loop before it sleeps (nanoseconds).
static const long SPIN_NS = 300 * 1000;
/// How long the caller polls for a worker's last task before it yields its CPU between polls.
static const long YIELD_AFTER_NS = 20 * 1000;

typedef struct {
    pthread_mutex_t lock;             // held by the thread running a loop (try-lock) or resizing
    _Atomic int threads;              // caller + workers; written under `lock`, read anywhere
    pthread_t workers[MAX_THREADS];
    _Atomic unsigned generation;      // odd: a loop is open; bumped to open and to close each loop
    _Atomic int sleepers;             // workers inside futex_wait
    _Atomic int active;               // workers that joined the open (or just closed) loop
    _Atomic long next;                // next task index to hand out
    _Atomic long done;                // tasks of the current loop finished
    _Atomic int stop;                 // workers exit when they see an open loop with this set
    long tasks;
    ck_task_fn fn;
    void *ctx;
} pool_t;

static pool_t pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .threads = 1};

/// The pool's current size (relaxed: a caller that reads a stale size only runs its loop alone or
/// asks the locked pool, which has the current one).
static inline int pool_size(void) { return atomic_load_explicit(&pool.threads, memory_order_relaxed); }

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

/// Takes tasks until none are left, counting each finished one in `done` (release: its writes are
/// visible to the caller that sees the count).
static void drain(int thread) {
    const long tasks = pool.tasks;
    for (;;) {
        const long t = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        if (t >= tasks) return;
        pool.fn(pool.ctx, t, thread);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    const int thread = (int)(long)arg;
    unsigned seen = 0;   // the last loop this worker joined (or found closed again)
    for (;;) {
        // Wait for an open loop not yet seen: spin for SPIN_NS, then sleep until woken.
        unsigned g;
        long start = 0;
        int polls = 0;
        while (((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) & 1u) == 0 || g == seen) {
            cpu_relax();
            if (++polls < 64) continue;
            polls = 0;
            const long t = now_ns();
            if (start == 0) { start = t; continue; }
            if (t - start < SPIN_NS) continue;
            atomic_fetch_add(&pool.sleepers, 1);
            if (atomic_load(&pool.generation) == g) futex_wait(&pool.generation, g);
            atomic_fetch_sub(&pool.sleepers, 1);
            start = 0;
        }
        seen = g;
        // Join, then make sure the loop did not close meanwhile (seq_cst pairs with the caller's
        // close-then-read-active): if it did, its fields may already be the next loop's.
        atomic_fetch_add(&pool.active, 1);
        if (atomic_load(&pool.generation) != g) { atomic_fetch_sub(&pool.active, 1); continue; }
        if (atomic_load(&pool.stop)) { atomic_fetch_sub(&pool.active, 1); return NULL; }
        drain(thread);
        atomic_fetch_sub_explicit(&pool.active, 1, memory_order_release);
    }
}

/// Opens a loop (its fields already written) and wakes sleeping workers.
static void open_loop(void) {
    atomic_fetch_add(&pool.generation, 1);   // even → odd
    if (atomic_load(&pool.sleepers) > 0) futex_wake_all(&pool.generation);
}

/// Waits until *counter satisfies done(…) — polling, then yielding the CPU (a worker that holds the
/// last task may be waiting for this very CPU).
static void wait_until_tasks_done(long tasks) {
    long start = 0;
    int polls = 0;
    while (atomic_load_explicit(&pool.done, memory_order_acquire) < tasks) {
        if (++polls < 64) { cpu_relax(); continue; }
        polls = 0;
        const long t = now_ns();
        if (start == 0) start = t;
        else if (t - start > YIELD_AFTER_NS) sched_yield();
    }
}

/// Closes the open loop and waits for the workers that joined it to leave.
static void close_loop(void) {
    atomic_fetch_add(&pool.generation, 1);   // odd → even
    int polls = 0;
    while (atomic_load_explicit(&pool.active, memory_order_acquire) > 0)
        if (++polls < 1024) cpu_relax(); else sched_yield();
}

int ck_pool_set_threads(int threads) {
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    pthread_mutex_lock(&pool.lock);
    if (threads != pool_size()) {
        // Stop the current workers (an open loop with `stop` set and no tasks), then start the new set.
        if (pool_size() > 1) {
            atomic_store(&pool.stop, 1);
            pool.tasks = 0;
            open_loop();
            for (int i = 1; i < pool_size(); i++) pthread_join(pool.workers[i], NULL);
            close_loop();
            atomic_store(&pool.stop, 0);
        }
        atomic_store_explicit(&pool.threads, 1, memory_order_relaxed);
        for (int i = 1; i < threads; i++) {
            if (pthread_create(&pool.workers[i], NULL, worker_main, (void *)(long)i) != 0) break;
            atomic_store_explicit(&pool.threads, i + 1, memory_order_relaxed);
        }
    }
    const int n = pool_size();
    pthread_mutex_unlock(&pool.lock);
    return n;
}

int ck_pool_threads(void) { return pool_size(); }

void ck_pool_run(long tasks, ck_task_fn fn, void *ctx) {
    if (tasks <= 0) return;
    // One loop at a time: a second caller (another runner, or a nested loop) runs its tasks alone.
    if (tasks == 1 || pool_size() == 1 || pthread_mutex_trylock(&pool.lock) != 0) {
        for (long t = 0; t < tasks; t++) fn(ctx, t, 0);
        return;
    }
    pool.tasks = tasks;
    pool.fn = fn;
    pool.ctx = ctx;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    open_loop();
    drain(0);
    wait_until_tasks_done(tasks);
    close_loop();
    pthread_mutex_unlock(&pool.lock);
}
