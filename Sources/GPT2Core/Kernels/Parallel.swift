// Parallel — splits elementwise work over the compute threads (Dispatch), for the Swift kernels.
// BLAS calls are threaded by OpenBLAS itself and are never issued from inside these blocks.
import Dispatch
import Foundation

enum Parallel {
    /// Threads used by the Swift kernels; set together with Matmul.setThreads.
    nonisolated(unsafe) static var threads: Int = 1

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
    static func forEach(_ n: Int, parallel: Bool, _ body: (Int) -> Void) {
        if !parallel || threads <= 1 || n <= 1 { for i in 0..<n { body(i) }; return }
        DispatchQueue.concurrentPerform(iterations: n, execute: body)
    }
}

/// The number of threads the forward pass uses: OpenBLAS's pool and the Swift kernels alike.
public enum ComputeThreads {
    public static func configure(_ n: Int) {
        let n = max(1, n)
        Matmul.setThreads(n)
        Parallel.threads = ProcessInfo.processInfo.environment["GPT2D_SWIFT_THREADS"].flatMap { Int($0) } ?? n
    }
    public static var count: Int { Parallel.threads }
}
