// The JSON-lines Unix socket server driven only through the `Listener` protocol, as the daemon does:
// serve, stop accepting, close when idle, run() returns, shut down.
import Foundation
import Logging
import Testing
import GPT2JSON
@testable import GPT2Daemon

@Suite struct ListenerTests {
    @Test func theUnixSocketServerIsAListener() async throws {
        let e = try makeEngine()
        let state = ServerState(engine: e, maxLineBytes: 1 << 20, logger: Logger(label: "listener-test"))
        let path = TestPaths.tempSocket("l")
        let listener: any Listener = try await UnixServer.bind(.path(path), state: state)
        let run = Task { await listener.run() }
        let c = try await TestClient.connect(path)
        let health = try await c.call("health")
        #expect(health["status"] == .string("ok"))
        #expect(listener.openConnections == 1)
        await listener.stopAccepting()
        #expect(!FileManager.default.fileExists(atPath: path))  // the socket file we bound is gone
        listener.closeWhenIdle()
        await run.value  // returns once every connection has closed
        #expect(listener.openConnections == 0)
        await listener.shutdown()
        await e.shutdown(drain: true)
    }
}
