// Sessions with a life cycle in an in-process daemon (issue #15 point 2): a fork's KV cache shares
// the source's blocks, so its first request reuses the whole cached history (`usage.cached_tokens`)
// and continues exactly as the source does; the per-user token quota answers quota_exceeded before
// any compute and leaves the session as it was; a name finds its session again after a restart.
import Foundation
import GPT2JSON
import GPT2Wire
import Testing
@testable import GPT2Daemon

@Suite(.serialized) struct SessionLifecycleDaemonTests {
    func generate(_ c: TestClient, _ session: String, _ tokens: [Int], maxNew: Int = 6, id: Int64) async throws -> GenerateResponse {
        try GenerateResponse(from: try await c.call("generate", id: .int(id), [
            "model": "tiny", "session": .string(session), "tokens": tokens.jsonArray, "max_new_tokens": .int(Int64(maxNew)),
            "ignore_eos": true,  // exact history lengths
        ]))
    }

    @Test func aForkSharesTheSourcesCacheAndContinuesAsTheSourceDoes() async throws {
        let daemon = try await DaemonHarness.start()
        let c = try await daemon.connect()
        // 40 + 6 tokens: the cache holds 45 positions, one full block of 32 and a partly filled one.
        let prompt = (0..<40).map { 100 + $0 * 37 }, more = [11, 290, 262]
        let s = try SessionInfo(from: try await c.call("session.open", ["model": "tiny", "name": "main"]))
        #expect(s.created == true && s.name == "main")
        _ = try await generate(c, s.session, prompt, id: 1)
        let source = try SessionInfo(from: try await c.call("session.info", ["session": .string(s.session)]))
        let f = try SessionInfo(from: try await c.call("session.fork", ["session": .string(s.session), "name": "branch"]))
        #expect(f.created == true && f.session != s.session && f.name == "branch" && f.model == "tiny")
        #expect(f.nTokens == prompt.count + 6 && f.bytes == f.nTokens * 4)
        #expect(f.kvBytes == source.kvBytes && (f.kvBytes ?? 0) > 0)
        let store = daemon.daemon.engine.sessions
        let forkCache = store.lock.withLock { store.sessions[f.session]?.cache }
        #expect(forkCache?.count == f.nTokens - 1)
        #expect(forkCache?.sharedBlocks == 1, "the full block is shared, the partly filled one copied")

        let onFork = try await generate(c, f.session, more, id: 2)
        let onSource = try await generate(c, s.session, more, id: 3)
        #expect(onFork.tokens == onSource.tokens)
        #expect(onFork.usage.cachedTokens == f.nTokens - 1, "no prefill: every cached position of the source is reused")
        #expect(onSource.usage.cachedTokens == f.nTokens - 1)
        let list = try SessionListResponse(from: try await c.call("session.list"))
        #expect(list.sessions.compactMap(\.name).sorted() == ["branch", "main"])
        let totals = try #require(list.totals)
        #expect(totals.sessions == 2 && totals.nTokens == 2 * (f.nTokens + 3 + 6) && totals.bytes == totals.nTokens * 4)
        #expect(totals.kvBytes == list.sessions.reduce(0) { $0 + ($1.kvBytes ?? 0) })
        #expect(totals.maxTokens == DaemonSettings.maxSessionTokensPerUser.defaultValue)
        // (A busy source is refused with session_busy: SessionLifecycleTests.)
        #expect(try await c.callError("session.fork", ["session": "s-nothing"]).code == .unknownSession)
        c.close()
        await daemon.stop()
    }

    @Test func theTokenQuotaAndNamesHoldAcrossARestart() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = DaemonHarness.config {
            $0.stateDir = .path(dir)
            $0.maxSessionTokensPerUser = 20
        }
        let first = try await DaemonHarness.start(config)
        let c1 = try await first.connect()
        let chat = try SessionInfo(from: try await c1.call("session.open", ["model": "tiny", "name": "chat"]))
        _ = try await generate(c1, chat.session, [464, 3290, 318, 11, 290], id: 1)  // 11 tokens
        // (Before the refused generate: its error line comes before its lease's write ends.)
        #expect(try await c1.callError("session.fork", ["session": .string(chat.session)]).code == .quotaExceeded)
        // 11 + 3 + 10 may reach 24 > 20: refused before any compute, the session as it was.
        let refused = try await c1.callError("generate", id: 2, [
            "model": "tiny", "session": .string(chat.session), "tokens": [1, 2, 3].jsonArray, "max_new_tokens": 10,
        ])
        #expect(refused.code == .quotaExceeded && refused.field == "session")
        #expect(refused.message.contains("max_session_tokens_per_user = 20"))
        #expect(try SessionInfo(from: try await c1.call("session.info", ["session": .string(chat.session)])).nTokens == 11)
        let totals = try #require(try SessionListResponse(from: try await c1.call("session.list")).totals)
        #expect(totals.sessions == 1 && totals.nTokens == 11 && totals.maxTokens == 20)
        // A closed session's row is gone from the file when its reply arrives.
        let gone = try SessionInfo(from: try await c1.call("session.open", ["model": "tiny", "name": "scratch"]))
        _ = try await c1.call("session.close", ["session": .string(gone.session)])
        #expect(try SessionDatabaseTests.sessionRows(in: dir + "/" + SessionDatabase.fileName) == 1)
        c1.close()
        await first.stop()

        let second = try await DaemonHarness.start(config)
        let c2 = try await second.connect()
        let found = try SessionInfo(from: try await c2.call("session.open", ["model": "tiny", "name": "chat"]))
        #expect(found.created == false && found.session == chat.session && found.nTokens == 11)
        #expect(try await generate(c2, chat.session, [13], maxNew: 2, id: 3).tokens.count == 2)
        let scratch = try SessionInfo(from: try await c2.call("session.open", ["model": "tiny", "name": "scratch"]))
        #expect(scratch.created == true && scratch.session != gone.session)
        c2.close()
        await second.stop()
    }
}
