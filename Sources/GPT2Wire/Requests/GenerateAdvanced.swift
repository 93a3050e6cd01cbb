// GenerateAdvanced — the generate() knobs beyond the basic ones: more logits processors
// (transformers names), OpenAI/vLLM penalties and logit_bias, several sequences, beam search,
// top log-probabilities and stop-string inclusion. Flat fields of the `generate` request.
import GPT2JSON
import GPT2Parameters

public struct GenerateAdvanced: Sendable, Equatable {
    public enum EarlyStopping: String, Sendable, Equatable { case `true`, `false`, never }
    /// Which distribution logprobs are taken from.
    public enum LogprobsMode: String, Sendable, Equatable { case raw, processed }

    public static let maxSequences = GenerationParameterRanges.numReturnSequences.upperBound
    public static let maxTopLogprobs = GenerationParameterRanges.topLogprobs.upperBound

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

    public static let wireDefaults = GenerateAdvanced()
    public static let wireFields: [WireField<Self>] = [
        // Ranges: GPT2Parameters' GenerationParameterRanges, which GPT2Core's validation reads too.
        .omittedWhenDefault("min_new_tokens", \.minNewTokens, .int(GenerationParameterRanges.minNewTokens)),
        .omittedWhenDefault("no_repeat_ngram_size", \.noRepeatNGramSize, .int(GenerationParameterRanges.noRepeatNGramSize)),
        .omittedWhenDefault("bad_words_ids", \.badWordsIDs, .array(of: .array(
            of: .int(0...Int(Int32.max), expected: "a token id ≥ 0"), expected: "a non-empty array of token ids", count: 1...Int.max))),
        .omittedWhenDefault("suppress_tokens", \.suppressTokens, .tokenIDs()),
        .omittedWhenDefault("min_p", \.minP, .number(GenerationParameterRanges.minP)),
        .omittedWhenDefault("typical_p", \.typicalP, .number(GenerationParameterRanges.typicalP)),
        .omittedWhenDefault("presence_penalty", \.presencePenalty, .number(GenerationParameterRanges.presencePenalty)),
        .omittedWhenDefault("frequency_penalty", \.frequencyPenalty, .number(GenerationParameterRanges.frequencyPenalty)),
        .omittedWhenDefault("logit_bias", \.logitBias, .logitBias),
        .omittedWhenDefault("num_return_sequences", \.numReturnSequences, .int(GenerationParameterRanges.numReturnSequences)),
        .omittedWhenDefault("num_beams", \.numBeams, .int(GenerationParameterRanges.numBeams)),
        .omittedWhenDefault("length_penalty", \.lengthPenalty, .number(GenerationParameterRanges.lengthPenalty)),
        .omittedWhenDefault("early_stopping", \.earlyStopping, .earlyStopping),
        .omittedWhenDefault("top_logprobs", \.topLogprobs, .int(GenerationParameterRanges.topLogprobs)),
        .omittedWhenDefault("logprobs_mode", \.logprobsMode, .choice(expected: "\"raw\" or \"processed\"")),
        .omittedWhenDefault("include_stop_str_in_output", \.includeStopStrInOutput, .bool),
        .omittedWhenDefault("ignore_eos", \.ignoreEOS, .bool),
    ]

    public init() {}
}

extension GenerateAdvanced: WireObject {}

extension WireCodec where Value == [Int: Double] {
    /// logit_bias: {"<token id>": bias in [-100, 100]}, written in ascending id order.
    static var logitBias: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let bias = v.objectValue else { throw .invalidField(f, expected: "an object", got: v) }
            var out: [Int: Double] = [:]
            for (key, value) in bias {
                guard let id = Int(key), id >= 0, id <= Int(Int32.max) else {
                    throw .invalidField(f, expected: "keys that are token ids", got: .string(key))
                }
                let range = GenerationParameterRanges.logitBias
                guard let b = value.doubleValue, range.contains(b) else {
                    throw .invalidField("\(f)[\(key)]", expected: range.expected, got: value)
                }
                out[id] = b
            }
            return out
        }, write: { bias in
            .object(JSONObject(bias.sorted { $0.key < $1.key }.map { (String($0.key), JSON.double($0.value)) }))
        })
    }
}

extension WireCodec where Value == GenerateAdvanced.EarlyStopping {
    /// true, false or "never".
    static var earlyStopping: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            switch v {
            case .bool(let b): return b ? .true : .false
            case .string("never"): return .never
            default: throw .invalidField(f, expected: "true, false or \"never\"", got: v)
            }
        }, write: { e in
            switch e {
            case .true: return .bool(true)
            case .false: return .bool(false)
            case .never: return .string("never")
            }
        })
    }
}
