// Polling — waiting in tests for something another thread or process makes true (a daemon's state,
// a file, a counter), with a bound: the one helper every suite uses instead of a sleep.
import Foundation

/// Polls `condition` every `interval` seconds (20 ms by default) until it holds or `timeout` seconds
/// (stretched by TestTimeScale) pass, then asks once more; returns whether it held. A cancelled task stops waiting (Task.sleep throws).
public func eventually(timeout: Double, interval: Double = 0.02,
                       _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = TestTimeScale.deadline(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
    }
    return try await condition()
}
