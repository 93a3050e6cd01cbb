// Durable sessions (issue #15 point 1) above the database: the store submits every change to its
// journal and a failed write undoes it; restore loads what fits and removes what expired; and an
// in-process daemon with a state folder, stopped and started again, continues a session exactly as
// a daemon that never stopped (the real binary under SIGKILL: scripts/session_durability.py).
import Foundation
import GPT2JSON
import GPT2Wire
import Logging
import Testing
@testable import GPT2Daemon

@Suite struct DurableSessionStoreTests {
    let owner = Principal.unixUser(uid: 1000)
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func store(_ journal: SessionJournal, idleTimeout: Double = 600) -> SessionStore {
        SessionStore(models: ["m"], maxSessions: 8, idleTimeout: idleTimeout, journal: journal)
    }

    @Test func openReleaseAndCloseAreWrittenBeforeTheirTicketsComplete() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = SessionJournal(database: try SessionDatabase.open(directory: dir, logger: quiet).database, logger: quiet)
        let sessions = store(journal)
        let (a, openA) = try sessions.openWriting(model: "m", owner: owner)
        let (b, openB) = try sessions.openWriting(model: "m", owner: owner)
        let written = [try #require(openA), try #require(openB)]
        for t in written { #expect(await outcome(t) == nil) }
        let lease = try sessions.acquire(a.id, owner: owner, model: "m")
        let released = try #require(sessions.release(lease, tokens: [5, 6, 7], cache: nil))
        #expect(await outcome(released) == nil)
        #expect(try sessions.info(a.id, owner: owner).busy == false)
        let closeB = try #require(try sessions.closeWriting(b.id, owner: owner).write)
        #expect(await outcome(closeB) == nil)
        journal.close()
        let reread = try SessionDatabase.open(directory: dir, logger: quiet)
        defer { reread.database.close() }
        #expect(reread.records.map(\.id) == [a.id])
        #expect(reread.records.first?.tokens == [5, 6, 7])
        #expect(reread.records.first?.createdAt == a.createdAt)
    }

    @Test func aFailedWriteLeavesTheSessionAsItWas() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A full disk: 24 pages of 4 KiB hold small rows, not a 200,000-token history.
        let journal = SessionJournal(database: try SessionDatabase.open(directory: dir, maxPageCount: 24, logger: quiet).database, logger: quiet)
        defer { journal.close() }
        let sessions = store(journal)
        let (a, openWrite) = try sessions.openWriting(model: "m", owner: owner)
        let opened = try #require(openWrite)
        #expect(await outcome(opened) == nil)
        var lease = try sessions.acquire(a.id, owner: owner, model: "m")
        let first = try #require(sessions.release(lease, tokens: [1, 2], cache: nil))
        #expect(await outcome(first) == nil)
        lease = try sessions.acquire(a.id, owner: owner, model: "m")
        let failed = try #require(sessions.release(lease, tokens: [1, 2] + Array(repeating: 3, count: 200_000), cache: nil))
        #expect(await outcome(failed)?.code == .storageUnavailable)
        let info = try sessions.info(a.id, owner: owner)
        #expect(info.tokenCount == 2 && !info.busy, "the history before the failed request, idle again")
        // What session.open's handler does when its write fails: the new session is forgotten …
        sessions.forgetFailedOpen(try sessions.open(model: "m", owner: owner).id)
        #expect(sessions.count == 1)
        // … and session.close's, when its delete fails: the session is open again, as it was.
        let (closed, _) = try sessions.closeWriting(a.id, owner: owner)
        #expect(sessions.count == 0)
        sessions.reopenAfterFailedClose(closed)
        #expect(try sessions.info(a.id, owner: owner).tokenCount == 2)
    }

    @Test func restoreLoadsWhatFitsAndDeletesWhatExpired() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = 2_000_000_000.0
        func rec(_ id: String, model: String = "m", idle: Double, tokens: [Int32]) -> SessionRecord {
            SessionRecord(id: id, ownerUID: 1000, model: model, createdAt: now - idle - 5, lastUsedAt: now - idle, tokens: tokens)
        }
        let records = [rec("s-ok", idle: 30, tokens: [1, 2, 3]), rec("s-old", idle: 700, tokens: [1]),
                       rec("s-vocab", idle: 1, tokens: [99]), rec("s-long", idle: 1, tokens: Array(repeating: 1, count: 11)),
                       rec("s-other", model: "unloaded", idle: 1, tokens: [1])]
        let opened = try SessionDatabase.open(directory: dir, logger: quiet)
        try opened.database.apply(records.map { .put($0) })
        let journal = SessionJournal(database: opened.database, logger: quiet)
        let sessions = store(journal)
        let counts = sessions.restore(records, limits: ["m": (vocab: 50, positions: 10)], wallNow: now, logger: quiet)
        #expect(counts == SessionStore.RestoreCounts(restored: 1, expired: 1, unfit: 2, otherModel: 1))
        let ok = try sessions.info("s-ok", owner: owner)
        #expect(ok.tokenCount == 3 && ok.createdAt == now - 35 && ok.lastUsedAt == now - 30)
        // Its idle time counts from its last use: 600 - 30 s more of it expire it.
        #expect(sessions.expireIdle(now: Engine.now() + 560) == 0)
        #expect(sessions.expireIdle(now: Engine.now() + 575) == 1)
        journal.close()
        let reread = try SessionDatabase.open(directory: dir, logger: quiet)
        defer { reread.database.close() }
        #expect(reread.records.map(\.id) == ["s-other"], "expired, unfit and expired-after-restore rows are deleted; another model's stays")
    }
}

@Suite(.serialized) struct DurableSessionDaemonTests {
    /// Opens a session, generates in it, stops the daemon; a new daemon on the same folder has the
    /// session and continues it with the same tokens as a daemon that never stopped.
    @Test func aSessionSurvivesARestartAndContinuesIdentically() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = DaemonHarness.config { $0.stateDir = .path(dir) }
        let first = [464, 3290, 318], more = [11, 290]
        func generate(_ c: TestClient, _ session: String, _ tokens: [Int], id: Int64) async throws -> [Int] {
            try GenerateResponse(from: try await c.call("generate", id: .int(id), [
                "model": "tiny", "session": .string(session), "tokens": tokens.jsonArray, "max_new_tokens": 6,
            ])).tokens
        }

        // Without a restart (persistence off): the reference.
        let plain = try await DaemonHarness.start()
        let pc = try await plain.connect()
        let ps = try SessionInfo(from: try await pc.call("session.open", ["model": "tiny"])).session
        let reference = [try await generate(pc, ps, first, id: 1), try await generate(pc, ps, more, id: 2)]
        pc.close()
        await plain.stop()

        let before = try await DaemonHarness.start(config)
        let c1 = try await before.connect()
        let s = try SessionInfo(from: try await c1.call("session.open", ["model": "tiny"]))
        let gone = try SessionInfo(from: try await c1.call("session.open", ["model": "tiny"]))
        _ = try await c1.call("session.close", ["session": .string(gone.session)])
        #expect(try await generate(c1, s.session, first, id: 1) == reference[0])
        c1.close()
        await before.stop()

        let after = try await DaemonHarness.start(config)
        let c2 = try await after.connect()
        let info = try SessionInfo(from: try await c2.call("session.info", ["session": .string(s.session)]))
        #expect(info.nTokens == first.count + 6 && info.createdAt == s.createdAt)
        #expect(try await c2.callError("session.info", ["session": .string(gone.session)]).code == .unknownSession)
        #expect(try await generate(c2, s.session, more, id: 2) == reference[1])
        c2.close()
        await after.stop()
    }

    /// A state folder that cannot be created: the daemon starts, session changes answer
    /// storage_unavailable, and requests without a session are served.
    @Test func anUnusableStateFolderFailsOnlySessionChanges() async throws {
        let daemon = try await DaemonHarness.start(DaemonHarness.config { $0.stateDir = .path("/proc/gpt2d-state") })
        let c = try await daemon.connect()
        let e = try await c.callError("session.open", ["model": "tiny"])
        #expect(e.code == .storageUnavailable)
        let listed = try await c.call("session.list", [:])
        #expect(listed["sessions"]?.arrayValue?.isEmpty == true, "the session that failed to open is not there")
        let plain = try GenerateResponse(from: try await c.call("generate", id: 1, ["model": "tiny", "tokens": [464].jsonArray, "max_new_tokens": 2]))
        #expect(plain.tokens.count == 2)
        c.close()
        await daemon.stop()
    }
}
