// Watchdog: interval from WATCHDOG_USEC/WATCHDOG_PID, pings at interval/2, stop, health check.

@testable import GPT2Systemd
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EnvironmentTests {
    @Suite struct WatchdogTests {
        @Test func pingsAtHalfTheIntervalAndStops() throws {
            let listener = try DatagramListener()
            try withEnvironment([
                "NOTIFY_SOCKET": listener.address,
                "WATCHDOG_USEC": "200000",
                "WATCHDOG_PID": String(getpid()),
            ]) {
                #expect(Watchdog.enabledInterval() == 200_000)
                let watchdog = try #require(Watchdog(notifier: SystemdNotifier()))
                #expect(watchdog.intervalMicroseconds == 200_000)
                #expect(watchdog.pingPeriodMicroseconds == 100_000)
                #expect(!watchdog.isRunning)

                watchdog.start()
                watchdog.start()  // idempotent: still one timer
                #expect(watchdog.isRunning)
                let during = listener.receiveAll(forMilliseconds: 300)
                watchdog.stop()
                #expect(!watchdog.isRunning)
                #expect(during.count >= 2, "expected ≥ 2 pings within 300 ms, got \(during.count)")
                #expect(during.count <= 5, "one timer pinging every 100 ms, got \(during.count)")
                #expect(during.allSatisfy { $0 == "WATCHDOG=1" })

                let sent = watchdog.pingsSent
                listener.drain()
                let after = listener.receiveAll(forMilliseconds: 250)
                #expect(after.isEmpty, "pings after stop(): \(after)")
                #expect(watchdog.pingsSent == sent)
                #expect(sent >= during.count)
            }
        }

        @Test func notEnabledWithoutWatchdogUsec() {
            withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
                #expect(Watchdog.enabledInterval() == nil)
                #expect(Watchdog(notifier: RecordingNotifier()) == nil)
            }
        }

        @Test func notEnabledForAnotherProcess() {
            withEnvironment(["WATCHDOG_USEC": "200000", "WATCHDOG_PID": String(getpid() + 1)]) {
                #expect(Watchdog.enabledInterval() == nil)
                #expect(Watchdog(notifier: RecordingNotifier()) == nil)
            }
        }

        @Test func enabledWithoutWatchdogPid() {
            withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": nil]) {
                #expect(Watchdog.enabledInterval() == 30_000_000)
            }
        }
    }
}

/// Watchdog behaviour that needs no environment (explicit interval, recording notifier).
@Suite struct WatchdogHealthTests {
    @Test func skipsPingsWhileUnhealthy() async throws {
        let notifier = RecordingNotifier()
        let healthy = HealthFlag(false)
        let watchdog = Watchdog(intervalMicroseconds: 40_000, notifier: notifier) { healthy.value }
        watchdog.start()
        try await Task.sleep(nanoseconds: 150_000_000)
        #expect(notifier.messages.isEmpty, "no ping while the health check fails")
        #expect(watchdog.pingsSkipped >= 2)

        healthy.value = true
        try await Task.sleep(nanoseconds: 150_000_000)
        watchdog.stop()
        #expect(notifier.messages.count >= 2)
        #expect(notifier.messages.allSatisfy { $0 == "WATCHDOG=1" })
        #expect(watchdog.pingsSent == notifier.messages.count)
    }

    @Test func stopIsSynchronousAndRestartable() async throws {
        let notifier = RecordingNotifier()
        let watchdog = Watchdog(intervalMicroseconds: 20_000, notifier: notifier)
        watchdog.start()
        try await Task.sleep(nanoseconds: 50_000_000)
        watchdog.stop()
        let count = notifier.messages.count
        #expect(count >= 1)
        try await Task.sleep(nanoseconds: 60_000_000)
        #expect(notifier.messages.count == count)
        watchdog.start()
        try await Task.sleep(nanoseconds: 50_000_000)
        watchdog.stop()
        #expect(notifier.messages.count > count)
    }
}

final class HealthFlag: @unchecked Sendable {
    private let lock = PlatformLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
