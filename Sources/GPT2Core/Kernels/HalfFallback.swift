// HalfFallback — products with 16-bit (F16/BF16) weights where the small-M kernels and the AVX-512
// packed GEMM do not serve them: prefill on AVX2 CPUs (this machine), and every row count on the
// portable back end (GPT2D_MATMUL=blas, GPT2D_CPU=generic, `Matmul.$forcePortable`). W is cut into
// strips of output columns exactly as Matmul.blasColumns cuts an F32 W; each compute-pool task widens
// its strip (all of K) exactly into its own F32 scratch and makes the same OpenBLAS call on it as
// the F32 path makes on its strip — so the results equal the F32 path's on the upcast weights bit
// for bit (OpenBLAS's sums depend on how N is split, so the split must match). A strip whose
// scratch would pass `maxScratchBytes` (the tied LM head under an all-rows prefill) is done in
// narrower pieces: then equal only to rounding. Never more than one strip per thread of F32 exists.
//
// Threads: with a one-thread pool (OpenBLAS threading its own products) the strips run in turn on
// the caller; with a larger pool (OpenBLAS single-threaded) they run in parallel.
import CBLAS

enum HalfFallback {
    /// Largest F32 scratch one task widens into (bytes): K × strip width floats.
    static let maxScratchBytes = 16 << 20

    /// out[M, N] = beta·out + x[M, K] · op(W): W is [K, N] (row stride N) or, when `transposed`,
    /// [N, K] (row stride K). beta is 0 or 1.
    static func product(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int, _ w: HalfView, n: Int, transposed: Bool,
                        _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (out + i * ldo).update(repeating: 0, count: n) } }
            return
        }
        // blasColumns' split: ≥ 256 columns per strip, multiples of 16, at most one strip per thread.
        let parts = max(1, min(Parallel.threads, n / 256))
        let step = ((n + parts - 1) / parts + 15) / 16 * 16
        let piece = min(step, max(16, maxScratchBytes / (4 * k) / 16 * 16))
        Parallel.forEach((n + step - 1) / step, parallel: parts > 1) { t in
            let strip = UnsafeMutablePointer<Float>.allocate(capacity: k * piece)
            defer { strip.deallocate() }
            var j0 = t * step
            let end = min(n, j0 + step)
            while j0 < end {
                let cols = min(piece, end - j0)
                if transposed {
                    // Rows [j0, j0 + cols) of W [N, K]: contiguous, widened as one run.
                    w.widen(from: j0 * k, count: cols * k, into: strip)
                    Matmul.blas(x, m: m, k: k, ldx: ldx, strip, ldw: k, n: cols, transposed: true,
                                out + j0, ldo: ldo, beta: beta)
                } else {
                    // Columns [j0, j0 + cols) of W [K, N]: one run per row of W.
                    for p in 0..<k { w.widen(from: p * n + j0, count: cols, into: strip + p * cols) }
                    Matmul.blas(x, m: m, k: k, ldx: ldx, strip, ldw: cols, n: cols, transposed: false,
                                out + j0, ldo: ldo, beta: beta)
                }
                j0 += cols
            }
        }
    }
}
