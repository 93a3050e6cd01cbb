// Beam search against transformers' generate(num_beams=…, do_sample=False) on three tiny fixtures
// (Tests/Fixtures/sampling/beam.json, scripts/make_sampling_fixtures.py): num_beams 2/4/3, length
// penalty 0.5/1/2, early_stopping True/False/"never", num_return_sequences 1/2/3, EOS unreachable
// and reachable (beams finishing at different lengths), and processors inside beams
// (no_repeat_ngram_size, repetition_penalty, min_new_tokens, bad_words_ids), two EOS ids, length
// penalty 0 and −1. Tokens identical, sequences_scores within 1e-4 (relative
// above 1).
import Foundation
import Testing
import GPT2Core
import GPT2TestSupport

struct BeamCase: CustomStringConvertible, Sendable {
    let index: Int
    let fixture: String
    let prompt: [Int32]
    let parameters: BeamSearchParameters
    let sequences: [[Int32]]
    let scores: [Float]
    let label: String
    var description: String { "#\(index) \(fixture) \(label)" }
}

enum BeamFixtures {
    static let cases: [BeamCase] = {
        let obj = SamplingFixtures.json("beam.json")
        return (obj["cases"] as! [[String: Any]]).enumerated().map { i, c in
            let s = c["settings"] as! [String: Any]
            func num(_ k: String) -> NSNumber { s[k] as! NSNumber }
            let es: BeamSearchParameters.EarlyStopping
            if let str = s["early_stopping"] as? String, str == "never" { es = .never }
            else { es = (s["early_stopping"] as! NSNumber).boolValue ? .whenNFinished : .heuristic }
            var processing = SamplingParameters()
            if let n = s["no_repeat_ngram_size"] as? NSNumber { processing.noRepeatNGramSize = n.intValue }
            if let r = s["repetition_penalty"] as? NSNumber { processing.repetitionPenalty = r.floatValue }
            if let m = s["min_new_tokens"] as? NSNumber { processing.minNewTokens = m.intValue }
            if let b = s["bad_words_ids"] as? [[NSNumber]] { processing.badWordsIDs = b.map { $0.map { Int32($0.intValue) } } }
            let eos: [Int32] = (s["eos_token_id"] as? [NSNumber]).map { $0.map { Int32($0.intValue) } }
                ?? [Int32((s["eos_token_id"] as! NSNumber).intValue)]
            let p = BeamSearchParameters(numBeams: num("num_beams").intValue, lengthPenalty: num("length_penalty").floatValue,
                                         earlyStopping: es, numReturnSequences: num("num_return_sequences").intValue,
                                         maxNewTokens: num("max_new_tokens").intValue,
                                         eosTokenIDs: eos, processing: processing)
            let label = s.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return BeamCase(index: i, fixture: c["fixture"] as! String, prompt: SamplingFixtures.ints(c["prompt"]), parameters: p,
                            sequences: (c["sequences"] as! [Any]).map { SamplingFixtures.ints($0) },
                            scores: SamplingFixtures.floats(c["sequences_scores"]), label: label)
        }
    }()

    static var fixtures: [String] { Array(Set(cases.map(\.fixture))).sorted() }
}

@Suite struct BeamSearchTests {
    @Test func fixtureCoversTheSettings() {
        let c = BeamFixtures.cases
        #expect(Set(c.map(\.parameters.numBeams)).isSuperset(of: [2, 4]))
        #expect(Set(c.map(\.parameters.lengthPenalty)).isSuperset(of: [0.5, 1, 2]))
        #expect(Set(c.map { "\($0.parameters.earlyStopping)" }).count == 3)
        #expect(Set(c.map(\.parameters.numReturnSequences)).isSuperset(of: [1, 2]))
        // EOS is reached in some returned sequences, and not in others.
        let ends = c.flatMap { bc in bc.sequences.map { bc.parameters.eosTokenIDs.contains($0.last!) } }
        #expect(ends.contains(true) && ends.contains(false))
        #expect(BeamFixtures.fixtures.count >= 2)
        #expect(c.contains { $0.parameters.eosTokenIDs.count == 2 })
        #expect(c.contains { $0.parameters.processing.minNewTokens > 0 })
        #expect(c.contains { $0.parameters.lengthPenalty < 0 })
    }

    /// One fixture per test: every case of it, tokens identical and scores within 1e-4.
    @Test(arguments: BeamFixtures.fixtures)
    func matchesTransformers(_ fixture: String) throws {
        let model = try GPT2Model.load(directory: Fixtures.model(fixture))
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        let pool = KVBlockPool(config: model.config, blockTokens: 8)
        for bc in BeamFixtures.cases where bc.fixture == fixture {
            let cache = KVCache(pool: pool)
            let got = try runner.beamSearch(prompt: bc.prompt, parameters: bc.parameters, cache: cache)
            #expect(got.map(\.tokens) == bc.sequences, "\(bc)")
            #expect(got.count == bc.scores.count, "\(bc)")
            for (h, want) in zip(got, bc.scores) {
                // 1e-4, relative once |score| > 1 (length_penalty −1 multiplies the sum by the length).
                #expect(abs(h.score - want) <= 1e-4 * max(1, abs(want)), "\(bc): score \(h.score) vs \(want)")
                #expect(h.endedWithEOS == bc.parameters.eosTokenIDs.contains(h.tokens.last!))
            }
            // The caller's cache holds exactly the prompt afterwards.
            #expect(cache.count == bc.prompt.count, "\(bc)")
        }
    }

    @Test func reusesAPromptCacheAndReleasesBeams() throws {
        let bc = BeamFixtures.cases.first { $0.parameters.numBeams == 4 && $0.fixture == "tiny-hub" }!
        let model = try GPT2Model.load(directory: Fixtures.model(bc.fixture))
        let runner = GPT2Runner(config: model.config, weights: model.weights)
        let pool = KVBlockPool(config: model.config, blockTokens: 4)
        let cache = KVCache(pool: pool)
        _ = try runner.forward([ForwardRequest(cache: cache, tokens: Array(bc.prompt), logits: .none)])
        let before = pool.blocksInUse
        let got = try runner.beamSearch(prompt: bc.prompt, parameters: bc.parameters, cache: cache)
        #expect(got.map(\.tokens) == bc.sequences)
        #expect(pool.blocksInUse == before, "beam caches were not all released")
    }

    @Test func validation() {
        #expect(throws: SamplingParameterError.self) { try BeamSearchParameters(numBeams: 1).validate() }
        #expect(throws: SamplingParameterError.self) { try BeamSearchParameters(numBeams: 2, numReturnSequences: 3).validate() }
        #expect(throws: SamplingParameterError.self) { try BeamSearchParameters(numBeams: 2, maxNewTokens: 0).validate() }
        #expect(throws: Never.self) { try BeamSearchParameters(numBeams: 4, numReturnSequences: 4).validate() }
    }
}
