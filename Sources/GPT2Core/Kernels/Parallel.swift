// Parallel — splits elementwise work over the compute threads (Dispatch), for the Swift kernels.
// BLAS calls are threaded by OpenBLAS itself and are never issued from inside these blocks.
import Dispatch
import Foundation

enum Parallel {
    /// Threads for the Swift elementwise kernels (layer norm, activations, softmax, attention).
    /// 1 by default: OpenBLAS keeps its worker spinning between calls, and Dispatch workers
    /// competing with it on 2 cores cost more than they gain (measured: prefill 512 ≈ 480 → 840 tok/s).
    nonisolated(unsafe) static var threads: Int = 1
    /// Threads for the small-M matmul kernels (CKernels), which replace BLAS calls: as many as BLAS uses.
    nonisolated(unsafe) static var matmulThreads: Int = 1

    /// Calls body(start, end) over [0, count) in contiguous chunks of at least `minChunk`.
    @inline(__always)
    static func chunks(count: Int, minChunk: Int, _ body: (Int, Int) -> Void) {
        let parts = min(threads, max(1, count / max(1, minChunk)))
        if parts <= 1 { body(0, count); return }
        let step = (count + parts - 1) / parts
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let s = p * step, e = min(count, s + step)
            if s < e { body(s, e) }
        }
    }

    /// Calls body(i) for i in [0, n), spread over the compute threads when worth it.
    @inline(__always)
    static func forEach(_ n: Int, parallel: Bool, threads: Int = Parallel.threads, _ body: (Int) -> Void) {
        if !parallel || threads <= 1 || n <= 1 { for i in 0..<n { body(i) }; return }
        DispatchQueue.concurrentPerform(iterations: n, execute: body)
    }
}

/// The number of threads the forward pass uses: OpenBLAS's pool and the Swift kernels alike.
public enum ComputeThreads {
    public static func configure(_ n: Int) {
        let n = max(1, n)
        Matmul.setThreads(n)
        Parallel.matmulThreads = n
        Parallel.threads = ProcessInfo.processInfo.environment["GPT2D_SWIFT_THREADS"].flatMap { Int($0) } ?? 1
    }
    public static var count: Int { Parallel.matmulThreads }
}
