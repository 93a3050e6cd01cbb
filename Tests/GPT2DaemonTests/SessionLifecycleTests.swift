// Sessions with a life cycle users control (issue #15 point 2), at the store: names (open or create,
// per owner, one model), forks (a copy of the history; busy sources, name clashes and limits refused),
// the per-user token quota (counted with running requests' reservations, refused before any change),
// per-session idle time-outs and the totals session.list reports. With a journal: names, time-outs,
// forks and bearer-token principals' sessions are written and restored; closed and expired sessions'
// rows are gone from the file, also after a restart.
import Foundation
import Logging
import Testing
@testable import GPT2Daemon

@Suite struct SessionLifecycleTests {
    let alice = Principal.unixUser(uid: 1000), bob = Principal.unixUser(uid: 1001), bot = Principal.token(name: "ci-bot")
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func store(tokens: Int = .max, perUser: Int = .max, idle: Double = 600, journal: SessionJournal? = nil) -> SessionStore {
        SessionStore(models: ["m", "n"], maxSessions: 8, maxSessionsPerUser: perUser, maxSessionTokensPerUser: tokens,
                     idleTimeout: idle, journal: journal)
    }

    /// Whether `ticket` (which must exist: there is a journal) completed with the change written.
    func written(_ ticket: WriteTicket?) async throws -> Bool {
        let t = try #require(ticket)
        return await outcome(t) == nil
    }

    /// Gives session `id` a history of `tokens` through a lease, as a request would.
    func fill(_ s: SessionStore, _ id: String, owner: Principal, model: String = "m", _ tokens: [Int32]) throws {
        s.release(try s.acquire(id, owner: owner, model: model), tokens: tokens, cache: nil)
    }

    @Test func aNameOpensOrCreatesTheOwnersSessionOnly() throws {
        let s = store()
        let first = try s.openOrCreate(model: "m", owner: alice, name: "chat")
        #expect(first.created && first.snapshot.name == "chat")
        try fill(s, first.snapshot.id, owner: alice, [1, 2, 3])
        let again = try s.openOrCreate(model: "m", owner: alice, name: "chat", idleTimeout: 5)
        #expect(!again.created && again.write == nil)
        #expect(again.snapshot.id == first.snapshot.id && again.snapshot.tokenCount == 3)
        #expect(again.snapshot.idleTimeout == 600, "an existing session keeps its own time-out")
        // Another owner's "chat" is another session; an unnamed open never finds a named one.
        let bobs = try s.openOrCreate(model: "m", owner: bob, name: "chat")
        #expect(bobs.created && bobs.snapshot.id != first.snapshot.id)
        #expect(try s.openOrCreate(model: "m", owner: alice).snapshot.id != first.snapshot.id)
        // The same owner's name on another model is refused, not a second session.
        #expect(throws: EngineError(.invalidField, "this user's session named 'chat' (\(first.snapshot.id)) is on model 'm', not 'n'", field: "name")) {
            try s.openOrCreate(model: "n", owner: alice, name: "chat")
        }
        #expect(s.count == 3)
        // Once closed, the name is free again.
        _ = try s.close(first.snapshot.id, owner: alice)
        let reborn = try s.openOrCreate(model: "n", owner: alice, name: "chat")
        #expect(reborn.created && reborn.snapshot.tokenCount == 0 && reborn.snapshot.model == "n")
    }

    @Test func anOwnIdleTimeOutIsBoundedByTheDaemonsAndExpiresTheSessionAlone() throws {
        let s = store(idle: 60)
        #expect(throws: EngineError(.invalidField, "field 'idle_timeout_s': expected a number in (0, 60] (the daemon's session_idle_timeout_s), got 61",
                                    field: "idle_timeout_s")) {
            try s.openOrCreate(model: "m", owner: alice, idleTimeout: 61)
        }
        let short = try s.openOrCreate(model: "m", owner: alice, idleTimeout: 5).snapshot
        let long = try s.open(model: "m", owner: alice)
        #expect(short.idleTimeout == 5 && long.idleTimeout == 60)
        let now = Engine.now()
        #expect(s.expireIdle(now: now + 4) == 0)
        #expect(s.expireIdle(now: now + 6) == 1)
        #expect(s.list(owner: alice).map(\.id) == [long.id])
    }

    @Test func aForkCopiesTheHistoryUnderTheSameOwnerAndModel() throws {
        let s = store(perUser: 3)
        let source = try s.openOrCreate(model: "n", owner: alice, name: "main", idleTimeout: 30).snapshot
        try fill(s, source.id, owner: alice, model: "n", [5, 6, 7, 8])
        let fork = try s.forkWriting(source.id, owner: alice, name: "branch").snapshot
        #expect(fork.id != source.id && fork.model == "n" && fork.name == "branch" && fork.tokenCount == 4 && fork.idleTimeout == 30)
        // Independent afterwards: the fork grows, the source stays.
        try fill(s, fork.id, owner: alice, model: "n", [5, 6, 7, 8, 9])
        #expect(try s.info(source.id, owner: alice).tokenCount == 4 && s.count == 2)
        #expect(s.list(owner: alice).compactMap(\.name).sorted() == ["branch", "main"])

        #expect(throws: EngineError(.sessionForbidden, "session '\(source.id)' belongs to another user", field: "session")) {
            try s.forkWriting(source.id, owner: bob)
        }
        #expect(throws: EngineError(.invalidField, "this user already has a session named 'main' (\(source.id))", field: "name")) {
            try s.forkWriting(fork.id, owner: alice, name: "main")
        }
        let lease = try s.acquire(source.id, owner: alice, model: "n")
        #expect(throws: EngineError(.sessionBusy, "session '\(source.id)' has a request running", field: "session")) {
            try s.forkWriting(source.id, owner: alice)
        }
        s.release(lease, tokens: [5, 6, 7, 8], cache: nil)
        _ = try s.forkWriting(source.id, owner: alice)
        #expect(throws: EngineError.self) { try s.forkWriting(source.id, owner: alice) }  // the fourth: max_sessions_per_user
        #expect(s.count == 3)
    }

    @Test func theTokenQuotaRefusesGrowthBeforeAnythingChanges() throws {
        let s = store(tokens: 10)
        let a = try s.open(model: "m", owner: alice), b = try s.open(model: "m", owner: alice)
        try fill(s, a.id, owner: alice, [1, 2, 3, 4])
        // A running request on b may reach 6 tokens: counted while it runs.
        let lease = try s.acquire(b.id, owner: alice, model: "m")
        try s.reserve(lease, tokens: 6)
        let onA = try s.acquire(a.id, owner: alice, model: "m")
        do {
            try s.reserve(onA, tokens: 5)
            Issue.record("4 + 6 + 1 tokens passed a quota of 10")
        } catch {
            #expect(error.code == .quotaExceeded && error.message.contains("max_session_tokens_per_user = 10"))
        }
        s.release(onA, tokens: [1, 2, 3, 4], cache: nil)
        #expect(throws: EngineError.self) { try s.forkWriting(a.id, owner: alice) }  // 4 + 6 + 4 > 10
        // b's request ended with 3 tokens: its reservation is gone, its history counts.
        s.release(lease, tokens: [9, 9, 9], cache: nil)
        let u = s.usage(owner: alice)
        #expect(u == SessionUsage(sessions: 2, maxSessions: 8, tokens: 7, maxTokens: 10, historyBytes: 28, kvBytes: 0))
        let again = try s.acquire(a.id, owner: alice, model: "m")
        try s.reserve(again, tokens: 7)
        s.release(again, tokens: [1, 2, 3, 4, 5, 6, 7], cache: nil)
        // Other users have their own quota.
        let bobs = try s.open(model: "m", owner: bob)
        try s.reserve(try s.acquire(bobs.id, owner: bob, model: "m"), tokens: 10)
        #expect(s.usage(owner: alice).tokens == 10)
    }

    @Test func namesTimeOutsForksAndTokenPrincipalsAreWrittenAndRestored() async throws {
        let dir = temporaryStateFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var kept: [String] = []
        do {
            let journal = SessionJournal(database: try SessionDatabase.open(directory: dir, logger: quiet).database, logger: quiet)
            let s = store(journal: journal)
            let chat = try s.openOrCreate(model: "m", owner: bot, name: "chat", idleTimeout: 300)
            #expect(try await written(chat.write))
            let lease = try s.acquire(chat.snapshot.id, owner: bot, model: "m")
            #expect(try await written(s.release(lease, tokens: [4, 5, 6], cache: nil)))
            let fork = try s.forkWriting(chat.snapshot.id, owner: bot, name: "branch")
            #expect(try await written(fork.write))
            let closed = try s.openWriting(model: "m", owner: alice)
            #expect(try await written(closed.write))
            #expect(try await written(try s.closeWriting(closed.snapshot.id, owner: alice).write))
            let expiring = try s.openOrCreate(model: "m", owner: alice, idleTimeout: 1)
            #expect(try await written(expiring.write))
            #expect(s.expireIdle(now: Engine.now() + 2) == 1)
            kept = [chat.snapshot.id, fork.snapshot.id]
            journal.close()
        }
        let path = dir + "/" + SessionDatabase.fileName
        #expect(try SessionDatabaseTests.sessionRows(in: path) == 2, "the closed and the expired session's rows are gone")
        let reread = try SessionDatabase.open(directory: dir, logger: quiet)
        #expect(Set(reread.records.map(\.id)) == Set(kept))
        let restored = store(journal: SessionJournal(database: reread.database, logger: quiet))
        #expect(restored.restore(reread.records, limits: ["m": (vocab: 50, positions: 10)], logger: quiet).restored == 2)
        let chat = try restored.openOrCreate(model: "m", owner: bot, name: "chat")
        #expect(!chat.created && chat.snapshot.id == kept[0] && chat.snapshot.tokenCount == 3 && chat.snapshot.idleTimeout == 300)
        let branch = try restored.openOrCreate(model: "m", owner: bot, name: "branch")
        #expect(!branch.created && branch.snapshot.id == kept[1] && branch.snapshot.tokenCount == 3)
        #expect(throws: EngineError.self) { try restored.info(kept[0], owner: .unixUser(uid: 0)) }
        restored.journal?.close()
        #expect(try SessionDatabaseTests.sessionRows(in: path) == 2, "a restart brings back neither")
    }
}
