// The compute pool (CKernels' pool.c through Parallel): every task runs exactly once, thread
// indices are valid and never shared by two tasks at once, loops started from several threads at
// the same time (one runs on the pool, the others alone) and loops nested inside a task complete.
import CKernels
import Foundation
import GPT2TestSupport
import Synchronization
import Testing
@testable import GPT2Core

@Suite struct ComputePoolTests {
    /// Three threads (more than this machine's cores, so workers also get descheduled mid-loop).
    /// Other suites running meanwhile then use the pool too; results never depend on its size.
    init() { ComputeThreads.configure(3) }

    @Test func everyTaskRunsOnceWithAValidThreadIndex() {
        let threads = Parallel.threads
        let n = 1000
        let hits = LockedValue([Int](repeating: 0, count: n))
        let busy = LockedValue([Int](repeating: 0, count: threads))
        let bad = Atomic<Int>(0)
        Parallel.run(n) { task, thread in
            guard thread >= 0 && thread < threads else { bad.add(1, ordering: .relaxed); return }
            // No other task may hold this thread index right now.
            busy.withLock { b in b[thread] += 1; if b[thread] != 1 { bad.add(1, ordering: .relaxed) } }
            hits.withLock { $0[task] += 1 }
            for _ in 0..<200 { _ = task &* 3 }  // a little work, so tasks overlap
            busy.withLock { $0[thread] -= 1 }
        }
        #expect(bad.load(ordering: .relaxed) == 0)
        #expect(hits.withLock { $0.allSatisfy { $0 == 1 } })
    }

    @Test func concurrentAndNestedLoopsComplete() async {
        let total = Atomic<Int>(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    Parallel.run(40) { _, _ in
                        // A nested loop runs on its caller.
                        Parallel.run(5) { _, _ in total.add(1, ordering: .relaxed) }
                    }
                }
            }
        }
        #expect(total.load(ordering: .relaxed) == 6 * 40 * 5)
    }

    @Test func chunksCoverTheRangeOnce() {
        for count in [0, 1, 7, 100, 10_001] {
            let seen = LockedValue([Int](repeating: 0, count: count))
            Parallel.chunks(count: count, minChunk: 3) { s, e in seen.withLock { for i in s..<e { $0[i] += 1 } } }
            #expect(seen.withLock { $0.allSatisfy { $0 == 1 } }, "count \(count)")
        }
    }
}
