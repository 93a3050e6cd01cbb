// connection_idle_timeout_s: a connection that sends nothing with nothing in flight is closed by the
// daemon; 0 never closes; the setting is live (applies to new connections). (That activity restarts
// the clock is not tested here: any real-time margin can be lost on a loaded machine.)
import Foundation
import GPT2TestSupport
import Testing
import GPT2Wire
@testable import GPT2Daemon

@Suite struct ConnectionIdleTests {
    /// Activity noted after the watcher read the clock is no idle time (it used to wrap around to
    /// ~2^64 ns and close a connection the moment its first request arrived).
    @Test func activityNewerThanTheClockReadingIsNotIdle() {
        #expect(Connection.idleTime(now: 1_000, lastActivity: 1_500) == 0)
        #expect(Connection.idleTime(now: 1_500, lastActivity: 1_500) == 0)
        #expect(Connection.idleTime(now: 2_000_000_000, lastActivity: 500_000_000) == 1_500_000_000)
    }

    @Test func anIdleConnectionIsClosed() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config { $0.connectionIdleTimeoutSeconds = 0.5 })
        let idle = try await h.connect()
        // Silent with nothing in flight: the daemon closes it — the read ends (EOF), it does not time out.
        #expect(try await onThread { try idle.readLineBlocking() } == nil)
        await h.stop()
    }

    @Test func zeroMeansNeverAndAReloadAppliesToNewConnections() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config { $0.connectionIdleTimeoutSeconds = 0 })
        let before = try await h.connect()
        #expect(try await before.call("health")["status"]?.stringValue == "ok")  // accepted before the reload
        var c = h.daemon.config
        c.connectionIdleTimeoutSeconds = 0.5
        #expect(h.daemon.reload(c).isEmpty)
        let after = try await h.connect()
        // The new connection gets the new time-out and is closed; the old one (no time-out) stays.
        #expect(try await onThread { try after.readLineBlocking() } == nil)
        #expect(try await before.call("health")["status"]?.stringValue == "ok")
        await h.stop()
    }
}
