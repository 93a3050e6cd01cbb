// HalfFallback — products with 16-bit (F16/BF16) weights where the packed AVX-512 GEMM cannot run
// (no AVX-512 — e.g. this AVX2 machine —, GPT2D_MATMUL=blas, GPT2D_CPU=generic, `$forcePortable`):
// W is cut into strips of output columns; each compute-pool task widens its strip exactly to F32
// into its own scratch (all of K, so no extra rounding step) and has OpenBLAS multiply it. Never
// more than one strip per thread of F32 exists — no whole-matrix copy.
//
// Threads: with a one-thread pool (OpenBLAS threading its own products) the strips run in turn on
// the caller, each sgemm on OpenBLAS's threads; with a larger pool the strips run in parallel.
import CBLAS

enum HalfFallback {
    /// F32 scratch per strip (bytes): the strip is K × width floats.
    static let stripBytes = 2 << 20

    /// out[M, N] = beta·out + x[M, K] · op(W): W is [K, N] (row stride N) or, when `transposed`,
    /// [N, K] (row stride K). beta is 0 or 1.
    static func product(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int, _ w: HalfView, n: Int, transposed: Bool,
                        _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (out + i * ldo).update(repeating: 0, count: n) } }
            return
        }
        // Strip width: the scratch budget, in multiples of 16 columns; at least one strip per thread.
        let budget = max(16, stripBytes / (4 * k) / 16 * 16)
        let threads = Parallel.threads
        var strips = (n + budget - 1) / budget
        if threads > 1 { strips = max(strips, min(threads, (n + 15) / 16)); strips = (strips + threads - 1) / threads * threads }
        let width = ((n + strips - 1) / strips + 15) / 16 * 16
        let tasks = (n + width - 1) / width
        Parallel.run(tasks) { task, _ in
            let j0 = task * width, cols = min(width, n - j0)
            guard cols > 0 else { return }
            let strip = UnsafeMutablePointer<Float>.allocate(capacity: k * cols)
            defer { strip.deallocate() }
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
        }
    }
}
