// ReleaseSignal — fired once, when its owner is deinitialised. ServedModel fires its signal when
// the last reference to the model goes (and with it the weights' mapping), so `models.unload` can
// answer once the memory is given back rather than when the engine let go of its own references
// (a request that just ended may hold its job, and so the model, while its reply is written).

import Dispatch
import Foundation

final class ReleaseSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var nextWaiter = 0
    private var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]

    /// Marks the signal fired and wakes every waiter (true). Later waits return at once.
    func fire() {
        let woken = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            fired = true
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for w in woken { w.resume(returning: true) }
    }

    /// True once fired; false when `seconds` pass first (the waiter then stops waiting).
    func wait(seconds: Double) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let id = lock.withLock { () -> Int? in
                if fired { return nil }
                nextWaiter += 1
                waiters[nextWaiter] = c
                return nextWaiter
            }
            guard let id else { return c.resume(returning: true) }
            DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds)) { [self] in
                lock.withLock { waiters.removeValue(forKey: id) }?.resume(returning: false)
            }
        }
    }
}
