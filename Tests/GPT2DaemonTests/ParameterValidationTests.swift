// One answer per parameter value on every path: the wire's decoder (a `generate` line), GPT2Core's
// SamplingParameters.validate (what the engine, the benchmark and the core loops use) and the
// engine itself (a GenerationRequest that never passed the wire) accept and refuse the same values,
// because all of them read GPT2Parameters' GenerationParameterRanges.
import Testing
import GPT2Core
import GPT2JSON
import GPT2Wire
@testable import GPT2Daemon

@Suite struct ParameterValidationTests {
    /// Whether a generate body with `field: value` decodes.
    private func wireAccepts(_ field: String, _ value: String) -> Bool {
        let line = #"{"model":"m","prompt":"x",""# + field + #"":"# + value + "}"
        guard case .object(let o)? = try? JSON.parse(line) else { return false }
        return (try? GenerateRequest(from: o)) != nil
    }

    private func coreAccepts(_ p: SamplingParameters) -> Bool { (try? p.validate()) != nil }

    @Test func wireAndCoreAgreeOnEveryValue() {
        // (wire field, probe values, the same value as greedy core parameters)
        let numbers: [(String, [Double], (Double) -> SamplingParameters)] = [
            ("temperature", [-1, 0, 1e-9, 0.5, 1, 7], { SamplingParameters(temperature: Float($0)) }),
            ("top_p", [-0.5, 0, 1e-6, 0.5, 1, 1.0001, 2], { SamplingParameters(topP: Float($0)) }),
            ("repetition_penalty", [-1, 0, 0.01, 1, 3], { SamplingParameters(repetitionPenalty: Float($0)) }),
            ("min_p", [-0.1, 0, 0.3, 1, 1.5], { SamplingParameters(minP: Float($0)) }),
            ("typical_p", [-1, 0, 0.2, 1, 1.2], { SamplingParameters(typicalP: Float($0)) }),
            ("presence_penalty", [-2.5, -2, 0, 1.5, 2, 2.5], { SamplingParameters(presencePenalty: Float($0)) }),
            ("frequency_penalty", [-3, -2, 0, 2, 2.01], { SamplingParameters(frequencyPenalty: Float($0)) }),
        ]
        for (field, values, core) in numbers {
            for v in values {
                #expect(wireAccepts(field, "\(v)") == coreAccepts(core(v)), "\(field) = \(v)")
            }
        }
        let integers: [(String, [Int], (Int) -> SamplingParameters)] = [
            ("top_k", [-1, 0, 1, 50, 1 << 40], { SamplingParameters(topK: $0) }),
            ("no_repeat_ngram_size", [-1, 0, 3, 1024, 1025], { SamplingParameters(noRepeatNGramSize: $0) }),
            ("min_new_tokens", [-2, 0, 5, 1 << 20, (1 << 20) + 1], { SamplingParameters(minNewTokens: $0) }),
        ]
        for (field, values, core) in integers {
            for v in values {
                #expect(wireAccepts(field, "\(v)") == coreAccepts(core(v)), "\(field) = \(v)")
            }
        }
        // logit_bias values, one token.
        for b in [-101.0, -100, 0, 100, 100.5] {
            #expect(wireAccepts("logit_bias", #"{"5":\#(b)}"#) == coreAccepts(SamplingParameters(logitBias: [5: Float(b)])), "logit_bias \(b)")
        }
    }

    @Test func temperatureZeroIsRefusedOnEveryPath() async throws {
        // Wire: a greedy request with temperature 0 (PROTOCOL.md: > 0 on every request, greedy included).
        let err: WireError? = { () -> WireError? in
            guard case .object(let o)? = try? JSON.parse(#"{"model":"m","prompt":"x","temperature":0}"#) else { return nil }
            do throws(WireError) { _ = try GenerateRequest(from: o); return nil } catch { return error }
        }()
        #expect(err?.code == .invalidField && err?.field == "temperature")
        // Core: greedy parameters with temperature 0.
        do { try SamplingParameters(doSample: false, temperature: 0).validate(); Issue.record("core accepted temperature 0") }
        catch let e as SamplingParameterError { #expect(e.parameter == "temperature") }
        // Engine: a request built without the wire, greedy and sampling alike.
        let e = try makeEngine()
        for sample in [false, true] {
            var r = GenerationRequest(model: "tiny", prompt: .tokens([464, 3290]))
            r.doSample = sample
            r.temperature = 0
            let got: EngineError? = await withCheckedContinuation { c in
                e.generate(r, key: JobKey(connection: 1, tag: nil), client: alice) { event in
                    switch event {
                    case .token: break
                    case .result: c.resume(returning: nil)
                    case .error(let err): c.resume(returning: err)
                    }
                }
            }
            #expect(got?.code == .invalidField && got?.field == "temperature", "do_sample \(sample)")
        }
        await e.shutdown(drain: true)
    }
}
