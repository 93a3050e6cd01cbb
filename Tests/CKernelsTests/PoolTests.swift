// The compute pool (ck_pool_run) and the products that run on it (ck_gemm_parallel and the
// ck_matmul_*_parallel family, which split columns, and for kn with k ≥ 256·threads also K). Serialized:
// these tests set the pool's size.
import CKernels
import Glibc
import Testing

/// What each task of a loop records in its own slots: how often it ran, on which pool thread, the
/// pool's size then, and whether it ran on the thread that started the loop. Plain memory, so tasks on
/// different threads never share a Swift value. Other test suites may resize the pool at any moment
/// (GPT2Core's tests run in the same process), so each assertion below holds whatever they do.
private struct TaskLog {
    let runs, thread, poolSize, onCaller: UnsafeMutableBufferPointer<Int32>
    let caller: pthread_t

    init(runs: UnsafeMutableBufferPointer<Int32>, thread: UnsafeMutableBufferPointer<Int32>,
         poolSize: UnsafeMutableBufferPointer<Int32>, onCaller: UnsafeMutableBufferPointer<Int32>, caller: pthread_t) {
        (self.runs, self.thread, self.poolSize, self.onCaller, self.caller) = (runs, thread, poolSize, onCaller, caller)
    }

    init(tasks: Int) {
        runs = .allocate(capacity: tasks)
        thread = .allocate(capacity: tasks)
        poolSize = .allocate(capacity: tasks)
        onCaller = .allocate(capacity: tasks)
        for b in [runs, poolSize, onCaller] { b.initialize(repeating: 0) }
        thread.initialize(repeating: -1)
        caller = pthread_self()
    }

    func free() { for b in [runs, thread, poolSize, onCaller] { b.deallocate() } }

    /// The ck_task_fn that fills a log passed as ctx.
    static let record: ck_task_fn = { ctx, task, thread in
        let log = ctx!.assumingMemoryBound(to: TaskLog.self).pointee
        log.runs[task] += 1
        log.thread[task] = thread
        log.poolSize[task] = ck_pool_threads()
        log.onCaller[task] = pthread_equal(pthread_self(), log.caller) != 0 ? 1 : 0
    }

    /// Runs `tasks` tasks on the pool and returns the log's contents (the log itself is freed).
    static func run(_ tasks: Int) -> (runs: [Int32], threads: [Int32], sizes: [Int32], onCaller: [Int32]) {
        var log = TaskLog(tasks: tasks)
        defer { log.free() }
        ck_pool_run(tasks, record, &log)
        return (Array(log.runs), Array(log.thread), Array(log.poolSize), Array(log.onCaller))
    }
}

@Suite(.serialized) struct PoolTests {
    init() { #expect(ck_pool_set_threads(2) == 2) }

    @Test func sizeIsWhatWasSet() {
        #expect(ck_pool_set_threads(1) == 1)
        #expect(ck_pool_set_threads(0) == 1)
        #expect(ck_pool_set_threads(2) == 2)
        #expect(ck_pool_threads() >= 1)
    }

    @Test(arguments: [0, 1, 2, 3, 97])
    func everyTaskRunsOnceOnAPoolThread(_ tasks: Int) {
        let log = TaskLog.run(tasks)
        #expect(log.runs == [Int32](repeating: 1, count: tasks))
        for t in 0..<tasks { #expect(log.threads[t] >= 0 && log.threads[t] < log.sizes[t], "task \(t) on thread \(log.threads[t])") }
    }

    /// Thousands of short loops back to back (the decode pattern: a loop every few microseconds, some
    /// ending before a worker has even woken): every task of every loop runs exactly once, on a pool
    /// thread, and a loop returns only once all of its tasks are done.
    @Test func shortLoopsBackToBackRunEveryTaskOnce() {
        for i in 0..<3000 {
            let tasks = 2 + i % 5
            let log = TaskLog.run(tasks)
            #expect(log.runs == [Int32](repeating: 1, count: tasks), "loop \(i)")
            #expect(log.threads.allSatisfy { $0 >= 0 }, "loop \(i): a task did not run")
        }
    }

    /// A pool of one runs every task on the caller, as thread 0 (a task that saw a size of 1 cannot have
    /// been handed to a worker: a loop on workers holds the pool's lock, which resizing waits for).
    @Test func oneThreadRunsEverythingOnTheCaller() {
        #expect(ck_pool_set_threads(1) == 1)
        let log = TaskLog.run(10)
        #expect(ck_pool_set_threads(2) == 2)
        #expect(log.runs == [Int32](repeating: 1, count: 10))
        for t in 0..<10 where log.sizes[t] == 1 {
            #expect(log.onCaller[t] == 1 && log.threads[t] == 0, "task \(t)")
        }
    }

    /// A loop started inside a task that runs on a worker (so the outer loop holds the pool) runs all
    /// its tasks on that task's thread, as thread 0.
    @Test func nestedLoopRunsOnItsCaller() {
        // Outer task t logs its own thread in outer.thread[t] and its inner loop's 3 tasks into slots
        // [3t, 3t + 3) of `inner`, passed with the outer log.
        struct Nest { var outer: TaskLog; var inner: TaskLog }
        var nest = Nest(outer: TaskLog(tasks: 16), inner: TaskLog(tasks: 48))
        defer { nest.outer.free(); nest.inner.free() }
        ck_pool_run(16, { ctx, task, thread in
            let nest = ctx!.assumingMemoryBound(to: Nest.self).pointee
            nest.outer.thread[task] = thread
            let slots = (3 * task)..<(3 * task + 3)
            var slice = TaskLog(runs: .init(rebasing: nest.inner.runs[slots]), thread: .init(rebasing: nest.inner.thread[slots]),
                                poolSize: .init(rebasing: nest.inner.poolSize[slots]),
                                onCaller: .init(rebasing: nest.inner.onCaller[slots]), caller: pthread_self())
            ck_pool_run(3, TaskLog.record, &slice)
        }, &nest)
        #expect(Array(nest.inner.runs) == [Int32](repeating: 1, count: 48))
        for t in 0..<16 where nest.outer.thread[t] > 0 {
            let slots = (3 * t)..<(3 * t + 3)
            #expect(Array(nest.inner.thread[slots]) == [0, 0, 0], "outer task \(t)")
            #expect(Array(nest.inner.onCaller[slots]) == [1, 1, 1], "outer task \(t)")
        }
    }

    @Test(.enabled(if: hasAVX512, Comment(rawValue: needsAVX512)), arguments: GemmTests.cases, [false, true])
    func gemmParallel(_ c: GemmTests.Case, transB: Bool) {
        GemmTests().check(c, transB: transB, "ck_gemm_parallel") { a, b, out, am, bm, cm in
            ck_gemm_parallel(c.m, c.n, c.k, c.alpha, a, am.ld, b, bm.ld, transB ? 1 : 0, c.beta, out, cm.ld)
        }
    }

    /// The *_parallel small-M products at the level ck_isa() chose: any m (rows in groups of 8), n split
    /// over threads, and k = 600 ≥ 256·2 (kn splits K then).
    @Test(arguments: [(1, 9, 37), (9, 300, 5), (19, 131, 600), (16, 40, 600)])
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
