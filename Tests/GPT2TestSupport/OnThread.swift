// OnThread — blocking or long computing work of a test on a thread of its own, awaited.
//
// Swift Testing runs tests on Swift concurrency's cooperative pool, which has one thread per core
// (two here). A test that blocks (a socket read, a child process) or computes for long (the quality
// measurement: about a minute in a debug build) on that pool takes a thread from every other test
// meanwhile — above all from the in-process daemons, whose connection tasks run on the same pool —
// and two such tests at once stall the whole process. Such work goes through `onThread`.
import Foundation

/// Runs `body` on a fresh thread (8 MiB of stack) and awaits its result.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        let t = Thread {
            do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
        }
        t.stackSize = 8 << 20
        t.start()
    }
}
