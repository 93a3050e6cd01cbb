// Private to CKernels: per-thread scratch buffers of the products (packing buffers, partial sums,
// rounded activations), one slot per use so products never share one.
#ifndef CKERNELS_SCRATCH_H
#define CKERNELS_SCRATCH_H

enum {
    CK_SCRATCH_GEMM_A,       // gemm.c: packed A panels
    CK_SCRATCH_GEMM_B,       // gemm.c: packed B panels
    CK_SCRATCH_GEMM_PART,    // gemm.c: the small-M K split's partial sums
    CK_SCRATCH_BF16_PLANE,   // bf16dot.c: the rounded activations of the vdpbf16ps products
    CK_SCRATCH_BF16_PACK,    // bf16dot.c: a pool thread's packed W block
    CK_SCRATCH_BF16_PART,    // bf16dot.c: the K split's partial sums
    CK_SCRATCH_BF16_ROUNDED, // bf16dot.c: ck_bf16_rounded's F32 rows
    CK_SCRATCH_SLOTS
};

/// The calling thread's scratch `slot`, at least `bytes` long, 64-byte aligned (NULL when out of
/// memory). Grown on demand and never shrunk; its contents survive until the thread asks for the
/// same slot to grow. Freed when its thread exits (a pthread key destructor), so threads that come
/// and go (Dispatch workers running a loop on their own) leak nothing.
void *ck_scratch(int slot, long bytes);

#endif
