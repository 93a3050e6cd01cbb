// fault_guard — survive SIGBUS on mmap'd files that shrink or are rewritten under us.
//
// A read-only MAP_PRIVATE mapping of a file raises SIGBUS when a page beyond the file's (new) end is
// touched: `truncate` in place, or a copy over the old file. Regions registered here are guarded:
// the SIGBUS handler, on a fault inside one, maps anonymous zero pages over the whole region
// (mmap MAP_FIXED | MAP_ANONYMOUS | MAP_PRIVATE, PROT_READ — async-signal-safe on Linux), sets the
// region's damaged flag and returns, so the faulting read and every later one see zeros: the
// computation finishes with garbage that the caller discards after checking `fg_region_damaged`.
// A SIGBUS outside every region goes to the handler installed before ours, or kills the process
// with the default action as it would have without us.
//
// Up to FG_MAX_REGIONS regions; slots are reused after `fg_unregister`. Every function is
// thread-safe (atomics; the handler takes no lock).
#ifndef FAULT_GUARD_H
#define FAULT_GUARD_H

#include <stddef.h>
#include <stdint.h>

#define FG_MAX_REGIONS 256

/// Installs the SIGBUS handler (once; later calls return its first result). 0 on success, else errno.
int fg_install(void);

/// Guards [base, base + length) (page-aligned base, as mmap returns). Returns a slot id ≥ 0, or -1
/// when every slot is taken (the region is then unguarded).
int fg_register(const void *base, size_t length);

/// Stops guarding slot `id` (before munmap).
void fg_unregister(int id);

/// 1 when a fault in slot `id` was patched with zero pages since registration, else 0.
int fg_region_damaged(int id);

/// Clears slot `id`'s damaged flag (after its file was mapped again over the same range).
void fg_region_clear(int id);

/// Faults patched since the process started (all regions).
uint64_t fg_patched_faults(void);

#endif
