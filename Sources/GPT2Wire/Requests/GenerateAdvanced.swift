// GenerateAdvanced — the generate() knobs beyond the basic ones: more logits processors
// (transformers names), OpenAI/vLLM penalties and logit_bias, several sequences, beam search,
// top log-probabilities and stop-string inclusion. Flat fields of the `generate` request.
import GPT2JSON

public struct GenerateAdvanced: Sendable, Equatable {
    public enum EarlyStopping: String, Sendable, Equatable { case `true`, `false`, never }
    /// Which distribution logprobs are taken from.
    public enum LogprobsMode: String, Sendable, Equatable { case raw, processed }

    public static let maxSequences = 16
    public static let maxTopLogprobs = 20

    /// min_new_tokens: EOS is forbidden until this many tokens were generated.
    public var minNewTokens = 0
    /// no_repeat_ngram_size: 0 = off.
    public var noRepeatNGramSize = 0
    /// bad_words_ids: token sequences that may not be generated.
    public var badWordsIDs: [[Int]] = []
    /// suppress_tokens: ids that are never generated.
    public var suppressTokens: [Int] = []
    /// min_p in [0, 1]; 0 = off (sampling only).
    public var minP = 0.0
    /// typical_p in (0, 1]; 1 = off (sampling only).
    public var typicalP = 1.0
    /// OpenAI/vLLM presence and frequency penalties in [-2, 2], over generated tokens.
    public var presencePenalty = 0.0
    public var frequencyPenalty = 0.0
    /// logit_bias: {"<token id>": bias in [-100, 100]} added to the logits first.
    public var logitBias: [Int: Double] = [:]
    /// num_return_sequences (n): sequences sharing one prompt computation.
    public var numReturnSequences = 1
    /// num_beams: > 1 selects beam search (greedy, not streamable).
    public var numBeams = 1
    public var lengthPenalty = 1.0
    public var earlyStopping: EarlyStopping = .false
    /// top_logprobs: alternatives per step (implies logprobs).
    public var topLogprobs = 0
    /// logprobs_mode: "raw" (before any processing, vLLM's default) or "processed".
    public var logprobsMode: LogprobsMode = .raw
    /// include_stop_str_in_output: keep the matched stop string in the text.
    public var includeStopStrInOutput = false
    /// ignore_eos: keep generating after EOS (benchmarks, fixed-length output).
    public var ignoreEOS = false

    public init() {}

    init(_ r: FieldReader) throws(WireError) {
        minNewTokens = try r.int("min_new_tokens", default: 0, range: 0...GenerateRequest.maxNewTokensLimit)
        noRepeatNGramSize = try r.int("no_repeat_ngram_size", default: 0, range: 0...1024)
        if let words = try r.optionalArray("bad_words_ids") {
            badWordsIDs = []
            for (i, w) in words.enumerated() {
                guard let seq = w.arrayValue, !seq.isEmpty else {
                    throw .invalidField("bad_words_ids[\(i)]", expected: "a non-empty array of token ids", got: w)
                }
                var ids: [Int] = []
                for (j, t) in seq.enumerated() {
                    guard let v = t.intValue, v >= 0, v <= Int64(Int32.max) else {
                        throw .invalidField("bad_words_ids[\(i)][\(j)]", expected: "a token id ≥ 0", got: t)
                    }
                    ids.append(Int(v))
                }
                badWordsIDs.append(ids)
            }
        }
        suppressTokens = try r.optionalIntArray("suppress_tokens", elementRange: 0...Int(Int32.max)) ?? []
        minP = try r.double("min_p", default: 0, expected: "a number in [0, 1]") { $0 >= 0 && $0 <= 1 }
        typicalP = try r.double("typical_p", default: 1, expected: "a number in (0, 1]") { $0 > 0 && $0 <= 1 }
        presencePenalty = try r.double("presence_penalty", default: 0, expected: "a number in [-2, 2]") { $0 >= -2 && $0 <= 2 }
        frequencyPenalty = try r.double("frequency_penalty", default: 0, expected: "a number in [-2, 2]") { $0 >= -2 && $0 <= 2 }
        if let bias = try r.optionalObject("logit_bias") {
            for (key, value) in bias {
                guard let id = Int(key), id >= 0, id <= Int(Int32.max) else {
                    throw .invalidField("logit_bias", expected: "keys that are token ids", got: .string(key))
                }
                guard let b = value.doubleValue, b >= -100, b <= 100 else {
                    throw .invalidField("logit_bias[\(key)]", expected: "a number in [-100, 100]", got: value)
                }
                logitBias[id] = b
            }
        }
        numReturnSequences = try r.int("num_return_sequences", default: 1, range: 1...Self.maxSequences)
        numBeams = try r.int("num_beams", default: 1, range: 1...Self.maxSequences)
        lengthPenalty = try r.double("length_penalty", default: 1, expected: "a finite number") { $0.isFinite }
        if let v = r.value("early_stopping"), !v.isNull {
            switch v {
            case .bool(let b): earlyStopping = b ? .true : .false
            case .string("never"): earlyStopping = .never
            default: throw .invalidField("early_stopping", expected: "true, false or \"never\"", got: v)
            }
        }
        topLogprobs = try r.int("top_logprobs", default: 0, range: 0...Self.maxTopLogprobs)
        if let mode = try r.optionalString("logprobs_mode") {
            guard let m = LogprobsMode(rawValue: mode) else {
                throw .invalidField("logprobs_mode", expected: "\"raw\" or \"processed\"", got: .string(mode))
            }
            logprobsMode = m
        }
        includeStopStrInOutput = try r.bool("include_stop_str_in_output", default: false)
        ignoreEOS = try r.bool("ignore_eos", default: false)
    }

    /// Writes the fields that differ from their defaults.
    func write(into o: inout JSONObject) {
        let d = GenerateAdvanced()
        if minNewTokens != d.minNewTokens { o["min_new_tokens"] = .int(Int64(minNewTokens)) }
        if noRepeatNGramSize != d.noRepeatNGramSize { o["no_repeat_ngram_size"] = .int(Int64(noRepeatNGramSize)) }
        if !badWordsIDs.isEmpty { o["bad_words_ids"] = .array(badWordsIDs.map { $0.json }) }
        if !suppressTokens.isEmpty { o["suppress_tokens"] = suppressTokens.json }
        if minP != d.minP { o["min_p"] = .double(minP) }
        if typicalP != d.typicalP { o["typical_p"] = .double(typicalP) }
        if presencePenalty != d.presencePenalty { o["presence_penalty"] = .double(presencePenalty) }
        if frequencyPenalty != d.frequencyPenalty { o["frequency_penalty"] = .double(frequencyPenalty) }
        if !logitBias.isEmpty {
            var b = JSONObject()
            for (k, v) in logitBias.sorted(by: { $0.key < $1.key }) { b[String(k)] = .double(v) }
            o["logit_bias"] = .object(b)
        }
        if numReturnSequences != d.numReturnSequences { o["num_return_sequences"] = .int(Int64(numReturnSequences)) }
        if numBeams != d.numBeams { o["num_beams"] = .int(Int64(numBeams)) }
        if lengthPenalty != d.lengthPenalty { o["length_penalty"] = .double(lengthPenalty) }
        switch earlyStopping {
        case .false: break
        case .true: o["early_stopping"] = .bool(true)
        case .never: o["early_stopping"] = .string("never")
        }
        if topLogprobs != d.topLogprobs { o["top_logprobs"] = .int(Int64(topLogprobs)) }
        if logprobsMode != d.logprobsMode { o["logprobs_mode"] = .string(logprobsMode.rawValue) }
        if includeStopStrInOutput { o["include_stop_str_in_output"] = .bool(true) }
        if ignoreEOS { o["ignore_eos"] = .bool(true) }
    }
}
