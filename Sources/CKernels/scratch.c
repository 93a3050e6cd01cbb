// Per-thread scratch of the products (scratch.h).
#include "scratch.h"
#include <pthread.h>
#include <stdlib.h>

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
