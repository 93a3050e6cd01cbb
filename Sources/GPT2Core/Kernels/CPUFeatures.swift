// CPUFeatures — what this CPU can run, detected once: which CKernels bodies (AVX-512, AVX2 + FMA)
// or only the portable Swift/OpenBLAS paths. GPT2D_CPU=generic in the environment makes the process
// behave as on a CPU with neither (every product and loop takes its portable path), to test or
// compare that path.
import CKernels
import Foundation

enum CPUFeatures {
    /// True when GPT2D_CPU=generic asks for the portable paths only.
    static let forcedGeneric: Bool = ProcessInfo.processInfo.environment["GPT2D_CPU"] == "generic"

    /// AVX-512F is available and allowed: the packed GEMM, the AVX-512 small-M bodies and vmath may run.
    static let avx512: Bool = !forcedGeneric && ck_has_avx512() != 0
    /// AVX2 + FMA + F16C are available and allowed: the AVX2 small-M bodies may run.
    static let avx2: Bool = !forcedGeneric && ck_has_avx2() != 0
}
