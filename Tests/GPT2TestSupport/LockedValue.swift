// LockedValue — a value behind an NSLock, for state a test shares with the threads it starts.
// NSLock (a pthread mutex) rather than Synchronization.Mutex: ThreadSanitizer sees a pthread
// mutex's ordering, but not that of Mutex's futex on Linux, and would report its users as races.
import Foundation

public final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    public func get() -> Value { withLock { $0 } }
    public func set(_ v: Value) { withLock { $0 = v } }
}
