// num_return_sequences for sampling: n sequences share one prompt prefill (forked caches, one
// batched forward per step). n = 3 with seed s gives 3 sequences, reproducibly; sequence i equals a
// single sequence sampled alone (own cache, own prefill) with seed s + i.
import Testing
import GPT2Core
import GPT2TestSupport

@Suite struct SamplingMultiSequenceTests {
    static let prompt: [Int32] = [17, 503, 22, 981, 4, 230]

    /// One sequence alone, the plain way: its own cache and prefill, one token per forward.
    static func alone(_ runner: GPT2Runner, _ pool: KVBlockPool, _ p: SamplingParameters, maxNewTokens: Int, eos: Set<Int32>) throws -> [Int32] {
        var sampler = TokenSampler(p)
        let cache = KVCache(pool: pool)
        var tokens = prompt
        var logits = try runner.forward([ForwardRequest(cache: cache, tokens: prompt, logits: .last)])[0].logits
        while true {
            let t = Int32(sampler.next(&logits, history: tokens))
            tokens.append(t)
            if eos.contains(t) || tokens.count - prompt.count >= maxNewTokens { return tokens }
            logits = try runner.forward([ForwardRequest(cache: cache, tokens: [t], logits: .last)])[0].logits
        }
    }

    @Test func threeSeededSequencesAreReproducibleAndMatchSingleRuns() throws {
        let model = try GPT2Model.load(directory: Fixtures.model("tiny-hub"))
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        let pool = KVBlockPool(config: model.config, blockTokens: 8)
        // EOS = a token the model emits now and then, so some sequences stop early.
        let params = SamplingParameters(doSample: true, temperature: 1.5, topK: 0, repetitionPenalty: 1.1, seed: 1234,
                                        presencePenalty: 0.3)
        let eos: [Int32] = [999]
        let cache = KVCache(pool: pool)
        let a = try runner.sampleSequences(prompt: Self.prompt, count: 3, parameters: params, maxNewTokens: 16, eosTokenIDs: eos, cache: cache)
        #expect(a.count == 3)
        #expect(cache.count == Self.prompt.count)
        #expect(a.map(\.seed) == [1234, 1235, 1236])
        for s in a {
            #expect(Array(s.tokens.prefix(Self.prompt.count)) == Self.prompt)
            #expect(s.generated.count >= 1 && s.generated.count <= 16)
            #expect(s.finishReason == (s.generated.last == 999 ? .eos : .length))
        }
        #expect(Set(a.map(\.tokens)).count > 1, "three identical samples")
        // Reproducible, also from a cache that already holds the prompt.
        let b = try runner.sampleSequences(prompt: Self.prompt, count: 3, parameters: params, maxNewTokens: 16, eosTokenIDs: eos, cache: cache)
        #expect(a == b)
        // Sequence i is what a single request with seed s + i gives.
        for (i, s) in a.enumerated() {
            var p = params
            p.seed = SamplingParameters.sequenceSeed(base: 1234, index: i)
            #expect(try Self.alone(runner, pool, p, maxNewTokens: 16, eos: Set(eos)) == s.tokens, "sequence \(i)")
        }
        // n = 1 is the plain single request.
        let one = try runner.sampleSequences(prompt: Self.prompt, count: 1, parameters: params, maxNewTokens: 16, eosTokenIDs: eos, cache: cache)
        #expect(one.map(\.tokens) == [a[0].tokens])
        // Only the caller's prompt cache is left.
        #expect(pool.blocksInUse == (Self.prompt.count + 7) / 8)
    }

    @Test func greedySequencesAreIdentical() throws {
        let model = try GPT2Model.load(directory: Fixtures.model("tiny-hub"))
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        let pool = KVBlockPool(config: model.config, blockTokens: 8)
        let out = try runner.sampleSequences(prompt: Self.prompt, count: 2, parameters: SamplingParameters(), maxNewTokens: 10,
                                             cache: KVCache(pool: pool))
        let greedy = try runner.greedy(prompt: Self.prompt, maxNewTokens: 10, eosTokenID: 50256, cache: KVCache(pool: pool))
        #expect(out.map(\.tokens) == [greedy, greedy])
    }
}
