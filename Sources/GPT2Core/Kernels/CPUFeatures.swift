// CPUFeatures — what this CPU can run, detected once: the CKernels AVX-512 kernels or the portable
// Swift/OpenBLAS paths. GPT2D_CPU=generic in the environment makes the process behave as on a CPU
// without AVX-512 (every kernel takes its portable path), to test or compare that path.
import CKernels
import Foundation

enum CPUFeatures {
    /// True when GPT2D_CPU=generic asks for the portable paths only.
    static let forcedGeneric: Bool = ProcessInfo.processInfo.environment["GPT2D_CPU"] == "generic"

    /// AVX-512F is available and allowed (CKernels' AVX-512 kernels may be called).
    static let avx512: Bool = !forcedGeneric && ck_has_avx512() != 0
}
