// fault_guard — see include/fault_guard.h.
#define _GNU_SOURCE
#include "fault_guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct region {
    // 0 = free, 1 = being filled in, 2 = guarded.
    _Atomic int state;
    _Atomic uintptr_t base;
    _Atomic size_t length;
    _Atomic int damaged;
};

static struct region regions[FG_MAX_REGIONS];
static _Atomic uint64_t patched;
static struct sigaction previous;
static int install_result;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

/// Hands a fault we do not own to whoever had SIGBUS before, or restores the default action (the
/// faulting instruction runs again on return and the process dies of SIGBUS as it would have).
static void pass_on(int sig, siginfo_t *info, void *context) {
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction) { previous.sa_sigaction(sig, info, context); return; }
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGBUS, &dfl, NULL);
}

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    int saved = errno;
    uintptr_t addr = (uintptr_t)info->si_addr;
    for (int i = 0; i < FG_MAX_REGIONS; i++) {
        struct region *r = &regions[i];
        if (atomic_load(&r->state) != 2) continue;
        uintptr_t base = atomic_load(&r->base);
        size_t length = atomic_load(&r->length);
        if (addr < base || addr - base >= length) continue;
        // Zero pages over the whole region: no further fault anywhere in it.
        void *p = mmap((void *)base, length, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
        atomic_store(&r->damaged, 1);
        atomic_fetch_add(&patched, 1);
        errno = saved;
        return;
    }
    errno = saved;
    pass_on(sig, info, context);
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    install_result = sigaction(SIGBUS, &sa, &previous) == 0 ? 0 : errno;
}

int fg_install(void) {
    pthread_once(&install_once, install);
    return install_result;
}

int fg_register(const void *base, size_t length) {
    for (int i = 0; i < FG_MAX_REGIONS; i++) {
        int free_state = 0;
        if (!atomic_compare_exchange_strong(&regions[i].state, &free_state, 1)) continue;
        atomic_store(&regions[i].base, (uintptr_t)base);
        atomic_store(&regions[i].length, length);
        atomic_store(&regions[i].damaged, 0);
        atomic_store(&regions[i].state, 2);
        return i;
    }
    return -1;
}

void fg_unregister(int id) {
    if (id < 0 || id >= FG_MAX_REGIONS) return;
    atomic_store(&regions[id].state, 0);
}

int fg_region_damaged(int id) {
    if (id < 0 || id >= FG_MAX_REGIONS) return 0;
    return atomic_load(&regions[id].damaged);
}

void fg_region_clear(int id) {
    if (id < 0 || id >= FG_MAX_REGIONS) return;
    atomic_store(&regions[id].damaged, 0);
}

uint64_t fg_patched_faults(void) { return atomic_load(&patched); }
