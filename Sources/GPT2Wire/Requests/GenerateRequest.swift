// generate — text continuation with transformers' generate() parameters and defaults
// (greedy, 20 new tokens, temperature 1.0, top_k 50, top_p 1.0, repetition_penalty 1.0).

import GPT2JSON
import GPT2Parameters

public struct GenerateRequest: WireRequest {
    public typealias Response = GenerateResponse
    public static let op = "generate"

    public static let defaultMaxNewTokens = GenerationParameterRanges.defaultMaxNewTokens
    public static let maxStopStrings = 16
    /// Upper bound of "max_new_tokens" on the wire; the model's n_positions is checked by the daemon.
    public static let maxNewTokensLimit = GenerationParameterRanges.maxNewTokens.upperBound

    public var model: String
    /// "prompt" (non-empty string) or "tokens" (non-empty ids), exactly one.
    public var input: PromptInput
    /// An open session whose KV cache is reused for the longest common token prefix.
    public var session: String?
    /// nil = unset: 20, capped at what fits in n_positions (transformers' default case). An explicit
    /// value that doesn't fit is `context_overflow`.
    public var maxNewTokens: Int?
    public var doSample: Bool
    /// > 0; used only when do_sample.
    public var temperature: Double
    /// ≥ 0, 0 disables; used only when do_sample.
    public var topK: Int
    /// In (0, 1]; used only when do_sample.
    public var topP: Double
    /// > 0; 1.0 disables. Applies to greedy and sampling.
    public var repetitionPenalty: Double
    /// 0 ... 2^63-1; nil = random. Same seed and inputs → same tokens.
    public var seed: UInt64?
    /// Stop strings ("stop": string or array, ≤ 16, each non-empty). The matched text is excluded from the result.
    public var stop: [String]
    public var stream: Bool
    /// Report each generated token's log-probability (token lines and result "logprobs").
    public var logprobs: Bool

    /// More generate() / serving knobs (issue #6); every default leaves the behaviour above unchanged.
    public var advanced = GenerateAdvanced()

    public static let wireDefaults = GenerateRequest(model: "", input: .text(""))
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        PromptInput.field(textKey: "prompt", \.input),
        .optional("session", \.session, .nonEmptyString),
        // Ranges: GPT2Parameters' GenerationParameterRanges, which GPT2Core's validation reads too.
        .optional("max_new_tokens", \.maxNewTokens, .int(GenerationParameterRanges.maxNewTokens)),
        .defaulted("do_sample", \.doSample, .bool),
        .defaulted("temperature", \.temperature, .number(GenerationParameterRanges.temperature)),
        .defaulted("top_k", \.topK, .int(GenerationParameterRanges.topK)),
        .defaulted("top_p", \.topP, .number(GenerationParameterRanges.topP)),
        .defaulted("repetition_penalty", \.repetitionPenalty, .number(GenerationParameterRanges.repetitionPenalty)),
        .optional("seed", \.seed, .seed),
        .omittedWhenDefault("stop", \.stop, .stringOrStrings(maxCount: Self.maxStopStrings, nonEmptyElements: true)),
        .defaulted("stream", \.stream, .bool),
        .defaulted("logprobs", \.logprobs, .bool),
    ] + GenerateAdvanced.wireFields.map { $0.embedded(at: \.advanced) }

    public func validateFields() throws(WireError) {
        if advanced.numBeams > 1 && stream {
            throw WireError(.invalidField, "stream cannot be combined with num_beams > 1 (beams reorder until the end)", field: "stream")
        }
        if advanced.numBeams > 1 && doSample {
            throw WireError(.invalidField, "beam sampling is not supported: use do_sample false with num_beams > 1", field: "num_beams")
        }
        if advanced.numReturnSequences > 1 && advanced.numBeams == 1 && !doSample {
            throw WireError(.invalidField, "num_return_sequences > 1 needs do_sample true or num_beams ≥ num_return_sequences (greedy would repeat one answer)", field: "num_return_sequences")
        }
        if advanced.numBeams > 1 && advanced.numReturnSequences > advanced.numBeams {
            throw WireError(.invalidField, "num_return_sequences must be ≤ num_beams", field: "num_return_sequences")
        }
        if advanced.numReturnSequences > 1 && session != nil {
            throw WireError(.invalidField, "a session continues one sequence: num_return_sequences must be 1", field: "num_return_sequences")
        }
        if advanced.numBeams > 1 && session != nil {
            throw WireError(.invalidField, "beam search does not continue sessions", field: "num_beams")
        }
    }

    public init(
        model: String, input: PromptInput, session: String? = nil, maxNewTokens: Int? = nil,
        doSample: Bool = false, temperature: Double = 1.0, topK: Int = 50, topP: Double = 1.0,
        repetitionPenalty: Double = 1.0, seed: UInt64? = nil, stop: [String] = [], stream: Bool = false,
        logprobs: Bool = false
    ) {
        self.model = model
        self.input = input
        self.session = session
        self.maxNewTokens = maxNewTokens
        self.doSample = doSample
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.stop = stop
        self.stream = stream
        self.logprobs = logprobs
    }
}
