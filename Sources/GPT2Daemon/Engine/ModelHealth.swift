// ModelHealth — whether a served model's weight files are still what was loaded.
//
// A weight file truncated or overwritten in place (instead of replaced by rename) makes the model
// unavailable: `Engine+ModelHealth` checks its mappings before and after every forward pass of the
// model (one fstat per mapped file, plus CFaultGuard's damage flag for a read that faulted past the
// file's end), fails every request on the model with `model_unavailable`, and refuses new ones. At a
// later request (at most once a second) or at SIGHUP the files are tried again: once each has its
// old size and header bytes it is mapped again over the same addresses and the model serves again.
// The state is shared by the engine thread and SIGHUP's reload; a lock guards it.

import Foundation

final class ModelHealth: @unchecked Sendable {
    private let lock = NSLock()
    /// Why the model is unavailable (nil: serving).
    private var problem: String?
    /// Monotonic seconds of the last restore attempt.
    private var lastAttempt = -Double.infinity

    /// Nil while serving, else the reason (for messages).
    var unavailableReason: String? { lock.lock(); defer { lock.unlock() }; return problem }

    /// Marks the model unavailable; returns true when it was serving until now.
    @discardableResult
    func markUnavailable(_ reason: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let wasServing = problem == nil
        if wasServing { problem = reason }
        return wasServing
    }

    func markServing() { lock.lock(); problem = nil; lock.unlock() }

    /// Serialises restores (a request on the engine thread, SIGHUP on the signal queue).
    private let restoreLock = NSLock()

    /// Runs `body` (a restore) alone.
    func restoring<T>(_ body: () -> T) -> T { restoreLock.lock(); defer { restoreLock.unlock() }; return body() }

    /// True when a restore may be tried now (`interval` seconds after the last try, or `force`).
    func shouldAttemptRestore(now: Double, interval: Double, force: Bool) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard problem != nil, force || now - lastAttempt >= interval else { return false }
        lastAttempt = now
        return true
    }
}
