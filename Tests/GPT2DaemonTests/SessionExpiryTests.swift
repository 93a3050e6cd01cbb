// Idle expiry and the eviction order of the session store run on a clock that never jumps
// (Engine.now()): the wall-clock times are only what `session.info` reports.
import Foundation
import Testing
@testable import GPT2Daemon

@Suite struct SessionExpiryTests {
    let owner = Principal.unixUser(uid: 1000)

    @Test func idleSessionsExpireAfterTheTimeoutOnTheMonotonicClock() throws {
        let store = SessionStore(models: ["m"], maxSessions: 8, idleTimeout: 60)
        let a = try store.open(model: "m", owner: owner)
        let opened = Engine.now()
        #expect(store.expireIdle(now: opened + 59) == 0)
        #expect(try store.info(a.id, owner: owner).id == a.id)
        // A lease renews the session: expiry counts from its release.
        let s = try store.acquire(a.id, owner: owner, model: "m")
        #expect(store.expireIdle(now: opened + 3600) == 0, "a busy session never expires")
        store.release(s, tokens: [1, 2, 3], cache: nil)
        let released = Engine.now()
        #expect(store.expireIdle(now: released + 59) == 0)
        #expect(store.expireIdle(now: released + 61) == 1)
        #expect(throws: EngineError.self) { try store.info(a.id, owner: owner) }
    }

    @Test func reportedTimesAreWallClock() throws {
        let store = SessionStore(models: ["m"], maxSessions: 8, idleTimeout: 60)
        let before = Date().timeIntervalSince1970
        let a = try store.open(model: "m", owner: owner)
        #expect(a.createdAt >= before - 1 && a.createdAt <= Date().timeIntervalSince1970 + 1)
        #expect(a.lastUsedAt == a.createdAt)
    }
}
