// CPUFeatures — what this CPU can run, detected once: the CKernels AVX-512 kernels or the portable
// Swift/OpenBLAS paths.
import CKernels

enum CPUFeatures {
    /// AVX-512F is available (CKernels' kernels may be called).
    static let avx512: Bool = ck_has_avx512() != 0
}
