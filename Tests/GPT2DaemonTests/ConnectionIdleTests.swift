// connection_idle_timeout_s: a connection that sends nothing with nothing in flight is closed by the
// daemon; one that keeps talking is not; the setting is live (applies to new connections).
import Foundation
import Testing
import GPT2Wire
@testable import GPT2Daemon

@Suite struct ConnectionIdleTests {
    @Test func anIdleConnectionIsClosedAndABusyOneIsNot() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config { $0.connectionIdleTimeoutSeconds = 1 })
        let idle = try await h.connect()
        let talker = try await h.connect()
        // The talker keeps sending for 2.5 time-outs; every request is answered on the same connection.
        let start = Date()
        var answered = 0
        while Date().timeIntervalSince(start) < 2.5 {
            _ = try await talker.call("health")
            answered += 1
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(answered > 10)
        // The silent one was closed by the daemon meanwhile: its read ends (EOF), it does not time out.
        let line = try await onThread { try idle.readLineBlocking() }
        #expect(line == nil)
        #expect(try await talker.call("health")["status"]?.stringValue == "ok")
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
