// SequenceStepper — the per-step rule every generation loop shares, on hand-made logits (no model):
// greedy picks the first maximum, an EOS id or max_new_tokens ends the sequence (EOS first), the
// processors see the prompt boundary, and sequence i of a request samples as a single request with
// seed base + i.
import Testing
import GPT2Core

@Suite struct SequenceStepperTests {
    /// Logits over 6 tokens whose maximum is `top` (ties broken towards the first index).
    static func logits(top: Int) -> [Float] { (0..<6).map { $0 == top ? 2 : 0.5 } }

    @Test func greedyStepsEndOnEOSOrLength() {
        var s = SequenceStepper(parameters: SamplingParameters(seed: 0), promptLength: 2, maxNewTokens: 3, eosTokenIDs: [5])
        let first = s.step(Self.logits(top: 3), history: [0, 1])
        #expect(first.token == 3 && first.stop == nil && first.sampled == nil)
        #expect(s.step([1, 1, 1, 1, 1, 1], history: [0, 1, 3]).token == 0)  // a tie: the first index
        let last = s.step(Self.logits(top: 4), history: [0, 1, 3, 0])
        #expect(last.token == 4 && last.stop == .length && s.stop == .length)
        #expect(s.generated == [3, 0, 4])

        var e = SequenceStepper(parameters: SamplingParameters(seed: 0), promptLength: 1, maxNewTokens: 1, eosTokenIDs: [5])
        #expect(e.step(Self.logits(top: 5), history: [0]).stop == .eos)  // EOS wins over the length
    }

    @Test func logprobsOnlyWhenAskedAndProcessorsSeeThePrompt() throws {
        // A repetition penalty on the history (prompt included) turns the argmax away from token 1.
        let p = SamplingParameters(repetitionPenalty: 100, seed: 0)
        var s = SequenceStepper(parameters: p, promptLength: 2, maxNewTokens: 4, eosTokenIDs: [])
        let step = s.step([0, 3, 2.9, 0, 0, 0], history: [1, 1], topLogprobs: 2)
        #expect(step.token == 2)
        let sampled = try #require(step.sampled)
        #expect(sampled.topRaw.map(\.token) == [1, 2] && sampled.topProcessed.first?.token == 2)
    }

    @Test func sequenceIOfARequestSamplesAsSeedBasePlusI() {
        let p = SamplingParameters(doSample: true, temperature: 1.3, topK: 0, seed: 99)
        let row: [Float] = [0.1, 0.4, 0.2, 0.9, 0.3, 0.5]
        for i in 0..<3 {
            var member = SequenceStepper(parameters: p, sequence: i, baseSeed: 41, promptLength: 1, maxNewTokens: 8, eosTokenIDs: [])
            var single = p
            single.seed = 41 &+ UInt64(i)
            var alone = SequenceStepper(parameters: single, promptLength: 1, maxNewTokens: 8, eosTokenIDs: [])
            var history: [Int32] = [0]
            for _ in 0..<8 {
                let a = member.step(row, history: history), b = alone.step(row, history: history)
                #expect(a.token == b.token)
                history.append(a.token)
            }
            #expect(member.stop == .length && member.generated == alone.generated)
        }
        #expect(SamplingParameters.sequenceSeed(base: .max, index: 2) == 1)  // wrapping addition
    }
}
