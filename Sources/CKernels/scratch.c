// Per-thread scratch of the products (scratch.h), and the heap's trim (ckernels.h).
#include "scratch.h"
#include "ckernels.h"
#include <pthread.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#ifndef __has_feature
#define __has_feature(x) 0
#endif
// Under a sanitizer the heap is the sanitizer's, not glibc's: glibc's malloc_trim would walk arenas
// that were never set up (AddressSanitizer: a SEGV inside mtrim).
#if defined(__GLIBC__) && !__has_feature(address_sanitizer) && !__has_feature(thread_sanitizer) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CK_HEAP_TRIM 1
#endif

void ck_heap_trim(void) {
#ifdef CK_HEAP_TRIM
    malloc_trim(0);
#endif
}

typedef struct { void *buf[CK_SCRATCH_SLOTS]; long cap[CK_SCRATCH_SLOTS]; } thread_scratch;
static __thread thread_scratch tl_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    thread_scratch *s = p;
    for (int i = 0; i < CK_SCRATCH_SLOTS; i++) { free(s->buf[i]); s->buf[i] = NULL; s->cap[i] = 0; }
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

void *ck_scratch(int slot, long bytes) {
    thread_scratch *s = &tl_scratch;
    if (s->cap[slot] < bytes) {
        pthread_once(&scratch_once, scratch_key_init);
        if (pthread_getspecific(scratch_key) == NULL) pthread_setspecific(scratch_key, s);
        free(s->buf[slot]);
        s->buf[slot] = aligned_alloc(64, (size_t)((bytes + 63) / 64 * 64));
        s->cap[slot] = s->buf[slot] ? bytes : 0;
    }
    return s->buf[slot];
}
