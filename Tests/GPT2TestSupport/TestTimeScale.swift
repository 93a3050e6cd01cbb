// TestTimeScale — one factor for every bound a test waits under (polls, socket reads, client
// timeouts, deadlines), from GPT2D_TEST_TIMEOUT_SCALE: scripts/sanitize.sh sets it because
// AddressSanitizer runs the daemon 2–3× slower and ThreadSanitizer 5–15×, and a bound that only
// guards against a hang must not fail a correct run. Unset (the normal suite), the factor is 1.
import Foundation

public enum TestTimeScale {
    /// GPT2D_TEST_TIMEOUT_SCALE as a number in 1...100; 1 when unset or not a number in range.
    public static let factor: Double = {
        guard let raw = ProcessInfo.processInfo.environment["GPT2D_TEST_TIMEOUT_SCALE"],
              let value = Double(raw), value.isFinite else { return 1 }
        return min(max(value, 1), 100)
    }()

    /// `seconds` stretched by the factor.
    public static func seconds(_ seconds: Double) -> Double { seconds * factor }

    /// The moment `seconds` (stretched) from now.
    public static func deadline(_ seconds: Double) -> Date { Date().addingTimeInterval(Self.seconds(seconds)) }
}
