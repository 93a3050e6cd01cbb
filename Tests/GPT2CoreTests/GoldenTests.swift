// The engine against transformers on every committed fixture (scripts/make_fixtures.py):
// logits and final hidden states within the MANIFEST tolerance (1e-4; the F16/BF16 fixtures are
// compared with transformers run in F32 on the same upcast weights), one mixed-length batch equal
// to the goldens, and greedy decoding token-identical to generate(do_sample=False) for 64 tokens.
import Testing
import GPT2Core
import GPT2TestSupport

private func maxAbsDiff(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct GoldenTests {
    @Test func manifestListsEveryFormat() {
        let f = Fixtures.modelFixtures
        #expect(Set(f.map(\.dtype)) == ["F32", "F16", "BF16"])
        #expect(Set(f.map(\.layout)) == ["hub", "prefixed"])
        #expect(f.contains { $0.sharded })
        #expect(f.count >= 8)
    }

    @Test(arguments: Fixtures.modelFixtures)
    func logitsAndHiddenMatchTransformers(_ fixture: Fixtures.ModelFixture) throws {
        let model = try GPT2Model.load(directory: fixture.directory)
        let golden = try SafeTensorsFile.open(path: fixture.directory + "/golden.safetensors")
        let V = model.config.vocabSize, C = model.config.nEmbd
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        let pool = KVBlockPool(config: model.config, blockTokens: 8)
        var inputs: [[Int32]] = [], wantLogits: [[Float]] = [], wantHidden: [[Float]] = []
        for i in 0..<3 {
            inputs.append(try golden.int64s("input_ids.\(i)").map { Int32($0) })
            wantLogits.append(try golden.floats("logits.\(i)"))
            wantHidden.append(try golden.floats("hidden.\(i)"))
        }
        // Each sequence alone, then all three in one batch: both must match the goldens.
        var alone: [ForwardResult] = []
        for ids in inputs {
            alone.append(try runner.forward([ForwardRequest(cache: KVCache(pool: pool), tokens: ids, logits: .all, hidden: .all)])[0])
        }
        let batched = try runner.forward(inputs.map { ForwardRequest(cache: KVCache(pool: pool), tokens: $0, logits: .all, hidden: .all) })
        for (label, results) in [("alone", alone), ("batched", batched)] {
            for i in 0..<3 {
                let r = results[i]
                #expect(r.logits.count == inputs[i].count * V && r.hidden.count == inputs[i].count * C)
                let dl = maxAbsDiff(r.logits[...], wantLogits[i][...])
                let dh = maxAbsDiff(r.hidden[...], wantHidden[i][...])
                #expect(dl <= fixture.logitTolerance, "\(fixture) \(label) seq \(i): max |Δlogit| = \(dl)")
                #expect(dh <= fixture.hiddenTolerance, "\(fixture) \(label) seq \(i): max |Δhidden| = \(dh)")
            }
        }
    }

    @Test(arguments: Fixtures.modelFixtures)
    func greedyMatchesGenerate(_ fixture: Fixtures.ModelFixture) throws {
        let model = try GPT2Model.load(directory: fixture.directory)
        let golden = try SafeTensorsFile.open(path: fixture.directory + "/golden.safetensors")
        let prompt = try golden.int64s("greedy.prompt").map { Int32($0) }
        let want = try golden.int64s("greedy.output").map { Int32($0) }
        #expect(want.count == prompt.count + 64)
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        let cache = KVCache(pool: KVBlockPool(config: model.config, blockTokens: 16))
        let got = try runner.greedy(prompt: prompt, maxNewTokens: 64, eosTokenID: model.config.eosTokenId, cache: cache)
        #expect(got == want, "\(fixture): first difference at \(zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
        #expect(cache.count == want.count - 1)
    }

    @Test func positionsPastContextAreAnError() throws {
        let model = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        let cache = KVCache(pool: KVBlockPool(config: model.config))
        let P = model.config.nPositions
        _ = try runner.forward([ForwardRequest(cache: cache, tokens: [Int32](repeating: 464, count: P))])
        #expect(throws: ForwardError.contextOverflow(sequence: 0, positions: P + 1, limit: P)) {
            try runner.forward([ForwardRequest(cache: cache, tokens: [464])])
        }
        #expect(cache.count == P)
    }
}
