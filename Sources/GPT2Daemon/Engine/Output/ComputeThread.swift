// ComputeThread — which thread is the engine's compute thread, so text work can prove it never runs
// there. The engine marks its thread when the compute loop starts (a thread-specific value: one
// pthread_getspecific per query); test builds count every detokenization by where it ran
// (`TextWorkProbe`), which the tests read.
import Foundation

enum ComputeThread {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        precondition(pthread_key_create(&k, nil) == 0, "pthread_key_create")
        return k
    }()

    /// Marks the calling thread as an engine's compute thread (for the rest of its life).
    static func markCurrent() { pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1)) }

    /// Whether the calling thread is an engine's compute thread.
    static var isCurrent: Bool { pthread_getspecific(key) != nil }
}

#if DEBUG
/// Test builds: how many token pieces the output stages detokenized, and how many of them on a
/// compute thread (the design says none). Process-wide counters; tests read them before and after.
enum TextWorkProbe {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var total = 0
    nonisolated(unsafe) private static var onCompute = 0

    /// Records one detokenization (a token appended to a decoder, or a whole sequence decoded).
    static func record() {
        let compute = ComputeThread.isCurrent
        lock.lock(); total += 1; if compute { onCompute += 1 }; lock.unlock()
    }

    /// (every detokenization so far, those that ran on a compute thread).
    static var counts: (total: Int, onComputeThread: Int) {
        lock.lock(); defer { lock.unlock() }
        return (total, onCompute)
    }
}
#endif
