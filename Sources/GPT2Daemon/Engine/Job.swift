// Job — the per-request state the scheduler advances: parameters, the sequence being computed,
// and what has been produced. Owned by the engine thread once admitted; only `cancelled` is
// touched from other threads (under the engine's lock).
import Foundation
import GPT2Core
import GPT2Tokenizer
import GPT2Wire

final class Job {
    enum Kind {
        case generate(GenerationState)
        case score(ScoreState)
    }

    let key: JobKey
    let client: ClientIdentity
    let model: ServedModel
    let kind: Kind
    let submittedAt: Double
    /// Set by cancel/cancelAll/shutdown (under Engine.lock); the scheduler ends the job at its next step.
    var cancelReason: WireError?

    // Set up on the engine thread.
    var started = false
    var startedAt: Double = 0
    var session: SessionStore.Session?
    var cache: KVCache!
    /// Every token of the sequence so far (session history + input + generated).
    var context: [Int32] = []
    /// Tokens of `context` not yet in the cache: fed by the next steps.
    var pending: [Int32] = []
    var promptTokens = 0
    var cachedTokens = 0

    init(key: JobKey, client: ClientIdentity, model: ServedModel, kind: Kind) {
        self.key = key; self.client = client; self.model = model; self.kind = kind
        submittedAt = Engine.now()
    }

    /// A generation is decoding once its prompt is computed: it feeds one token per step.
    var isDecoding: Bool {
        if case .generate(let g) = kind { return !g.generated.isEmpty }
        return false
    }
}

/// Generation parameters and progress.
final class GenerationState {
    let request: GenerateRequest
    let events: @Sendable (GenerateEvent) -> Void
    var sampler: TokenSampler
    var maxNewTokens = 0
    var generated: [Int32] = []
    var logprobs: [Double?] = []
    var decoder: StreamingDecoder
    var filter: StopTextFilter
    var firstTokenAt: Double = 0
    var finishReason: GenerateResponse.FinishReason?

    init(request: GenerateRequest, tokenizer: GPT2Tokenizer, events: @escaping @Sendable (GenerateEvent) -> Void) {
        self.request = request
        self.events = events
        sampler = TokenSampler(SamplingParameters(
            doSample: request.doSample, temperature: Float(request.temperature), topK: request.topK,
            topP: Float(request.topP), repetitionPenalty: Float(request.repetitionPenalty), seed: request.seed))
        decoder = StreamingDecoder(tokenizer: tokenizer)
        filter = StopTextFilter(stops: request.stop)
    }
}

/// Scoring parameters and progress.
final class ScoreState {
    let request: ScoreRequest
    let completion: @Sendable (Result<ScoreResponse, WireError>) -> Void
    /// Index in `context` of the first scored token.
    var scoreStart = 0
    /// Log-probabilities of context[scoreStart...], filled as rows come back.
    var logprobs: [Double?] = []
    var top: [[TokenLogprob]?] = []

    init(request: ScoreRequest, completion: @escaping @Sendable (Result<ScoreResponse, WireError>) -> Void) {
        self.request = request
        self.completion = completion
    }
}
