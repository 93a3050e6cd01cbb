// Parallel — the forward pass's parallel loops, run on CKernels' compute pool (one process-wide
// set of worker threads that spin briefly between loops and sleep when idle).
//
// With AVX-512 or AVX2 + FMA (Matmul.ownKernels) every matrix product runs on that pool (the
// project's kernels, or single-threaded OpenBLAS calls per task) and OpenBLAS keeps no threads of its
// own, so exactly `ComputeThreads.count` threads compute and none spin idly against them. Otherwise
// (or with GPT2D_MATMUL=blas) OpenBLAS threads its own products and the pool stays at one thread
// (unless GPT2D_SWIFT_THREADS says otherwise): two sets of spinning workers on the same cores cost
// more than they give.
import CKernels
import Foundation
import Synchronization

enum Parallel {
    /// Threads the pool runs loops on.
    static var threads: Int { Int(ck_pool_threads()) }

    /// Calls body(start, end) over [0, count) in contiguous chunks of at least `minChunk`.
    @inline(__always)
    static func chunks(count: Int, minChunk: Int, _ body: (Int, Int) -> Void) {
        let parts = min(threads, max(1, count / max(1, minChunk)))
        if parts <= 1 { if count > 0 { body(0, count) }; return }
        let step = (count + parts - 1) / parts
        run(parts) { p, _ in
            let s = p * step, e = min(count, s + step)
            if s < e { body(s, e) }
        }
    }

    /// Calls body(i) for i in [0, n), spread over the pool when `parallel`.
    @inline(__always)
    static func forEach(_ n: Int, parallel: Bool, _ body: (Int) -> Void) {
        if !parallel || threads <= 1 || n <= 1 { for i in 0..<n { body(i) }; return }
        run(n) { i, _ in body(i) }
    }

    /// Calls body(task, thread) for task in [0, n) on the pool; `thread` (in [0, threads)) is unique
    /// among tasks of this loop running at the same time, for per-thread scratch.
    static func run(_ n: Int, _ body: (Int, Int) -> Void) {
        typealias Body = (Int, Int) -> Void
        withoutActuallyEscaping(body) { body in
            var box: Body = body
            withUnsafeMutablePointer(to: &box) { ptr in
                ck_pool_run(n, { ctx, task, thread in
                    ctx!.assumingMemoryBound(to: Body.self).pointee(task, Int(thread))
                }, ptr)
            }
        }
    }
}

/// The number of threads the forward pass uses, for every kernel.
public enum ComputeThreads {
    public static func configure(_ n: Int) {
        let n = max(1, n)
        if Matmul.ownKernels {
            Matmul.setBLASThreads(1)
            ck_pool_set_threads(Int32(n))
        } else {
            Matmul.setBLASThreads(n)
            let swift = ProcessInfo.processInfo.environment["GPT2D_SWIFT_THREADS"].flatMap { Int($0) } ?? 1
            ck_pool_set_threads(Int32(max(1, swift)))
        }
        configured.store(n, ordering: .relaxed)
    }
    /// Engines (and tests) configure from their own threads; the pool's resize is locked in C.
    private static let configured = Atomic<Int>(1)
    public static var count: Int { configured.load(ordering: .relaxed) }
    /// What computes, for logs: "own AVX-512 kernels, N threads", "compute pool (AVX2 kernels +
    /// OpenBLAS per task), N threads" or "OpenBLAS, N threads".
    public static var description: String {
        if Matmul.packedGEMM { return "own AVX-512 kernels, \(count) threads" }
        if Matmul.ownKernels { return "compute pool (AVX2 kernels + OpenBLAS per task), \(count) threads" }
        return "OpenBLAS, \(count) threads"
    }
}
