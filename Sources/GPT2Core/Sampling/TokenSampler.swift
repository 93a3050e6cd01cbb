// TokenSampler — picks the next token the way transformers' generate() does, then a categorical draw
// from a per-request seeded generator (so a seed reproduces whatever else shares the batch).
//
// Processor order (transformers' _get_logits_processor, plus the OpenAI/vLLM extras placed where
// noted); processors that would be no-ops are left out, as generate() does:
//   1. logit_bias                 (OpenAI/vLLM: added to the raw logits before everything else)
//   2. repetition_penalty         RepetitionPenaltyLogitsProcessor (prompt + generated)
//   3. presence_penalty           OpenAI/vLLM, over generated tokens only — placed right after the
//   4. frequency_penalty          repetition penalty, i.e. with the other penalties, before any ban
//   5. no_repeat_ngram_size       NoRepeatNGramLogitsProcessor
//   6. bad_words_ids              NoBadWordsLogitsProcessor (EOS ids as generate() passes them)
//   7. min_new_tokens             MinNewTokensLengthLogitsProcessor
//   8. suppress_tokens            SuppressTokensLogitsProcessor
//   sampling only (do_sample):
//   9. temperature  10. top_k  11. top_p  12. min_p  13. typical_p
// then argmax (greedy, first index on ties) or a draw from softmax(processed logits).
import CKernels
import Foundation
import GPT2Parameters

public struct SamplingParameters: Sendable, Equatable {
    public var doSample: Bool
    public var temperature: Float
    /// 0: off.
    public var topK: Int
    public var topP: Float
    public var repetitionPenalty: Float
    /// nil: a random seed.
    public var seed: UInt64?
    /// Added to the raw logits first (OpenAI `logit_bias`).
    public var logitBias: [Int32: Float]
    /// OpenAI `presence_penalty` over generated tokens; 0: off.
    public var presencePenalty: Float
    /// OpenAI `frequency_penalty` over generated tokens; 0: off.
    public var frequencyPenalty: Float
    /// transformers' `no_repeat_ngram_size`; 0: off.
    public var noRepeatNGramSize: Int
    /// transformers' `bad_words_ids`; empty: off.
    public var badWordsIDs: [[Int32]]
    /// transformers' `min_new_tokens`; 0: off. Needs `eosTokenIDs`.
    public var minNewTokens: Int
    /// transformers' `suppress_tokens`; empty: off.
    public var suppressTokens: [Int32]
    /// transformers' `min_p`; 0: off.
    public var minP: Float
    /// transformers' `typical_p`; 1: off.
    public var typicalP: Float
    /// The EOS ids generate() hands to bad_words (single-token EOS entries are dropped) and
    /// min_new_tokens (the ids banned until enough tokens are new). GPT-2: [50256].
    public var eosTokenIDs: [Int32]

    /// transformers' generate() defaults: greedy; when sampling T 1.0, top_k 50, top_p 1.0;
    /// every other processor off.
    public init(doSample: Bool = false, temperature: Float = 1, topK: Int = 50, topP: Float = 1,
                repetitionPenalty: Float = 1, seed: UInt64? = nil,
                logitBias: [Int32: Float] = [:], presencePenalty: Float = 0, frequencyPenalty: Float = 0,
                noRepeatNGramSize: Int = 0, badWordsIDs: [[Int32]] = [], minNewTokens: Int = 0,
                suppressTokens: [Int32] = [], minP: Float = 0, typicalP: Float = 1,
                eosTokenIDs: [Int32] = []) {
        self.doSample = doSample; self.temperature = temperature; self.topK = topK; self.topP = topP
        self.repetitionPenalty = repetitionPenalty; self.seed = seed
        self.logitBias = logitBias; self.presencePenalty = presencePenalty; self.frequencyPenalty = frequencyPenalty
        self.noRepeatNGramSize = noRepeatNGramSize; self.badWordsIDs = badWordsIDs; self.minNewTokens = minNewTokens
        self.suppressTokens = suppressTokens; self.minP = minP; self.typicalP = typicalP; self.eosTokenIDs = eosTokenIDs
    }

    /// Throws the first parameter outside its valid range (TokenSampler traps on those). The ranges
    /// are GPT2Parameters' `GenerationParameterRanges`, which the wire's decoder checks too, and they
    /// hold on every request, greedy included: a greedy request with temperature 0 (or top_p 0) is
    /// refused like a sampling one, as PROTOCOL.md says — 0 does not mean greedy here.
    @_optimize(speed)
    public func validate() throws {
        typealias R = GenerationParameterRanges
        func check(_ ok: Bool, _ name: String, _ expected: String, _ value: Any) throws {
            guard ok else { throw SamplingParameterError(name, "has to be \(expected), but is \(value)") }
        }
        try LogitBias.validate(logitBias)
        try check(R.repetitionPenalty.contains(repetitionPenalty), "repetition_penalty", R.repetitionPenalty.expected, repetitionPenalty)
        try PresencePenalty.validate(presencePenalty)
        try FrequencyPenalty.validate(frequencyPenalty)
        try check(R.noRepeatNGramSize.contains(noRepeatNGramSize), "no_repeat_ngram_size", "an integer in \(R.noRepeatNGramSize)", noRepeatNGramSize)
        if !badWordsIDs.isEmpty { try BadWords.validate(badWordsIDs) }
        try check(R.minNewTokens.contains(minNewTokens), "min_new_tokens", "an integer in \(R.minNewTokens)", minNewTokens)
        try SuppressTokens.validate(suppressTokens)
        try check(R.temperature.contains(temperature), "temperature", R.temperature.expected, temperature)
        try check(R.topK.contains(topK), "top_k", "an integer >= \(R.topK.lowerBound)", topK)
        try check(R.topP.contains(topP), "top_p", R.topP.expected, topP)
        try check(R.minP.contains(minP), "min_p", R.minP.expected, minP)
        try check(R.typicalP.contains(typicalP), "typical_p", R.typicalP.expected, typicalP)
    }

    /// The processors in order (see the file header), those that are no-ops left out.
    @_optimize(speed)
    public func makeProcessors() -> [any LogitsProcessor] {
        var list: [any LogitsProcessor] = []
        if !logitBias.isEmpty { list.append(LogitBias(logitBias)) }
        if repetitionPenalty != 1 { list.append(RepetitionPenalty(repetitionPenalty)) }
        if presencePenalty != 0 { list.append(PresencePenalty(presencePenalty)) }
        if frequencyPenalty != 0 { list.append(FrequencyPenalty(frequencyPenalty)) }
        if noRepeatNGramSize > 0 { list.append(NoRepeatNGram(noRepeatNGramSize)) }
        if !badWordsIDs.isEmpty { list.append(BadWords(ids: badWordsIDs, eosIDs: eosTokenIDs)) }
        if minNewTokens > 0 && !eosTokenIDs.isEmpty { list.append(MinNewTokens(minNewTokens, eosIDs: eosTokenIDs)) }
        if !suppressTokens.isEmpty { list.append(SuppressTokens(suppressTokens)) }
        if doSample {
            if temperature != 1 { list.append(Temperature(temperature)) }
            if topK != 0 { list.append(TopK(topK)) }
            if topP < 1 { list.append(TopP(topP)) }
            if minP > 0 { list.append(MinP(minP)) }
            if typicalP < 1 { list.append(TypicalP(typicalP)) }
        }
        return list
    }
}

/// One sampled token with its log-probabilities (natural log), raw and after processing.
public struct SampledToken: Sendable, Equatable {
    public var token: Int32
    /// log softmax of the raw logits at `token` (vLLM's default `logprobs`).
    public var rawLogprob: Double
    /// log softmax of the processed logits at `token` (transformers' `output_scores`); −∞ never
    /// happens for a sampled token.
    public var processedLogprob: Double
    /// The top alternatives of the raw distribution (empty unless asked for).
    public var topRaw: [Logprobs.Entry]
    /// The top alternatives of the processed distribution (filtered tokens never appear).
    public var topProcessed: [Logprobs.Entry]
}

public struct TokenSampler {
    public let parameters: SamplingParameters
    /// The processors in order (those that are no-ops are left out, as generate() does).
    public let processors: [any LogitsProcessor]
    /// Where the prompt ends in the histories passed to `next(_:history:)`. nil: the length of the
    /// first history seen (the first call comes right after the prompt).
    public var promptLength: Int?
    private var rng: Xoshiro256

    /// Traps on invalid parameters; check them first with `SamplingParameters.validate()`.
    public init(_ p: SamplingParameters, promptLength: Int? = nil) {
        parameters = p
        processors = p.makeProcessors()
        self.promptLength = promptLength
        rng = Xoshiro256(seed: p.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// The next token for raw `logits` (V values) after `history` (prompt + generated).
    /// `logits` is left processed.
    @_optimize(speed)
    public mutating func next(_ logits: inout [Float], history: [Int32]) -> Int {
        if promptLength == nil { promptLength = history.count }
        return next(&logits, context: GenerationContext(history: history, promptLength: min(promptLength!, history.count)))
    }

    /// The next token for raw `logits` given the history and prompt boundary. `logits` is left processed.
    @_optimize(speed)
    public mutating func next(_ logits: inout [Float], context: GenerationContext) -> Int {
        processors.process(&logits, context: context)
        if !parameters.doSample { return Sampling.argmax(logits) }
        return draw(logits)
    }

    /// Samples from `raw` logits and reports log-probabilities before and after processing, with
    /// the top `topLogprobs` alternatives of each.
    @_optimize(speed)
    public mutating func sample(_ raw: [Float], context: GenerationContext, topLogprobs: Int = 0) -> SampledToken {
        var processed = raw
        let token = next(&processed, context: context)
        // One normaliser per distribution, shared by the token's log-probability and its alternatives.
        let lseRaw = Sampling.logSumExp(raw), lseProcessed = Sampling.logSumExp(processed)
        return SampledToken(
            token: Int32(token),
            rawLogprob: Sampling.logSoftmax(raw, at: token, logSumExp: lseRaw),
            processedLogprob: Sampling.logSoftmax(processed, at: token, logSumExp: lseProcessed),
            topRaw: Logprobs.top(raw, count: topLogprobs, logSumExp: lseRaw),
            topProcessed: Logprobs.top(processed, count: topLogprobs, logSumExp: lseProcessed))
    }

    /// Categorical draw from softmax(logits); −∞ entries are never drawn.
    @_optimize(speed)
    mutating func draw(_ logits: [Float]) -> Int {
        let m = logits.max() ?? 0
        var total = 0.0
        var weights = [Double](repeating: 0, count: logits.count)
        for i in logits.indices where logits[i] > -.infinity {
            let w = Foundation.exp(Double(logits[i] - m)); weights[i] = w; total += w
        }
        var u = rng.nextUnitDouble() * total
        var last = Sampling.argmax(logits)
        for i in weights.indices where weights[i] > 0 {
            last = i
            u -= weights[i]
            if u < 0 { return i }
        }
        return last
    }
}

/// xoshiro256** seeded through SplitMix64: fast, small, reproducible across platforms.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        @_optimize(speed)
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    @_optimize(speed)
    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @_optimize(speed)
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

extension Sampling {
    /// log-softmax of `logits` at `index`: logits[index] − logsumexp(logits).
    @_optimize(speed)
    public static func logSoftmax(_ logits: [Float], at index: Int) -> Double {
        logSoftmax(logits, at: index, logSumExp: logSumExp(logits))
    }

    /// The same with `logSumExp(logits)` already known (a caller that also ranks alternatives).
    public static func logSoftmax(_ logits: [Float], at index: Int, logSumExp lse: Double) -> Double {
        logits[index].isFinite ? Double(logits[index]) - lse : -.infinity
    }

    /// log Σ exp(x) around the maximum (CKernels' `ck_log_sum_exp`: float32 exponentials, chunk sums
    /// added in Double; relative error ≈ 1e-7 for a 50257-entry vocabulary). A non-finite maximum is
    /// returned as it is. In C so that debug builds (the tests) do not pay Swift's unspecialised SIMD.
    public static func logSumExp(_ x: [Float]) -> Double {
        x.withUnsafeBufferPointer { ck_log_sum_exp($0.baseAddress, $0.count) }
    }
}
