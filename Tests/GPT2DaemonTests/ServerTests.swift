// ServerTests — every op over the socket, bad input of every kind, pipelining and concurrency.

import Foundation
@testable import GPT2Daemon
import GPT2JSON
import GPT2Systemd
import GPT2Wire
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ServerTests {
    @Test func routerServesExactlyTheProtocolOps() {
        #expect(Router.v1.ops == WireOps.v1.map { $0.op }.sorted())
    }

    @Test func healthModelsStats() async throws {
        let c = try await DaemonHarness.shared().connect()
        let h = try await c.call("health", id: 1)
        #expect(h.string("status") == "ok")
        #expect(h.int("protocol_version") == 1)
        #expect((h["uptime_seconds"]?.doubleValue ?? -1) >= 0)

        let m = try ModelsResponse(from: try await c.call("models"))
        #expect(m.models.count == 1)
        #expect(m.models[0].name == "tiny")
        #expect(m.models[0].nLayer == 2 && m.models[0].nEmbd == 32 && m.models[0].nPositions == 128)
        #expect(m.models[0].vocabSize == 50257)

        let s = try StatsResponse(from: try await c.call("stats"))
        #expect(s.connections >= 1)
        #expect(s.requestsTotal >= 3)
    }

    @Test func tokenizeAndDetokenize() async throws {
        let c = try await DaemonHarness.shared().connect()
        let t = try TokenizeResponse(from: try await c.call("tokenize", ["model": "tiny", "text": "Hello world"]))
        #expect(t.tokens == [15496, 995])
        #expect(t.offsets == [TextSpan(start: 0, end: 5), TextSpan(start: 5, end: 11)])
        let d = try await c.call("detokenize", ["model": "tiny", "tokens": [15496, 995, 50256].jsonArray])
        #expect(d.string("text") == "Hello world<|endoftext|>")
        let d2 = try await c.call("detokenize", ["model": "tiny", "tokens": [15496, 995, 50256].jsonArray,
                                                 "skip_special_tokens": true])
        #expect(d2.string("text") == "Hello world")
        let e = try await c.callError("detokenize", ["model": "tiny", "tokens": [50257].jsonArray])
        #expect(e.code == .invalidField && e.field == "tokens")
        let empty = try TokenizeResponse(from: try await c.call("tokenize", ["model": "tiny", "text": ""]))
        #expect(empty.tokens.isEmpty)
    }

    @Test func sessionOps() async throws {
        let c = try await DaemonHarness.shared().connect()
        let opened = try SessionInfo(from: try await c.call("session.open", ["model": "tiny"]))
        #expect(opened.model == "tiny")
        #expect(opened.nTokens == 0)
        let info = try SessionInfo(from: try await c.call("session.info", ["session": .string(opened.session)]))
        #expect(info.session == opened.session)
        let list = try SessionListResponse(from: try await c.call("session.list"))
        #expect(list.sessions.contains { $0.session == opened.session })
        let closed = try SessionCloseResponse(from: try await c.call("session.close", ["session": .string(opened.session)]))
        #expect(closed.session == opened.session && closed.closed)
        let gone = try await c.callError("session.info", ["session": .string(opened.session)])
        #expect(gone.code == .unknownSession)
        let bad = try await c.callError("session.open", ["model": "nope"])
        #expect(bad.code == .unknownModel)
    }

    @Test func cancelUnknownTargetSaysFalse() async throws {
        let c = try await DaemonHarness.shared().connect()
        let r = try CancelResponse(from: try await c.call("cancel", ["target_id": "never-sent"]))
        #expect(r.cancelled == false)
        #expect(r.targetID == "never-sent")
    }

    /// Each bad line gets its error code (and the right id), and the connection keeps working.
    @Test(arguments: [
        ("{\"id\":1,\"op\":\"health\"", WireErrorCode.parseError, nil as RequestID?),
        ("[1,2]", .invalidRequest, nil),
        ("{\"id\":2}", .invalidRequest, 2),
        ("{\"id\":3,\"op\":7}", .invalidRequest, 3),
        ("{\"id\":{},\"op\":\"health\"}", .invalidRequest, nil),
        ("{\"id\":4,\"op\":\"fly\"}", .unknownOp, 4),
        ("{\"id\":5,\"op\":\"generate\",\"model\":\"nope\",\"prompt\":\"x\"}", .unknownModel, 5),
        ("{\"id\":6,\"op\":\"tokenize\",\"model\":\"nope\",\"text\":\"x\"}", .unknownModel, 6),
        ("{\"id\":7,\"op\":\"session.info\",\"session\":\"s-none\"}", .unknownSession, 7),
        ("{\"id\":8,\"op\":\"generate\",\"model\":\"tiny\",\"session\":\"s-none\",\"prompt\":\"x\"}", .unknownSession, 8),
        ("{\"id\":9,\"op\":\"tokenize\",\"model\":\"tiny\",\"text\":5}", .invalidField, 9),
        ("{\"id\":10,\"op\":\"generate\",\"model\":\"tiny\",\"prompt\":\"x\",\"top_p\":1.5}", .invalidField, 10),
        ("{\"id\":11,\"op\":\"generate\",\"model\":\"tiny\",\"prompt\":\"x\",\"max_new_tokens\":-1}", .invalidField, 11),
        ("{\"id\":12,\"op\":\"generate\",\"model\":\"tiny\",\"tokens\":[50257]}", .invalidField, 12),
        ("{\"id\":13,\"op\":\"generate\",\"model\":\"tiny\"}", .missingField, 13),
        ("{\"id\":14,\"op\":\"tokenize\",\"text\":\"x\"}", .missingField, 14),
        ("{\"id\":15,\"op\":\"generate\",\"model\":\"tiny\",\"prompt\":\"x\",\"max_new_tokens\":500}", .contextOverflow, 15),
        ("{\"id\":16,\"op\":\"score\",\"model\":\"tiny\",\"tokens\":[1],\"top_logprobs\":21}", .invalidField, 16),
    ])
    func badInputGetsItsErrorAndTheConnectionSurvives(line: String, code: WireErrorCode, id: RequestID?) async throws {
        let c = try await DaemonHarness.shared().connect()
        try await c.send(line)
        let r = try await c.readResponse()
        #expect(r.id == id)
        guard case .error(let e) = r.kind else {
            Issue.record("expected \(code.rawValue), got \(r)")
            return
        }
        #expect(e.code == code, "\(line) → \(e)")
        let h = try await c.call("health", id: "after")
        #expect(h.string("status") == "ok")
    }

    @Test func invalidUTF8AndOverlongLines() async throws {
        let c = try await DaemonHarness.shared().connect()
        // Invalid UTF-8 inside a string.
        try await c.sendRaw(Array("{\"id\":1,\"op\":\"tokenize\",\"model\":\"tiny\",\"text\":\"".utf8) + [0xC3, 0x28] + Array("\"}\n".utf8))
        var r = try await c.readResponse()
        guard case .error(let e1) = r.kind else { Issue.record("no error: \(r)"); return }
        #expect(e1.code == .invalidUTF8)
        #expect(r.id == nil)
        // A line over the limit, then a normal one on the same connection.
        let long = "{\"id\":2,\"op\":\"tokenize\",\"model\":\"tiny\",\"text\":\"" + String(repeating: "a", count: 1 << 20) + "\"}"
        try await c.send(long)
        r = try await c.readResponse()
        guard case .error(let e2) = r.kind else { Issue.record("no error: \(r)"); return }
        #expect(e2.code == .lineTooLong)
        #expect(r.id == nil)
        let ok = try await c.call("tokenize", id: 3, ["model": "tiny", "text": "Hello"])
        #expect(ok.ints("tokens") == [15496])
    }

    @Test func pipelinedRequestsAllAnsweredWithTheirIDs() async throws {
        let c = try await DaemonHarness.shared().connect()
        var batch = ""
        for i in 0..<20 {
            batch += "{\"id\":\(i),\"op\":\"tokenize\",\"model\":\"tiny\",\"text\":\"Hello world \(i)\"}\n"
        }
        batch += "{\"id\":\"h\",\"op\":\"health\"}\n"
        try await c.sendRaw(Array(batch.utf8))
        var seen = Set<RequestID>()
        for _ in 0..<21 {
            let r = try await c.readResponse()
            guard case .result(let body) = r.kind, let id = r.id else { Issue.record("bad line \(r)"); continue }
            seen.insert(id)
            if case .int(let i) = id {
                #expect(body.ints("tokens")?.first == 15496, "request \(i)")
            }
        }
        #expect(seen.count == 21)
    }

    /// Requests on one connection run concurrently: a quick op sent after a long generation is answered
    /// while that generation still streams.
    @Test func responsesInterleaveOnOneConnection() async throws {
        let c = try await DaemonHarness.shared().connect()
        // top_logprobs makes every step rank the whole vocabulary, so the long stream outlasts the quick
        // answer even on a fast, idle machine (the tiny model alone made 120 tokens in a few ms).
        try await c.send(#"{"id":"long","op":"generate","model":"tiny","prompt":"Once upon a time","max_new_tokens":120,"stream":true,"top_logprobs":20}"#)
        let first = try await c.readResponse()
        #expect(first.id == "long")
        try await c.send(#"{"id":"quick","op":"tokenize","model":"tiny","text":"Hello"}"#)
        // Read everything in arrival order until both requests ended.
        let lines = try await onThread { () throws -> [IncomingResponse] in
            var out: [IncomingResponse] = []
            var open: Set<RequestID> = ["long", "quick"]
            while !open.isEmpty {
                let r = try c.readResponseBlocking()
                out.append(r)
                if case .token = r.kind { continue }
                if let id = r.id { open.remove(id) }
            }
            return out
        }
        let quickAt = try #require(lines.firstIndex { $0.id == "quick" })
        let longEnd = try #require(lines.lastIndex { $0.id == "long" })
        #expect(quickAt < longEnd, "the quick answer waited for the whole generation")
        guard case .result = lines[quickAt].kind else { Issue.record("quick failed: \(lines[quickAt])"); return }
        guard case .result(let body) = lines[longEnd].kind else { Issue.record("long failed: \(lines[longEnd])"); return }
        #expect(try GenerateResponse(from: body).tokens.count == lines.filter { $0.id == "long" }.count)
    }

    @Test func halfClosedClientStillGetsItsAnswers() async throws {
        let c = try await DaemonHarness.shared().connect()
        // The last line has no newline: it is processed when the write side closes.
        try await c.sendRaw(Array("{\"id\":1,\"op\":\"health\"}\n{\"id\":2,\"op\":\"tokenize\",\"model\":\"tiny\",\"text\":\"Hi\"}".utf8))
        c.shutdownWrite()
        let lines = try await onThread { () throws -> [IncomingResponse] in
            var out: [IncomingResponse] = []
            while let l = try c.readLineBlocking() { out.append(try IncomingResponse.parse(l)) }
            return out
        }
        #expect(Set(lines.compactMap(\.id)) == [1, 2])
    }

    @Test func thirtyTwoConcurrentClients() async throws {
        let h = try await DaemonHarness.shared()
        let prompt = try Golden.ints("greedy.prompt")
        let expected = Array(try Golden.ints("greedy.output")[prompt.count...].prefix(8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<32 {
                group.addTask {
                    let c = try await h.connect()
                    if i % 2 == 0 {
                        let r = try await c.call("generate", id: .int(Int64(i)),
                                                 ["model": "tiny", "tokens": prompt.jsonArray, "max_new_tokens": 8])
                        #expect(r.ints("tokens") == expected, "client \(i)")
                    } else {
                        let r = try await c.call("tokenize", id: .int(Int64(i)), ["model": "tiny", "text": "Hello world"])
                        #expect(r.ints("tokens") == [15496, 995], "client \(i)")
                    }
                    c.close()
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func boundSocketIsMode0660AndStaleSocketsAreReplaced() async throws {
        let h = try await DaemonHarness.shared()
        var st = stat()
        #expect(lstat(h.socketPath, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)
        #expect(st.st_mode & S_IFMT == S_IFSOCK)

        // A leftover socket file (crashed run) is removed; anything else at the path is left alone.
        let stale = TestPaths.tempSocket("stale")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in stale.utf8.enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(r == 0)
        close(fd)
        try UnixServer.removeStaleSocket(at: stale)
        #expect(!FileManager.default.fileExists(atPath: stale))
        let regular = TestPaths.tempSocket("file")
        #expect(FileManager.default.createFile(atPath: regular, contents: Data("x".utf8)))
        defer { unlink(regular) }
        #expect(throws: (any Error).self) { try UnixServer.removeStaleSocket(at: regular) }
        #expect(FileManager.default.fileExists(atPath: regular))
    }

    @Test func anotherUserCannotUseMySession() async throws {
        // Connections from pid-fake clients: the filter gives every connection after the first uid 4242.
        let counter = Locked(0)
        let h = try await DaemonHarness.start(credentialsFilter: { real in
            let n = counter.withLock { n -> Int in
                n += 1
                return n
            }
            return n == 1 ? real : PeerCredentials(pid: real.pid, uid: 4242, gid: 4242)
        })
        defer { Task { await h.stop() } }
        let owner = try await h.connect()
        let s = try SessionInfo(from: try await owner.call("session.open", ["model": "tiny"]))
        let other = try await h.connect()
        let attempts: [(String, JSONObject)] = [
            ("session.info", [:]), ("session.close", [:]),
            ("generate", ["model": "tiny", "prompt": "Hello", "max_new_tokens": 2]),
        ]
        for (op, extra) in attempts {
            var fields = extra
            fields["session"] = .string(s.session)
            let e = try await other.callError(op, fields)
            #expect(e.code == .sessionForbidden, "\(op): \(e)")
        }
        let list = try SessionListResponse(from: try await other.call("session.list"))
        #expect(list.sessions.isEmpty)
        // The owner still has it.
        let info = try SessionInfo(from: try await owner.call("session.info", ["session": .string(s.session)]))
        #expect(info.session == s.session)
    }
}
