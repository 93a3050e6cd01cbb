// Watchdog — keep-alive pings for `WatchdogSec=` (sd_watchdog_enabled(3)).
//
// systemd passes the interval as `WATCHDOG_USEC` (and `WATCHDOG_PID`, which must name this process).
// `Watchdog.enabledInterval()` reads both with `sd_watchdog_enabled(0, …)` and leaves the environment
// alone. A `Watchdog` pings `WATCHDOG=1` every interval/2 (the rate sd_watchdog_enabled(3) recommends)
// on its own serial dispatch queue, independent of the inference thread and of Swift concurrency's
// cooperative pool, so a busy pool cannot starve it.
//
// The health check decides whether a ping is honest: when the engine is wedged the closure returns
// false, the ping is skipped, and after `WatchdogSec=` systemd kills the service with SIGABRT and
// `Restart=on-failure` brings it back. A watchdog that pings unconditionally only proves the timer works.

import CSystemd
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Sends `WATCHDOG=1` at half the watchdog interval while the health check passes.
public final class Watchdog: @unchecked Sendable {
    /// The interval systemd expects a ping within (`WATCHDOG_USEC`), in microseconds.
    public let intervalMicroseconds: UInt64
    /// The time between pings: half the interval (at least 1 ms).
    public var pingPeriodMicroseconds: UInt64 { max(intervalMicroseconds / 2, 1_000) }

    private let notifier: any ServiceNotifier
    private let healthCheck: @Sendable () -> Bool
    private let queue = DispatchQueue(label: "gpt2d.watchdog")
    // Guarded by `queue`.
    private var timer: DispatchSourceTimer?
    private var sent = 0
    private var skipped = 0

    /// The watchdog interval systemd configured for this process, or nil when the watchdog is off.
    ///
    /// Uses `sd_watchdog_enabled(0, &usec)`: nil when `WATCHDOG_USEC` is unset or invalid, or when
    /// `WATCHDOG_PID` is set and names another process. The environment is left unchanged.
    public static func enabledInterval() -> UInt64? {
        var usec: UInt64 = 0
        let r = sd_watchdog_enabled(0, &usec)
        guard r > 0, usec > 0 else { return nil }
        return usec
    }

    /// A watchdog for an explicit interval (tests, or a daemon that computes its own).
    /// - Parameters:
    ///   - intervalMicroseconds: the `WatchdogSec=` interval; pings go out every half of it.
    ///   - notifier: where `WATCHDOG=1` goes.
    ///   - healthCheck: called before each ping (on the watchdog queue; keep it cheap and non-blocking);
    ///     returning false skips that ping.
    public init(
        intervalMicroseconds: UInt64,
        notifier: any ServiceNotifier,
        healthCheck: @escaping @Sendable () -> Bool = { true }
    ) {
        self.intervalMicroseconds = intervalMicroseconds
        self.notifier = notifier
        self.healthCheck = healthCheck
    }

    /// A watchdog for the interval systemd configured, or nil when the watchdog is not enabled
    /// for this process (see `enabledInterval()`).
    public convenience init?(
        notifier: any ServiceNotifier,
        healthCheck: @escaping @Sendable () -> Bool = { true }
    ) {
        guard let usec = Self.enabledInterval() else { return nil }
        self.init(intervalMicroseconds: usec, notifier: notifier, healthCheck: healthCheck)
    }

    deinit {
        timer?.cancel()
    }

    /// Starts pinging: one ping right away, then one every `pingPeriodMicroseconds`. Idempotent.
    public func start() {
        queue.sync {
            guard timer == nil else { return }
            let source = DispatchSource.makeTimerSource(queue: queue)
            let period = DispatchTimeInterval.microseconds(Int(clamping: pingPeriodMicroseconds))
            source.schedule(deadline: .now(), repeating: period, leeway: .milliseconds(1))
            source.setEventHandler { [weak self] in self?.tick() }
            timer = source
            source.resume()
        }
    }

    /// Stops pinging. When it returns, no further ping is sent (a ping in progress has finished). Idempotent.
    public func stop() {
        queue.sync {
            timer?.cancel()
            timer = nil
        }
    }

    /// True between `start()` and `stop()`.
    public var isRunning: Bool { queue.sync { timer != nil } }

    /// Pings sent so far (`WATCHDOG=1` handed to the notifier).
    public var pingsSent: Int { queue.sync { sent } }

    /// Pings skipped because the health check failed.
    public var pingsSkipped: Int { queue.sync { skipped } }

    // Runs on `queue`.
    private func tick() {
        guard timer != nil else { return }
        if healthCheck() {
            notifier.watchdog()
            sent += 1
        } else {
            skipped += 1
        }
    }
}
