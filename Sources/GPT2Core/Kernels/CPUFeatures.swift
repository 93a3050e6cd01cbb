// CPUFeatures — what this CPU can run, detected once: which CKernels bodies (AVX-512, AVX2 + FMA)
// or only the portable Swift/OpenBLAS paths.
import CKernels

enum CPUFeatures {
    /// AVX-512F is available: the packed GEMM, the AVX-512 small-M bodies and vmath may run.
    static let avx512: Bool = ck_has_avx512() != 0
    /// AVX2 + FMA + F16C are available: the AVX2 small-M bodies may run.
    static let avx2: Bool = ck_has_avx2() != 0
}
