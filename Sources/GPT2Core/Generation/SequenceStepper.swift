// SequenceStepper — the per-step rule of one generated sequence, shared by every generation loop
// (the daemon's GenerationWork, GPT2Runner.generate and its users greedy / sampleSequences, and
// gpt2-bench): raw logits → the logits processors → the sampler (argmax when greedy) → whether the
// sequence ends (one of its EOS ids, or max_new_tokens reached). Text-level stops (stop strings)
// are the caller's: they need the tokenizer.
//
// Seed rule for n sequences of one request: sequence i draws from its own generator seeded with
// `base &+ i` (SamplingParameters.sequenceSeed; wrapping UInt64 addition), so sequence 0 is what a
// single request with seed `base` produces and any sequence can be reproduced alone.

extension SamplingParameters {
    /// The seed of sequence `index` of a multi-sequence request with base seed `base`.
    public static func sequenceSeed(base: UInt64, index: Int) -> UInt64 { base &+ UInt64(index) }
}

public struct SequenceStepper {
    /// Why the sequence ended (on the token level).
    public enum Stop: Sendable, Equatable {
        /// It produced one of its EOS ids (included in `generated`).
        case eos
        /// It produced max_new_tokens tokens.
        case length
    }

    /// One step's decision.
    public struct Step {
        public var token: Int32
        /// The token's log-probabilities and alternatives, when asked for.
        public var sampled: SampledToken?
        /// Set when this token ends the sequence.
        public var stop: Stop?
    }

    public private(set) var sampler: TokenSampler
    /// Token ids that end the sequence (empty: only the length ends it).
    public let eosTokenIDs: Set<Int32>
    public let maxNewTokens: Int
    /// Where the prompt ends in the histories passed to `step` (the processors' boundary).
    public let promptLength: Int
    /// The tokens produced so far.
    public private(set) var generated: [Int32] = []
    /// Set once a step ended the sequence.
    public private(set) var stop: Stop?

    /// Traps on invalid parameters (check them with `SamplingParameters.validate()` first).
    public init(parameters: SamplingParameters, promptLength: Int, maxNewTokens: Int, eosTokenIDs: Set<Int32>) {
        sampler = TokenSampler(parameters, promptLength: promptLength)
        self.promptLength = promptLength
        self.maxNewTokens = maxNewTokens
        self.eosTokenIDs = eosTokenIDs
    }

    /// Sequence `index` of a request whose sequences share `parameters` and the base seed `base`.
    public init(parameters: SamplingParameters, sequence index: Int, baseSeed base: UInt64,
                promptLength: Int, maxNewTokens: Int, eosTokenIDs: Set<Int32>) {
        var p = parameters
        p.seed = SamplingParameters.sequenceSeed(base: base, index: index)
        self.init(parameters: p, promptLength: promptLength, maxNewTokens: maxNewTokens, eosTokenIDs: eosTokenIDs)
    }

    /// The next token from raw `logits` (V values) after `history` (prompt + generated so far),
    /// with its log-probabilities and `topLogprobs` alternatives when `topLogprobs` is not nil
    /// (two more passes over the vocabulary). Records it and decides whether the sequence ends.
    @_optimize(speed)
    public mutating func step(_ logits: [Float], history: [Int32], topLogprobs: Int? = nil) -> Step {
        precondition(stop == nil, "the sequence has ended")
        let context = GenerationContext(history: history, promptLength: promptLength)
        let token: Int32
        var sampled: SampledToken? = nil
        if let n = topLogprobs {
            sampled = sampler.sample(logits, context: context, topLogprobs: n)
            token = sampled!.token
        } else {
            var work = logits
            token = Int32(sampler.next(&work, context: context))
        }
        generated.append(token)
        if eosTokenIDs.contains(token) { stop = .eos } else if generated.count >= maxNewTokens { stop = .length }
        return Step(token: token, sampled: sampled, stop: stop)
    }
}
