// Per-user limits: the ledger's arithmetic on its own, then the engine and the session store with two
// principals — one user at its limit is refused with `overloaded` naming the limit, the other is served.
import Foundation
import Testing
import GPT2Core
import GPT2Wire
import GPT2TestSupport
@testable import GPT2Daemon

/// An engine over tiny-gpt2 (n_positions 128) with `configure` applied to its options, not started:
/// requests submitted before `start()` wait in the inbox, so a test fixes what is in flight.
func makeIdleEngine(_ configure: (inout EngineOptions) -> Void) throws -> Engine {
    var o = EngineOptions()
    o.threads = TestThreads.count  // one pool size for the whole run (GPT2TestSupport/TestThreads.swift)
    o.kvCacheBytes = nil
    o.kvBlockTokens = 8
    o.maxBatchTokens = 64
    configure(&o)
    let m = try ServedModel.load(name: "tiny", directory: Fixtures.model("tiny-gpt2"), budget: KVMemoryBudget(limitBytes: nil), blockTokens: 8)
    return Engine(models: [m], options: o)
}

/// Submits a generation and returns its log (the final line arrives later, or at once for a refusal).
@discardableResult
func submit(_ e: Engine, tokens: [Int], maxNew: Int, id: Int64, client: ClientIdentity) -> EventLog {
    let log = EventLog()
    var r = GenerateRequest(model: "tiny", input: .tokens(tokens), maxNewTokens: maxNew)
    r.advanced.ignoreEOS = true  // exactly maxNew tokens each
    e.generate(GenerationRequest(r), key: JobKey(connection: client.connection, id: .int(id)), client: client) { log.handle($0) }
    return log
}

private let limits = UserLimits(maxRequests: 2, maxTokens: 100)
private let a = Principal.unixUser(uid: 1000), b = Principal.unixUser(uid: 1001)

/// Distinct job identities for the ledger (any class instance will do).
private final class Token {}

@Suite struct UserLimitsTests {
    @Test func theLedgerCountsRequestsAndTokensPerPrincipalAndGivesThemBackWithTheLastJob() throws {
        var ledger = UserLoadLedger()
        let t = (0..<6).map { _ in Token() }
        let ids = t.map(ObjectIdentifier.init)
        // A request of three jobs (a task's windows) costing 60 tokens.
        let r1 = ledger.reserve([ids[0], ids[1], ids[2]], principal: a, tokens: 60, limits: limits)
        #expect(r1 == nil)
        #expect(ledger.load(of: a) == UserLoad(requests: 1, tokens: 60))
        // 60 + 50 > 100: refused, naming the token limit; nothing changes.
        let r4 = ledger.reserve([ids[3]], principal: a, tokens: 50, limits: limits)
        let tooMany = try #require(r4)
        #expect(tooMany.code == .overloaded && tooMany.message.contains("max_inflight_tokens_per_user"))
        #expect(ledger.load(of: a) == UserLoad(requests: 1, tokens: 60))
        // The other principal has its own share.
        let r2 = ledger.reserve([ids[4]], principal: b, tokens: 100, limits: limits)
        #expect(r2 == nil)
        let r3 = ledger.reserve([ids[3]], principal: a, tokens: 40, limits: limits)
        #expect(r3 == nil)
        // Two requests in flight: a third is refused on the request limit, even a free one.
        let r5 = ledger.reserve([ids[5]], principal: a, tokens: 0, limits: limits)
        let full = try #require(r5)
        #expect(full.code == .overloaded && full.message.contains("max_pending_per_user = 2"))
        // The three-job request is released by its last job only; releasing twice changes nothing.
        ledger.release(ids[0]); ledger.release(ids[0]); ledger.release(ids[2])
        #expect(ledger.load(of: a) == UserLoad(requests: 2, tokens: 100))
        ledger.release(ids[1])
        #expect(ledger.load(of: a) == UserLoad(requests: 1, tokens: 40))
        ledger.release(ids[3]); ledger.release(ids[4])
        #expect(ledger.loads.isEmpty)
        // A job that was never reserved (refused at submission) is ignored.
        ledger.release(ids[5])
        #expect(ledger.loads.isEmpty)
    }

    @Test func aRequestBiggerThanTheWholeTokenLimitIsRefusedEvenAlone() throws {
        var ledger = UserLoadLedger()
        let t = Token()
        let r6 = ledger.reserve([ObjectIdentifier(t)], principal: a, tokens: 101, limits: limits)
        let e = try #require(r6)
        #expect(e.code == .overloaded && e.message.contains("101 tokens"))
    }

    @Test func aUserAtItsPendingLimitIsRefusedWhileAnotherUserIsServed() async throws {
        let e = try makeIdleEngine { $0.maxPendingPerUser = 2 }
        let a1 = submit(e, tokens: [1, 2, 3], maxNew: 2, id: 1, client: alice)
        let a2 = submit(e, tokens: [1, 2, 3], maxNew: 2, id: 2, client: alice)
        // Nothing has run yet: alice's third request is refused at once, bob's is accepted.
        let refused = try #require(await submit(e, tokens: [1, 2, 3], maxNew: 2, id: 3, client: alice).wait().failure)
        #expect(refused.code == .overloaded && refused.message.contains("max_pending_per_user"))
        let b1 = submit(e, tokens: [4, 5, 6], maxNew: 2, id: 1, client: bob)
        e.start()
        for log in [a1, a2, b1] { #expect(try await log.wait().get().tokens.count == 2) }
        // Finished requests give their share back: alice is served again.
        #expect(try await submit(e, tokens: [1, 2, 3], maxNew: 2, id: 4, client: alice).wait().get().tokens.count == 2)
        await e.shutdown(drain: true)
    }

    @Test func aUserAtItsTokenLimitIsRefusedWhileAnotherUserIsServed() async throws {
        // Each request reserves 10 prompt tokens + 40 new = 50.
        let e = try makeIdleEngine { $0.maxInflightTokensPerUser = 100 }
        let prompt = Array(1...10)
        let a1 = submit(e, tokens: prompt, maxNew: 40, id: 1, client: alice)
        let a2 = submit(e, tokens: prompt, maxNew: 40, id: 2, client: alice)
        let refused = try #require(await submit(e, tokens: prompt, maxNew: 1, id: 3, client: alice).wait().failure)
        #expect(refused.code == .overloaded && refused.message.contains("max_inflight_tokens_per_user"))
        let b1 = submit(e, tokens: prompt, maxNew: 40, id: 1, client: bob)
        e.start()
        for log in [a1, a2, b1] { #expect(try await log.wait().get().tokens.count == 40) }
        let s = e.stats()
        #expect(s.requestsActive == 0)
        await e.shutdown(drain: true)
    }

    @Test func aTaskRequestHoldsItsShareUntilItsLastWindowEnds() async throws {
        let e = try makeIdleEngine { $0.maxPendingPerUser = 1 }
        let windows = (0..<4).map { i in HiddenSequence(tokens: [Int32](repeating: Int32(i + 1), count: 20), rows: .last) }
        let task = Task {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[[Float]], Error>) in
                e.hiddenStates(model: "tiny", sequences: windows, key: JobKey(connection: alice.connection, id: nil), client: alice,
                               costField: "texts") { c.resume(with: $0) }
            }
        }
        // Wait until the task's jobs are registered (its submission runs in the task).
        while e.stats().requestsActive == 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        let refused = try #require(await submit(e, tokens: [1, 2], maxNew: 1, id: 9, client: alice).wait().failure)
        #expect(refused.message.contains("max_pending_per_user"))
        e.start()
        #expect(try await task.value.count == 4)
        #expect(try await submit(e, tokens: [1, 2], maxNew: 1, id: 10, client: alice).wait().get().tokens.count == 1)
        await e.shutdown(drain: true)
    }

    @Test func oneUserCannotTakeEverySessionSlot() throws {
        let store = SessionStore(models: ["tiny"], maxSessions: 10, maxSessionsPerUser: 2, idleTimeout: 600)
        let first = try store.open(model: "tiny", owner: a)
        _ = try store.open(model: "tiny", owner: a)
        #expect(throws: EngineError(.overloaded, "this user has 2 open sessions, the limit per user (max_sessions_per_user = 2); close some first")) {
            try store.open(model: "tiny", owner: a)
        }
        _ = try store.open(model: "tiny", owner: b)
        _ = try store.close(first.id, owner: a)
        _ = try store.open(model: "tiny", owner: a)
        #expect(store.count == 3)
    }
}

extension Result {
    /// The error, or nil for a success.
    var failure: Failure? { if case .failure(let e) = self { return e }; return nil }
}
