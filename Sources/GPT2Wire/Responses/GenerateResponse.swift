// generate result: {text, tokens, finish_reason, usage, timing, logprobs?}.

import GPT2JSON

public struct GenerateResponse: WireResponse {
    public enum FinishReason: String, Sendable, Equatable {
        /// max_new_tokens reached (or the context filled up when max_new_tokens was unset).
        case length
        /// A stop string matched.
        case stop
        /// The model produced <|endoftext|> (included in `tokens`, not in `text`).
        case eos
    }

    /// The generated text (prompt excluded; a matched stop string and what follows it excluded).
    public var text: String
    /// The generated token ids (prompt excluded).
    public var tokens: [Int]
    public var finishReason: FinishReason
    public var usage: Usage
    public var timing: Timing
    /// Per generated token, when the request set "logprobs": true (null for -inf).
    public var logprobs: [Double?]?

    /// Per-step alternatives, when the request set "top_logprobs".
    public var topLogprobs: [[TokenLogprob]]?
    /// Every returned sequence when num_return_sequences > 1 (best first for beam search); the
    /// top-level text/tokens/finish_reason/logprobs repeat sequences[0].
    public var sequences: [GeneratedSequence]?

    public static let wireDefaults = GenerateResponse(
        text: "", tokens: [], finishReason: .length, usage: .init(promptTokens: 0, completionTokens: 0),
        timing: .init(queueMs: 0, promptMs: 0, completionMs: 0, totalMs: 0))
    public static let wireFields: [WireField<Self>] = [
        .required("text", \.text, .string),
        .required("tokens", \.tokens, .intArray()),
        .required("finish_reason", \.finishReason, .finishReason),
        .required("usage", \.usage, .object(Usage.self)),
        .required("timing", \.timing, .object(Timing.self)),
        .optional("logprobs", \.logprobs, .logprobs),
        .optional("top_logprobs", \.topLogprobs, .array(of: .array(of: .object(TokenLogprob.self)))),
        .optional("sequences", \.sequences, .array(of: .object(GeneratedSequence.self))),
    ]

    public init(text: String, tokens: [Int], finishReason: FinishReason, usage: Usage, timing: Timing, logprobs: [Double?]? = nil,
                topLogprobs: [[TokenLogprob]]? = nil, sequences: [GeneratedSequence]? = nil) {
        self.text = text
        self.tokens = tokens
        self.finishReason = finishReason
        self.usage = usage
        self.timing = timing
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.sequences = sequences
    }

    /// Token counts.
    public struct Usage: WireObject {
        /// Tokens in the prompt (including any reused from the session cache).
        public var promptTokens: Int
        public var completionTokens: Int
        /// Prompt tokens whose KV entries came from the session cache (not recomputed).
        public var cachedTokens: Int

        public static let wireDefaults = Usage(promptTokens: 0, completionTokens: 0)
        public static let wireFields: [WireField<Self>] = [
            .required("prompt_tokens", \.promptTokens, .int()),
            .required("completion_tokens", \.completionTokens, .int()),
            .defaulted("cached_tokens", \.cachedTokens, .int()),
        ]

        public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.cachedTokens = cachedTokens
        }
    }

    /// Wall-clock milliseconds.
    public struct Timing: WireObject {
        /// Waiting before compute started.
        public var queueMs: Double
        /// Prompt processing (prefill).
        public var promptMs: Double
        /// Token generation (decode).
        public var completionMs: Double
        /// From request line received to result line written.
        public var totalMs: Double

        public static let wireDefaults = Timing(queueMs: 0, promptMs: 0, completionMs: 0, totalMs: 0)
        public static let wireFields: [WireField<Self>] = [
            .required("queue_ms", \.queueMs, .number()),
            .required("prompt_ms", \.promptMs, .number()),
            .required("completion_ms", \.completionMs, .number()),
            .required("total_ms", \.totalMs, .number()),
        ]

        public init(queueMs: Double, promptMs: Double, completionMs: Double, totalMs: Double) {
            self.queueMs = queueMs
            self.promptMs = promptMs
            self.completionMs = completionMs
            self.totalMs = totalMs
        }
    }
}

extension WireCodec where Value == GenerateResponse.FinishReason {
    static var finishReason: WireCodec { choice(expected: "\"length\", \"stop\" or \"eos\"") }
}

extension WireCodec where Value == [Double?] {
    /// Per-token log-probabilities, null for -inf.
    static var logprobs: WireCodec { array(of: WireCodec<Double>.number("a number or null").orNull) }
}
