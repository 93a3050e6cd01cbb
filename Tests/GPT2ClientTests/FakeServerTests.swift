// GPT2Client against a scripted fake daemon: wire behaviour the real one rarely shows on demand
// (lines of different requests interleaved, answers out of order, garbage, a dropped connection).

import Foundation
import GPT2Client
import GPT2Wire
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket that accepts one connection and runs `script` on it, on its own thread.
final class FakeServer: @unchecked Sendable {
    let path = Paths.tempSocket()
    private let listenFD: Int32

    final class Peer {
        let fd: Int32
        private var buffer: [UInt8] = []
        init(fd: Int32) { self.fd = fd }

        /// The next request line as a JSON object (nil at EOF).
        func readRequest() -> [String: Any]? {
            while true {
                if let nl = buffer.firstIndex(of: 0x0A) {
                    let line = Array(buffer[..<nl])
                    buffer.removeSubrange(...nl)
                    return (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return nil }
                buffer.append(contentsOf: chunk[..<n])
            }
        }

        func send(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }

    init(script: @escaping @Sendable (Peer) -> Void) throws {
        listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(listenFD, 4) == 0 else { throw HarnessError(description: "cannot listen on \(path)") }
        let fd = listenFD
        Thread {
            let conn = accept(fd, nil, nil)
            guard conn >= 0 else { return }
            script(Peer(fd: conn))
            close(conn)
        }.start()
    }

    deinit {
        close(listenFD)
        unlink(path)
    }
}

private func json(_ id: Any) -> String {
    if let s = id as? String { return "\"\(s)\"" }
    return "\(id)"
}

private func tokenLine(_ id: Any, _ index: Int, _ token: Int, _ text: String) -> String {
    "{\"id\":\(json(id)),\"type\":\"token\",\"index\":\(index),\"token\":\(token),\"text\":\"\(text)\"}"
}

private func resultLine(_ id: Any, _ text: String, _ tokens: [Int]) -> String {
    "{\"id\":\(json(id)),\"type\":\"result\",\"text\":\"\(text)\",\"tokens\":\(tokens),\"finish_reason\":\"length\","
        + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":\(tokens.count),\"cached_tokens\":0},"
        + "\"timing\":{\"queue_ms\":0,\"prompt_ms\":0,\"completion_ms\":0,\"total_ms\":0}}"
}

@Suite("GPT2Client against a scripted fake daemon")
struct FakeServerTests {
    @Test func interleavedLinesAreMatchedByID() async throws {
        let server = try FakeServer { peer in
            guard let a = peer.readRequest(), let b = peer.readRequest(), let h = peer.readRequest() else { return }
            // Answer the health request first, then interleave the two streams, finishing B before A.
            peer.send("{\"id\":\(json(h["id"]!)),\"type\":\"result\",\"status\":\"ok\",\"protocol_version\":1,\"uptime_seconds\":1}")
            let (ida, idb) = (a["id"]!, b["id"]!)
            let textA = a["prompt"] as? String == "A" ? ["a0", "a1"] : ["b0", "b1"]
            let textB = textA == ["a0", "a1"] ? ["b0", "b1"] : ["a0", "a1"]
            peer.send(tokenLine(ida, 0, 1, textA[0]))
            peer.send(tokenLine(idb, 0, 2, textB[0]))
            peer.send(tokenLine(idb, 1, 3, textB[1]))
            peer.send(tokenLine(ida, 1, 4, textA[1]))
            peer.send(resultLine(idb, textB.joined(), [2, 3]))
            peer.send(resultLine(ida, textA.joined(), [1, 4]))
            _ = peer.readRequest()  // keep the connection until the client closes it
        }
        let c = GPT2Client(socketPath: server.path, timeout: .seconds(TestTimeScale.seconds(20)))
        try await c.connect()
        let sa = c.generateStream(GenerateRequest(model: "m", input: .text("A")))
        try await Task.sleep(for: .milliseconds(50))  // fix the order in which the requests are sent
        let sb = c.generateStream(GenerateRequest(model: "m", input: .text("B")))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await c.health().status == "ok")
        func collect(_ s: AsyncThrowingStream<GenerationUpdate, any Error>) async throws -> ([String], GenerateResponse?) {
            var texts: [String] = []
            var done: GenerateResponse?
            for try await u in s {
                switch u {
                case .token(let t): texts.append(t.text)
                case .done(let r): done = r
                }
            }
            return (texts, done)
        }
        let (ta, ra) = try await collect(sa)
        let (tb, rb) = try await collect(sb)
        #expect(ta == ["a0", "a1"])
        #expect(tb == ["b0", "b1"])
        #expect(ra?.text == "a0a1")
        #expect(rb?.text == "b0b1")
        await c.close()
    }

    @Test func clientIDsAreUniqueAndErrorsCarryTheField() async throws {
        let server = try FakeServer { peer in
            var seen = Set<String>()
            for _ in 0..<3 {
                guard let r = peer.readRequest(), let id = r["id"] as? String else { return }
                seen.insert(id)
                peer.send("{\"id\":\"\(id)\",\"type\":\"error\",\"error\":{\"code\":\"missing_field\",\"message\":\"m\",\"field\":\"model\"}}")
            }
            peer.send(seen.count == 3 ? "{\"id\":null,\"type\":\"error\",\"error\":{\"code\":\"parse_error\",\"message\":\"ignored\"}}" : "")
            _ = peer.readRequest()
        }
        let c = GPT2Client(socketPath: server.path, timeout: .seconds(TestTimeScale.seconds(20)))
        for _ in 0..<3 {
            await #expect(throws: GPT2ClientError.daemon(WireError(.missingField, "m", field: "model"))) {
                try await c.models()
            }
        }
        await c.close()
    }

    @Test func garbageFromTheDaemonIsAProtocolViolation() async throws {
        let server = try FakeServer { peer in
            _ = peer.readRequest()
            peer.send("this is not json")
            _ = peer.readRequest()
        }
        let c = GPT2Client(socketPath: server.path, timeout: .seconds(TestTimeScale.seconds(20)))
        do {
            _ = try await c.health()
            Issue.record("expected protocolViolation")
        } catch let e as GPT2ClientError {
            guard case .protocolViolation = e else { Issue.record("unexpected \(e)"); return }
        }
        #expect(await !c.isConnected)
    }

    @Test func wrongResultShapeIsAProtocolViolation() async throws {
        let server = try FakeServer { peer in
            guard let r = peer.readRequest() else { return }
            peer.send("{\"id\":\(json(r["id"]!)),\"type\":\"result\",\"status\":\"ok\"}")
            _ = peer.readRequest()
        }
        let c = GPT2Client(socketPath: server.path, timeout: .seconds(TestTimeScale.seconds(20)))
        do {
            _ = try await c.health()
            Issue.record("expected protocolViolation")
        } catch let e as GPT2ClientError {
            guard case .protocolViolation = e else { Issue.record("unexpected \(e)"); return }
        }
        await c.close()
    }

    @Test func droppedConnectionFailsPendingRequestsAndReconnects() async throws {
        let server = try FakeServer { peer in
            _ = peer.readRequest()  // read the request, never answer, hang up
        }
        let c = GPT2Client(socketPath: server.path, timeout: .seconds(TestTimeScale.seconds(20)))
        await #expect(throws: GPT2ClientError.connectionClosed) { try await c.stats() }
        #expect(await !c.isConnected)
        // The next request reconnects; the fake server accepts only once, so it is refused or hangs up.
        do {
            _ = try await c.health(timeout: .seconds(2))
            Issue.record("expected an error")
        } catch let e as GPT2ClientError {
            #expect(e != .protocolViolation(""))
        }
    }

    @Test func streamDroppedEarlySendsCancel() async throws {
        let cancelTarget = LockedValue<String?>(nil)
        let server = try FakeServer { peer in
            guard let r = peer.readRequest(), let id = r["id"] as? String else { return }
            #expect(r["stream"] as? Bool == true)
            peer.send(tokenLine(id, 0, 1, "x"))
            guard let cancel = peer.readRequest() else { return }
            #expect(cancel["op"] as? String == "cancel")
            cancelTarget.set(cancel["target_id"] as? String)
            peer.send("{\"id\":\"\(id)\",\"type\":\"error\",\"error\":{\"code\":\"cancelled\",\"message\":\"c\"}}")
            peer.send("{\"id\":\(json(cancel["id"]!)),\"type\":\"result\",\"target_id\":\"\(id)\",\"cancelled\":true}")
            _ = peer.readRequest()
        }
        let c = GPT2Client(socketPath: server.path, timeout: .seconds(TestTimeScale.seconds(20)))
        for try await u in c.generateStream(GenerateRequest(model: "m", input: .text("p")), id: "g1") {
            if case .token = u { break }
        }
        let got = try await eventually(timeout: 5) { cancelTarget.get() != nil }
        #expect(got)
        #expect(cancelTarget.get() == "g1")
        await c.close()
    }
}

