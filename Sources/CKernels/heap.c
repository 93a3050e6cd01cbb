// The C heap's trim after a load (ckernels.h: ck_heap_trim).
#include "ckernels.h"
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
