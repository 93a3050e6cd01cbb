// Fair scheduling in the engine (tiny model): one user's 100 queued requests do not hold back
// another user's single request, and every request still gets its answer.
import Foundation
import Testing
import GPT2Wire
@testable import GPT2Daemon

/// The order in which requests ended (appended on the engine thread, as each final event is sent).
private final class FinishOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var names: [String] = []
    func append(_ n: String) { lock.lock(); names.append(n); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return names }
}

@Suite struct FairSchedulingEngineTests {
    @Test func anotherUsersSingleRequestFinishesBeforeTheQueuedHundred() async throws {
        // One 16-token prompt per step: under plain FIFO bob's prompt would wait for alice's 100.
        let e = try makeIdleEngine { $0.maxBatchTokens = 16 }
        let order = FinishOrder()
        func request(_ i: Int, _ client: ClientIdentity, _ name: String) -> EventLog {
            let log = EventLog()
            var r = GenerateRequest(model: "tiny", input: .tokens((0..<16).map { 100 + i * 16 + $0 }), maxNewTokens: 2)
            r.advanced.ignoreEOS = true
            e.generate(GenerationRequest(r), key: JobKey(connection: client.connection, id: .int(Int64(i))), client: client) { ev in
                if case .token = ev {} else { order.append(name) }
                log.handle(ev)
            }
            return log
        }
        let alices = (0..<100).map { request($0, alice, "alice") }
        let bobs = request(100, bob, "bob")
        // Everything is queued before the compute thread starts, so the order is the scheduler's.
        e.start()
        for log in alices + [bobs] { #expect(try await log.wait().get().tokens.count == 2) }
        let finished = order.all
        #expect(finished.count == 101)
        // Step 1 prefills alice's oldest; step 2 her decode row and 15 tokens of bob's prompt (he was
        // never served); step 3 her second (she was served longer ago); step 4 bob's last prompt token,
        // step 5 his second token. Two of alice's hundred finish before him — FIFO would be all 100.
        let bobAt = try #require(finished.firstIndex(of: "bob"))
        #expect(bobAt <= 2, "bob finished after \(bobAt) of alice's requests")
        await e.shutdown(drain: true)
    }
}
