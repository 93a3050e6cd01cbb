// Every logits processor against transformers (Tests/Fixtures/sampling/processors.json, written by
// scripts/make_sampling_fixtures.py): each transformers class alone, and realistic combinations
// in the order transformers' own generate() builds them (TokenSampler's list), with the OpenAI
// extras (logit_bias, presence/frequency) computed in numpy. Values within 1e-5; −∞ identical.
import Foundation
import Testing
import GPT2Core
import GPT2TestSupport

struct ProcessorRow {
    let logits: [Float]
    let ids: [Int32]
    let promptLength: Int
    let expected: [Float]
}

struct ProcessorCase: CustomStringConvertible, Sendable {
    let name: String
    let kind: String
    let processor: String
    let args: [String: any Sendable]
    let params: [String: any Sendable]
    let rows: [ProcessorRow]
    var description: String { name }
}

extension ProcessorRow: Sendable {}

enum SamplingFixtures {
    static let directory = Fixtures.root + "/Tests/Fixtures/sampling/"

    static func json(_ name: String) -> [String: Any] {
        let path = directory + name
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { fatalError("cannot read \(path)") }
        return obj
    }

    static func floats(_ a: Any?) -> [Float] {
        (a as! [Any]).map { ($0 as? NSNumber).map { Float($0.doubleValue) } ?? -.infinity }
    }

    static func ints(_ a: Any?) -> [Int32] { (a as! [NSNumber]).map { Int32($0.intValue) } }

    static let processorCases: [ProcessorCase] = {
        let obj = json("processors.json")
        return (obj["cases"] as! [[String: Any]]).map { c in
            let rows = (c["rows"] as! [[String: Any]]).map { r in
                ProcessorRow(logits: floats(r["logits"]), ids: ints(r["input_ids"]),
                             promptLength: (r["prompt_length"] as! NSNumber).intValue, expected: floats(r["expected"]))
            }
            func sendable(_ d: Any?) -> [String: any Sendable] {
                ((d as? [String: Any]) ?? [:]).mapValues { v -> any Sendable in
                    if let n = v as? NSNumber { return n.doubleValue }
                    if let l = v as? [[NSNumber]] { return l.map { $0.map { Int32($0.intValue) } } }
                    if let l = v as? [NSNumber] { return l.map { $0.doubleValue } }
                    if let d = v as? [String: NSNumber] { return d.mapValues { $0.doubleValue } }
                    if let b = v as? Bool { return b }
                    return "\(v)"
                }
            }
            return ProcessorCase(name: c["name"] as! String, kind: c["kind"] as! String,
                                 processor: (c["processor"] as? String) ?? "", args: sendable(c["args"]),
                                 params: sendable(c["params"]), rows: rows)
        }
    }()
}

private func bias(_ v: (any Sendable)?) -> [Int32: Float] {
    var out: [Int32: Float] = [:]
    for (k, b) in (v as? [String: Double]) ?? [:] { out[Int32(k)!] = Float(b) }
    return out
}

private func int32s(_ v: (any Sendable)?) -> [Int32] { ((v as? [Double]) ?? []).map { Int32($0) } }

/// Builds the single processor a case names (promptLength is per row for min_new_tokens).
private func makeProcessor(_ c: ProcessorCase, promptLength: Int) -> any LogitsProcessor {
    let a = c.args
    func d(_ k: String) -> Double { a[k] as! Double }
    switch c.processor {
    case "repetition_penalty": return RepetitionPenalty(Float(d("penalty")))
    case "no_repeat_ngram": return NoRepeatNGram(Int(d("size")))
    case "bad_words": return BadWords(ids: a["ids"] as! [[Int32]], eosIDs: int32s(a["eos"]))
    case "min_new_tokens": return MinNewTokens(Int(d("min")), promptLength: promptLength, eosIDs: int32s(a["eos"]))
    case "suppress_tokens": return SuppressTokens(int32s(a["ids"]))
    case "temperature": return Temperature(Float(d("t")))
    case "top_k": return TopK(Int(d("k")))
    case "top_p": return TopP(Float(d("p")))
    case "min_p": return MinP(Float(d("p")))
    case "typical_p": return TypicalP(Float(d("mass")))
    case "presence_penalty": return PresencePenalty(Float(d("penalty")))
    case "frequency_penalty": return FrequencyPenalty(Float(d("penalty")))
    case "logit_bias": return LogitBias(bias(a["bias"]))
    default: fatalError("unknown processor \(c.processor)")
    }
}

/// SamplingParameters from a combo's field names (the Swift names).
private func makeParameters(_ p: [String: any Sendable], eos: [Int32]) -> SamplingParameters {
    func f(_ k: String, _ dflt: Float) -> Float { (p[k] as? Double).map { Float($0) } ?? dflt }
    func i(_ k: String, _ dflt: Int) -> Int { (p[k] as? Double).map { Int($0) } ?? dflt }
    return SamplingParameters(
        doSample: (p["doSample"] as? Bool) ?? ((p["doSample"] as? Double).map { $0 != 0 } ?? false),
        temperature: f("temperature", 1), topK: i("topK", 50), topP: f("topP", 1),
        repetitionPenalty: f("repetitionPenalty", 1), seed: 1,
        logitBias: bias(p["logitBias"]), presencePenalty: f("presencePenalty", 0), frequencyPenalty: f("frequencyPenalty", 0),
        noRepeatNGramSize: i("noRepeatNGramSize", 0), badWordsIDs: (p["badWordsIDs"] as? [[Int32]]) ?? [],
        minNewTokens: i("minNewTokens", 0), suppressTokens: int32s(p["suppressTokens"]),
        minP: f("minP", 0), typicalP: f("typicalP", 1), eosTokenIDs: eos)
}

private func compare(_ got: [Float], _ want: [Float], _ label: String) {
    #expect(got.count == want.count, "\(label): length")
    var worst: Float = 0
    for (i, (g, w)) in zip(got, want).enumerated() {
        if w == -.infinity || g == -.infinity {
            #expect(g == w, "\(label): token \(i) is \(g), transformers \(w)")
        } else {
            worst = max(worst, abs(g - w))
        }
    }
    #expect(worst <= 1e-5, "\(label): max |Δ| = \(worst)")
}

@Suite struct SamplingProcessorTests {
    static let eos: [Int32] = SamplingFixtures.ints(SamplingFixtures.json("processors.json")["eos_token_ids"])

    @Test func fixtureHasEveryProcessor() {
        let names = Set(SamplingFixtures.processorCases.map(\.processor))
        for n in ["repetition_penalty", "no_repeat_ngram", "bad_words", "min_new_tokens", "suppress_tokens", "temperature",
                  "top_k", "top_p", "min_p", "typical_p", "presence_penalty", "frequency_penalty", "logit_bias"] {
            #expect(names.contains(n), "\(n) missing")
        }
        #expect(SamplingFixtures.processorCases.filter { $0.kind == "combo" }.count >= 4)
    }

    @Test(arguments: SamplingFixtures.processorCases.filter { $0.kind == "single" })
    func singleProcessorMatchesTransformers(_ c: ProcessorCase) {
        for (r, row) in c.rows.enumerated() {
            let p = makeProcessor(c, promptLength: row.promptLength)
            var x = row.logits
            p.process(&x, context: GenerationContext(history: row.ids, promptLength: row.promptLength))
            compare(x, row.expected, "\(c) row \(r)")
        }
    }

    @Test(arguments: SamplingFixtures.processorCases.filter { $0.kind == "combo" })
    func tokenSamplerListMatchesGenerate(_ c: ProcessorCase) {
        let params = makeParameters(c.params, eos: Self.eos)
        #expect(throws: Never.self) { try params.validate() }
        for (r, row) in c.rows.enumerated() {
            // Through TokenSampler's own list, as the engine runs it.
            var sampler = TokenSampler(params, promptLength: row.promptLength)
            var x = row.logits
            let token = sampler.next(&x, context: GenerationContext(history: row.ids, promptLength: row.promptLength))
            compare(x, row.expected, "\(c) row \(r)")
            #expect(row.expected[token] > -.infinity, "\(c) row \(r): picked a filtered token")
            if !params.doSample { #expect(token == Sampling.argmax(row.expected)) }
            // The history-only entry point latches the prompt length from the first call.
            var latched = TokenSampler(params)
            var y = row.logits
            _ = latched.next(&y, history: Array(row.ids[..<row.promptLength]))
            var z = row.logits
            _ = latched.next(&z, history: row.ids)
            compare(z, row.expected, "\(c) row \(r) (latched prompt length)")
        }
    }

    @Test func processorOrder() {
        let p = SamplingParameters(doSample: true, temperature: 0.5, topK: 10, topP: 0.9, repetitionPenalty: 1.1, seed: 0,
                                   logitBias: [1: 1], presencePenalty: 0.1, frequencyPenalty: 0.1, noRepeatNGramSize: 2,
                                   badWordsIDs: [[3]], minNewTokens: 1, suppressTokens: [4], minP: 0.1, typicalP: 0.9,
                                   eosTokenIDs: [5])
        let names = TokenSampler(p).processors.map { String(describing: type(of: $0)) }
        #expect(names == ["LogitBias", "RepetitionPenalty", "PresencePenalty", "FrequencyPenalty", "NoRepeatNGram",
                          "BadWords", "MinNewTokens", "SuppressTokens", "Temperature", "TopK", "TopP", "MinP", "TypicalP"])
        // Greedy leaves the warpers out; defaults leave everything out.
        #expect(TokenSampler(SamplingParameters(doSample: false, temperature: 0.5, topK: 10, topP: 0.9)).processors.isEmpty)
        #expect(TokenSampler(SamplingParameters(doSample: true)).processors.map { String(describing: type(of: $0)) } == ["TopK"])
    }

    @Test func validationRejectsOutOfRange() {
        let bad: [(String, SamplingParameters)] = [
            ("repetition_penalty", SamplingParameters(repetitionPenalty: 0)),
            ("temperature", SamplingParameters(doSample: true, temperature: 0)),
            ("top_p", SamplingParameters(doSample: true, topP: 0)),
            ("top_k", SamplingParameters(doSample: true, topK: -1)),
            ("min_p", SamplingParameters(doSample: true, minP: 1.5)),
            ("typical_p", SamplingParameters(doSample: true, typicalP: 0)),
            ("presence_penalty", SamplingParameters(presencePenalty: 2.5)),
            ("frequency_penalty", SamplingParameters(frequencyPenalty: -3)),
            ("logit_bias", SamplingParameters(logitBias: [5: 101])),
            ("logit_bias", SamplingParameters(logitBias: [-1: 1])),
            ("no_repeat_ngram_size", SamplingParameters(noRepeatNGramSize: -1)),
            ("bad_words_ids", SamplingParameters(badWordsIDs: [[]])),
            ("min_new_tokens", SamplingParameters(minNewTokens: -2)),
            ("suppress_tokens", SamplingParameters(suppressTokens: [-4])),
        ]
        for (name, p) in bad {
            do { try p.validate(); Issue.record("\(name) accepted") } catch let e as SamplingParameterError {
                #expect(e.parameter == name, "\(e)")
            } catch { Issue.record("\(error)") }
        }
        #expect(throws: Never.self) { try SamplingParameters().validate() }
        // Greedy requests are held to the same ranges (GenerationParameterRanges, which the wire reads
        // too): temperature 0 is not "greedy" here, it is refused, as PROTOCOL.md documents.
        for (name, p) in [("temperature", SamplingParameters(doSample: false, temperature: 0)),
                          ("top_k", SamplingParameters(doSample: false, topK: -1)),
                          ("top_p", SamplingParameters(doSample: false, topP: 0))] {
            do { try p.validate(); Issue.record("greedy \(name) accepted") } catch let e as SamplingParameterError {
                #expect(e.parameter == name, "\(e)")
            } catch { Issue.record("\(error)") }
        }
        #expect(throws: Never.self) { try SamplingParameters(doSample: true, temperature: 0.7, topK: 0, topP: 1, minP: 1, typicalP: 1).validate() }
    }

    @Test func presenceAndFrequencyCountOnlyGeneratedTokens() {
        let ctx = GenerationContext(history: [1, 1, 2, 3, 3, 3], promptLength: 3)  // generated: 3, 3, 3
        var x = [Float](repeating: 0, count: 5)
        PresencePenalty(0.5).process(&x, context: ctx)
        FrequencyPenalty(0.25).process(&x, context: ctx)
        #expect(x == [0, 0, 0, -1.25, 0])
        // Without a prompt boundary everything counts as generated.
        var y = [Float](repeating: 0, count: 5)
        FrequencyPenalty(1).process(&y, history: ctx.history)
        #expect(y == [0, -2, -1, -3, 0])
    }

    @Test func logprobsTopAlternatives() {
        let logits: [Float] = [1, 3, 2, -.infinity, 3]
        let top = Logprobs.top(logits, count: 3)
        #expect(top.map(\.token) == [1, 4, 2])
        let lse = log(exp(1.0) + 2 * exp(3.0) + exp(2.0))
        #expect(abs(top[0].logprob - (3 - lse)) < 1e-9)
        #expect(Logprobs.top(logits, count: 10).count == 4)  // −∞ never listed
        #expect(Logprobs.logprob(of: 3, in: logits) == -.infinity)
        // Raw vs processed through the sampler.
        var s = TokenSampler(SamplingParameters(doSample: true, topK: 2, seed: 3))
        let r = s.sample(logits, context: GenerationContext(history: [0], promptLength: 1), topLogprobs: 3)
        #expect(r.token == 1 || r.token == 4)
        #expect(r.topRaw.count == 3 && r.topProcessed.count == 2)
        #expect(abs(r.processedLogprob - log(0.5)) < 1e-6)
        #expect(abs(r.rawLogprob - (3 - lse)) < 1e-6)
    }
}
