// The engine in-process under a KV budget far below what its requests want (the socket-level twins
// are in EndToEndTests): every request completes with the exact greedy tokens, the newest jobs are
// preempted, and a beam search shares the budget and the batch with them.
import Foundation
import Testing
import GPT2Core
import GPT2Wire
import GPT2TestSupport
@testable import GPT2Daemon

@Suite struct MemoryPressureTests {
    @Test func concurrentSessionJobsUnderATinyBudgetAllFinishExactly() async throws {
        let g = try SafeTensorsFile.open(path: Fixtures.model("tiny-gpt2") + "/golden.safetensors")
        let prompt = try g.int64s("greedy.prompt").map(Int.init)
        let expected = Array(try g.int64s("greedy.output").map(Int.init)[prompt.count...])
        let e = try makeEngine(kvBytes: 1 << 20, blockTokens: 16, maxBatchTokens: 512)
        let sessions = try (0..<40).map { _ in try e.sessions.open(model: "tiny", owner: alice.principal).id }
        let results = await withTaskGroup(of: (Int, Result<GenerateResponse, WireError>).self) { group in
            for (i, s) in sessions.enumerated() {
                group.addTask {
                    (i, await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), session: s, maxNewTokens: 64), id: Int64(i)))
                }
            }
            var out: [Int: Result<GenerateResponse, WireError>] = [:]
            for await (i, r) in group { out[i] = r }
            return out
        }
        for i in 0..<40 { #expect(try results[i]!.get().tokens == expected, "request \(i)") }
        #expect(e.stats().preemptions > 0)
        #expect(e.stats().kvBytesInUse <= 1 << 20)
        await e.shutdown(drain: true)
    }

    @Test func aBeamSearchRunsInTheSharedBatchBesideGreedyStreams() async throws {
        let e = try makeEngine()
        let prompt = [464, 3290, 373, 1043]
        var beam = GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 8)
        beam.advanced.numBeams = 3; beam.advanced.numReturnSequences = 2; beam.advanced.lengthPenalty = 0.7
        let beamRequest = beam
        let alone = try await generate(e, beamRequest).get()
        let greedyAlone = try await generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 24)).get()
        let before = e.stats().forwardPasses
        async let b = generate(e, beamRequest, id: 10)
        async let g1 = generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 24), id: 11)
        async let g2 = generate(e, GenerateRequest(model: "tiny", input: .tokens(prompt), maxNewTokens: 24), id: 12)
        let (rb, r1, r2) = await (b, g1, g2)
        // The same beams (other rows in the batch may move the scores' last bits, never the tokens).
        let together = try #require(try rb.get().sequences), first = try #require(alone.sequences)
        #expect(together.map(\.tokens) == first.map(\.tokens))
        #expect(zip(together, first).allSatisfy { abs($0.score! - $1.score!) < 1e-4 })
        #expect(try r1.get().tokens == greedyAlone.tokens && (try r2.get().tokens) == greedyAlone.tokens)
        // One compute thread, shared passes: far fewer than 8 + 24 + 24 passes one after the other.
        let passes = e.stats().forwardPasses - before
        #expect(passes < 8 + 24 + 24, "\(passes) passes")
        await e.shutdown(drain: true)
    }
}
