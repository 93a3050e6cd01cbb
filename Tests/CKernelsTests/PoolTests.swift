// The compute pool (ck_pool_run) and the products that run on it (ck_gemm_parallel and the
// ck_matmul_*_parallel family, which split columns, and for kn with k ≥ 256·threads also K). Serialized:
// these tests set the pool's size.
import CKernels
import Testing

/// What each task of a loop records in its own slots: how often it ran, on which pool thread, and the
/// pool's size then. Plain memory, so tasks on different threads never share a Swift value.
private struct TaskLog {
    let runs, thread, poolSize: UnsafeMutableBufferPointer<Int32>

    init(runs: UnsafeMutableBufferPointer<Int32>, thread: UnsafeMutableBufferPointer<Int32>, poolSize: UnsafeMutableBufferPointer<Int32>) {
        self.runs = runs
        self.thread = thread
        self.poolSize = poolSize
    }

    init(tasks: Int) {
        runs = .allocate(capacity: tasks)
        thread = .allocate(capacity: tasks)
        poolSize = .allocate(capacity: tasks)
        runs.initialize(repeating: 0)
        thread.initialize(repeating: -1)
        poolSize.initialize(repeating: 0)
    }

    func free() { runs.deallocate(); thread.deallocate(); poolSize.deallocate() }

    /// The ck_task_fn that fills a log passed as ctx.
    static let record: ck_task_fn = { ctx, task, thread in
        let log = ctx!.assumingMemoryBound(to: TaskLog.self).pointee
        log.runs[task] += 1
        log.thread[task] = thread
        log.poolSize[task] = ck_pool_threads()
    }

    /// Runs `tasks` tasks on the pool; returns (runs, threads, pool sizes) per task.
    static func run(_ tasks: Int) -> (runs: [Int32], threads: [Int32], sizes: [Int32]) {
        var log = TaskLog(tasks: tasks)
        defer { log.free() }
        ck_pool_run(tasks, record, &log)
        return (Array(log.runs), Array(log.thread), Array(log.poolSize))
    }
}

@Suite(.serialized) struct PoolTests {
    init() { #expect(ck_pool_set_threads(2) == 2) }

    @Test func sizeIsWhatWasSet() {
        #expect(ck_pool_set_threads(1) == 1)
        #expect(ck_pool_threads() == 1)
        #expect(ck_pool_set_threads(0) == 1)
        #expect(ck_pool_set_threads(2) == 2)
        #expect(ck_pool_threads() == 2)
    }

    @Test(arguments: [0, 1, 2, 3, 97])
    func everyTaskRunsOnceOnAPoolThread(_ tasks: Int) {
        let log = TaskLog.run(tasks)
        #expect(log.runs == [Int32](repeating: 1, count: tasks))
        for t in 0..<tasks { #expect(log.threads[t] >= 0 && log.threads[t] < log.sizes[t], "task \(t) on thread \(log.threads[t])") }
    }

    @Test func oneThreadRunsEverythingOnTheCaller() {
        #expect(ck_pool_set_threads(1) == 1)
        let log = TaskLog.run(10)
        #expect(ck_pool_set_threads(2) == 2)
        #expect(log.runs == [Int32](repeating: 1, count: 10))
        #expect(log.threads == [Int32](repeating: 0, count: 10))
    }

    /// A loop started inside a task runs all its tasks on that task's thread, as thread 0.
    @Test func nestedLoopRunsOnItsCaller() {
        // Outer task t logs its inner loop's 3 tasks into slots [3t, 3t + 3) of one log.
        var inner = TaskLog(tasks: 12)
        defer { inner.free() }
        ck_pool_run(4, { ctx, task, _ in
            let log = ctx!.assumingMemoryBound(to: TaskLog.self).pointee
            var slice = TaskLog(runs: .init(rebasing: log.runs[(3 * task)..<(3 * task + 3)]),
                                thread: .init(rebasing: log.thread[(3 * task)..<(3 * task + 3)]),
                                poolSize: .init(rebasing: log.poolSize[(3 * task)..<(3 * task + 3)]))
            ck_pool_run(3, TaskLog.record, &slice)
        }, &inner)
        #expect(Array(inner.runs) == [Int32](repeating: 1, count: 12))
        #expect(Array(inner.thread) == [Int32](repeating: 0, count: 12))
    }

    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: GemmTests.cases, [false, true])
    func gemmParallel(_ c: GemmTests.Case, transB: Bool) {
        GemmTests().check(c, transB: transB, "ck_gemm_parallel") { a, b, out, am, bm, cm in
            ck_gemm_parallel(c.m, c.n, c.k, c.alpha, a, am.ld, b, bm.ld, transB ? 1 : 0, c.beta, out, cm.ld)
        }
    }

    /// Any m (rows in groups of 8), n split over threads, and k = 600 ≥ 256·2 (kn splits K then).
    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: [(1, 9, 37), (9, 300, 5), (19, 131, 600), (16, 40, 600)])
    func matmulParallel(_ m: Int, _ n: Int, _ k: Int) {
        var rng = SeededRandom(seed: UInt64(m * n * k))
        let x = Matrix.random(m, k, ld: k + 1, &rng)
        for transposed in [false, true] {
            for kind in [nil] + HalfKind.allCases.map(Optional.some) {
                let (rows, cols) = transposed ? (n, k) : (k, n)
                var bits = [UInt16](repeating: 0, count: rows * cols)
                let w = Matrix(rows: rows, cols: cols, ld: cols) { i, j in
                    guard let kind else { return rng.float() }
                    let e = kind.encode(rng.float())
                    bits[i * cols + j] = e.bits
                    return e.value
                }
                for beta: Float in [0, 1] {
                    let start = Matrix.random(m, n, ld: n + 3, &rng)
                    var y = Matrix(rows: m, cols: n, ld: n + 3, pad: 5) { i, j in beta == 0 ? .nan : start[i, j] }
                    let ld = y.ld
                    y.data.withUnsafeMutableBufferPointer { yp in
                        let out = yp.baseAddress!
                        if let kind {
                            bits.withUnsafeBytes { wp in
                                (transposed ? ck_matmul_nk_w16_parallel : ck_matmul_kn_w16_parallel)(
                                    x.data, m, k, x.ld, wp.baseAddress!, kind.ck, w.ld, n, out, ld, beta)
                            }
                        } else {
                            (transposed ? ck_matmul_nk_parallel : ck_matmul_kn_parallel)(x.data, m, k, x.ld, w.data, w.ld, n, out, ld, beta)
                        }
                    }
                    let want = referenceProduct(x, w, transB: transposed, alpha: 1, beta: Double(beta), c0: start)
                    let label = "parallel nk=\(transposed) \(kind.map { "\($0)" } ?? "f32") m=\(m) n=\(n) k=\(k) beta=\(beta)"
                    #expect(mismatch(y, want, label) == nil, "\(mismatch(y, want, label) ?? "")")
                    #expect(paddingIntact(y, pad: 5), "\(label): wrote past n")
                }
            }
        }
    }
}
