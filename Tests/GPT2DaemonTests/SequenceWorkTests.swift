// The engine's units of work at their edges: a session request refused during admission leaves the
// session as it was (history and cache), and every kind of work — generation, beam group, scoring,
// hidden states — runs beside the others in the same batches with results equal to each alone.
import Foundation
import Testing
import GPT2Core
import GPT2Wire
@testable import GPT2Daemon

@Suite struct SequenceWorkTests {
    @Test func aRequestRefusedAtAdmissionLeavesItsSessionAsItWas() async throws {
        let e = try makeEngine()
        let s = try e.sessions.open(model: "tiny", owner: alice.principal)
        let first = try await generate(e, GenerateRequest(model: "tiny", input: .text("The dog"), session: s.id, maxNewTokens: 5)).get()
        let before = try e.sessions.info(s.id, owner: alice.principal).tokenCount
        // Too many new tokens for the context: refused after the session was leased.
        let refused = await generate(e, GenerateRequest(model: "tiny", input: .tokens([11, 290]), session: s.id, maxNewTokens: 100_000))
        if case .failure(let err) = refused { #expect(err.code == .contextOverflow) } else { Issue.record("expected context_overflow") }
        #expect(try e.sessions.info(s.id, owner: alice.principal).tokenCount == before)
        // The history (and its cache) carries on as if the refused request had not been sent.
        let more = [11, 290, 262]
        let next = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(more), session: s.id, maxNewTokens: 4)).get()
        #expect(next.usage.cachedTokens == before - 1)
        let whole = [464, 3290] + first.tokens + more
        let single = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(whole), maxNewTokens: 4)).get()
        #expect(next.tokens == single.tokens)
        await e.shutdown(drain: true)
    }

    @Test func everyKindOfWorkSharesTheBatchesAndEqualsItselfAlone() async throws {
        let prompt = [464, 3290, 373, 257]
        let greedy = GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 6)
        let beams = { var r = GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 5)
            r.advanced.numBeams = 3; r.advanced.numReturnSequences = 2; return r }()
        let sampled = { var r = GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 5, doSample: true, seed: 7)
            r.advanced.numReturnSequences = 3; return r }()
        let scoring = ScoreRequest(model: "tiny", input: .tokens(prompt + [13, 198]))
        let sequences = [HiddenSequence(tokens: prompt.map(Int32.init), rows: .all), HiddenSequence(tokens: [464, 3290], rows: .last)]

        @Sendable func hidden(_ e: Engine) async throws -> [[Float]] {
            try await withCheckedThrowingContinuation { c in
                e.hiddenStates(model: "tiny", sequences: sequences, key: JobKey(connection: 1, id: nil), client: alice, costField: "text") {
                    c.resume(with: $0)
                }
            }
        }
        let solo = try makeEngine()
        let alone = (try await generate(solo, greedy).get(), try await generate(solo, beams).get(),
                     try await generate(solo, sampled).get(), try await score(solo, scoring).get(), try await hidden(solo))
        await solo.shutdown(drain: true)

        let e = try makeEngine(maxBatchTokens: 4)  // prompts in chunks, decodes beside them
        async let g = generate(e, greedy, id: 1)
        async let b = generate(e, beams, id: 2)
        async let n = generate(e, sampled, id: 3)
        async let sc = score(e, scoring)
        async let h = hidden(e)
        let together = (try await g.get(), try await b.get(), try await n.get(), try await sc.get(), try await h)
        #expect(together.0.tokens == alone.0.tokens)
        #expect(together.1.sequences?.map(\.tokens) == alone.1.sequences?.map(\.tokens))
        #expect(together.2.sequences?.map(\.tokens) == alone.2.sequences?.map(\.tokens))
        #expect(together.3.tokens == alone.3.tokens)
        for (x, y) in zip(together.3.logprobs, alone.3.logprobs) { #expect(abs((x ?? 0) - (y ?? 0)) < 1e-4) }
        #expect(together.4.count == 2 && together.4.map(\.count) == alone.4.map(\.count))
        for (x, y) in zip(together.4.joined(), alone.4.joined()) { #expect(abs(x - y) < 1e-4) }
        #expect(e.stats().requestsActive == 0)
        await e.shutdown(drain: true)
    }
}
