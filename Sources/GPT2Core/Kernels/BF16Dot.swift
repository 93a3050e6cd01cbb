// BF16Dot — products of bfloat16 weights at matmul precision `medium` (MatmulPrecision): the
// activations rounded to bfloat16, every product of two bf16 values exact in F32.
//
// Where the CPU has AVX512_BF16 (and the own kernels run at the AVX-512 level) CKernels' vdpbf16ps
// kernels compute them for every row count, decode and prefill alike. Elsewhere — AVX2 CPUs,
// GPT2D_ISA=avx2 / plain, the portable back end, or a task under `$forceFallback` — the rows are
// rounded the same way into the thread's scratch and multiplied on the exact 16-bit paths: the same exact products,
// summed in those kernels' order (results agree to F32 rounding of the sums).
import CKernels

enum BF16Dot {
    /// True when this process's products may use the vdpbf16ps kernels.
    static let hardware: Bool = Matmul.packedGEMM && ck_bf16dot_available() != 0

    /// Set for a task to take the rounding fallback even where the hardware kernels exist — how tests
    /// compare the two.
    @TaskLocal static var forceFallback = false

    /// out[M, N] = beta·out + bf16(x)[M, K] · w (w [K, N], or [N, K] when `transposed`), w bfloat16.
    /// `exact(xr, ldxr)` computes the same product at `.highest` precision on other activations.
    @inline(__always)
    static func product(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int, _ w: HalfView, n: Int, transposed: Bool,
                        _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float,
                        exact: (UnsafePointer<Float>, Int) -> Void) {
        if hardware && Matmul.backend == .kernels && !forceFallback {
            let ok = ck_matmul_bf16dot_parallel(transposed ? 1 : 0, x, m, k, ldx, w.data, transposed ? k : n, n,
                                                out, ldo, beta)
            precondition(ok != 0, "bfloat16 product: activation scratch could not be allocated")
            return
        }
        guard let rounded = ck_bf16_rounded(x, m, k, ldx) else {
            preconditionFailure("bfloat16 product: activation scratch could not be allocated")
        }
        exact(rounded, k)
    }
}
