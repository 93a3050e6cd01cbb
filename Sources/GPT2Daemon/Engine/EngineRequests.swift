// EngineRequests — what a listener asks the engine to do, in the engine's terms. Field names are
// transformers' generate() arguments in Swift spelling; the ranges are checked by the engine
// (SamplingParameters.validate, the vocabulary, n_positions), whatever transport the request came on.

import GPT2Parameters

/// The input of a generation or a scoring: text (tokenized by the engine, off its compute thread)
/// or token ids.
public enum Prompt: Sendable, Equatable {
    case text(String)
    case tokens([Int])
}

/// One generation: a prompt, how to pick tokens, when to stop and what to report.
public struct GenerationRequest: Sendable {
    /// New tokens when `maxNewTokens` is nil (capped to what fits in n_positions), as transformers.
    public static let defaultMaxNewTokens = GenerationParameterRanges.defaultMaxNewTokens

    public enum EarlyStopping: Sendable, Equatable { case whenNFinished, heuristic, never }
    /// Which distribution reported log-probabilities come from.
    public enum LogprobsMode: Sendable, Equatable { case raw, processed }

    public var model: String
    public var prompt: Prompt
    /// An open session to continue (its history precedes the prompt).
    public var session: String?
    /// nil: `defaultMaxNewTokens`, capped to fit; an explicit value that does not fit is context_overflow.
    public var maxNewTokens: Int?

    // Token choice (GPT2Core's SamplingParameters validates them).
    public var doSample = false
    public var temperature = 1.0
    public var topK = 50
    public var topP = 1.0
    public var repetitionPenalty = 1.0
    /// nil: a random seed.
    public var seed: UInt64?
    public var minNewTokens = 0
    public var noRepeatNGramSize = 0
    public var badWordsIDs: [[Int]] = []
    public var suppressTokens: [Int] = []
    public var minP = 0.0
    public var typicalP = 1.0
    public var presencePenalty = 0.0
    public var frequencyPenalty = 0.0
    public var logitBias: [Int: Double] = [:]
    /// Keep going after EOS (also disables min_new_tokens).
    public var ignoreEOS = false

    // Several sequences.
    public var numReturnSequences = 1
    public var numBeams = 1
    public var lengthPenalty = 1.0
    public var earlyStopping = EarlyStopping.heuristic

    // Stops and reporting.
    public var stop: [String] = []
    public var includeStopInOutput = false
    /// Report every token as it is generated (`EngineEvent.token`).
    public var stream = false
    public var logprobs = false
    /// Alternatives per token (implies logprobs).
    public var topLogprobs = 0
    public var logprobsMode = LogprobsMode.raw

    public init(model: String, prompt: Prompt) { self.model = model; self.prompt = prompt }

    /// Whether the result carries per-token log-probabilities.
    var wantsLogprobs: Bool { logprobs || topLogprobs > 0 }
}

/// One scoring: the log-probability of every token of the input under the model.
public struct ScoringRequest: Sendable {
    public var model: String
    public var prompt: Prompt
    /// An open session: its history is context, only the new input is scored.
    public var session: String?
    /// Alternatives per position.
    public var topLogprobs = 0

    public init(model: String, prompt: Prompt, session: String? = nil, topLogprobs: Int = 0) {
        self.model = model; self.prompt = prompt; self.session = session; self.topLogprobs = topLogprobs
    }
}
