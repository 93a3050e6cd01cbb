// EngineResults — what the engine answers: a generation's streamed tokens and result, a scoring's
// result, a session's description. `Mapping/` turns them into wire responses.

/// Why a sequence ended.
public enum FinishReason: Sendable, Equatable {
    /// max_new_tokens generated, or the context is full.
    case length
    /// A stop string appeared in the text.
    case stop
    /// The model produced an end-of-sequence token.
    case eos
}

/// A token and its log-probability (nil when it is -inf).
public struct RankedToken: Sendable, Equatable {
    public var token: Int
    public var logprob: Double?
    public init(token: Int, logprob: Double?) { self.token = token; self.logprob = logprob }
}

/// One streamed token of a generation.
public struct GeneratedToken: Sendable, Equatable {
    /// 0-based position among the sequence's generated tokens.
    public var index: Int
    public var token: Int
    /// Text released with this token (held back while it may be part of a stop string).
    public var text: String
    public var logprob: Double?
    /// Which sequence of a num_return_sequences group; nil for a single sequence.
    public var sequence: Int?
    public var topLogprobs: [RankedToken]?
}

public struct GenerationUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens whose keys and values came from a cache (session, prefix cache).
    public var cachedTokens: Int
}

/// Milliseconds: waiting, computing the prompt, generating, end to end.
public struct GenerationTiming: Sendable, Equatable {
    public var queueMs: Double
    public var promptMs: Double
    public var completionMs: Double
    public var totalMs: Double
}

/// One sequence of a group or beam search.
public struct SequenceOutput: Sendable, Equatable {
    public var text: String
    public var tokens: [Int]
    public var finishReason: FinishReason
    public var logprobs: [Double?]?
    /// Beam search: the length-penalised sum of log-probabilities.
    public var score: Double?
}

/// A finished generation. With several sequences, the top-level fields repeat `sequences[0]`.
public struct GenerationResult: Sendable, Equatable {
    public var text: String
    public var tokens: [Int]
    public var finishReason: FinishReason
    public var usage: GenerationUsage
    public var timing: GenerationTiming
    public var logprobs: [Double?]?
    public var topLogprobs: [[RankedToken]]?
    public var sequences: [SequenceOutput]?
}

/// What a generation reports: zero or more tokens (when streaming), then exactly one result or error.
public enum EngineEvent: Sendable {
    case token(GeneratedToken)
    case result(GenerationResult)
    case error(EngineError)
}

/// A finished scoring: the scored tokens and their log-probabilities (nil: the first token of a
/// session-less input, which nothing predicts, or -inf).
public struct ScoreResult: Sendable, Equatable {
    public var tokens: [Int]
    public var logprobs: [Double?]
    /// exp(−mean finite log-probability); nil when there is none.
    public var perplexity: Double?
    public var topLogprobs: [[RankedToken]?]?
}

/// A session as its owner sees it.
public struct SessionSnapshot: Sendable, Equatable {
    public var id: String
    public var model: String
    public var tokenCount: Int
    public var busy: Bool
    /// Seconds since 1970.
    public var createdAt: Double
    public var lastUsedAt: Double
    /// Its owner's name for it.
    public var name: String? = nil
    /// KV-cache bytes it holds (as of its last request's start or end while it is busy).
    public var kvBytes: Int = 0
    /// Seconds unused before it is closed.
    public var idleTimeout: Double = 0

    /// Bytes of its stored history: 4 per token (the database's BLOB).
    public var historyBytes: Int { tokenCount * 4 }
}

/// One principal's open sessions summed, next to its quotas (session.list).
public struct SessionUsage: Sendable, Equatable {
    public var sessions: Int
    public var maxSessions: Int
    public var tokens: Int
    public var maxTokens: Int
    public var historyBytes: Int
    public var kvBytes: Int
}
