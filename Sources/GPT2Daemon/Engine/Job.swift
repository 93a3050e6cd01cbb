// Job — the per-request state the scheduler advances: parameters, the sequence being computed,
// and what has been produced. Owned by the engine thread once admitted; only `cancelReason` is
// touched from other threads (under the engine's lock).
import Foundation
import GPT2Core
import GPT2Tokenizer

final class Job {
    enum Kind {
        case generate(GenerationState)
        /// num_beams > 1: all beams of the request, one row each per step of the shared batch.
        case beam(BeamState)
        case score(ScoreState)
        case hidden(HiddenState)
    }

    let key: JobKey
    let client: ClientIdentity
    let model: ServedModel
    let kind: Kind
    let submittedAt: Double
    /// Set by cancel/cancelAll/shutdown (under Engine.lock); the scheduler ends the job at its next step.
    var cancelReason: EngineError?

    /// Where the job is in its life (one value, changed only by the engine: submission, admission,
    /// the ending's bookkeeping).
    enum Phase: Equatable {
        /// Registered (answers `cancel`, counts as in flight): its text is being tokenized, it waits
        /// in the inbox, or — a group follower — it waits for its leader's prompt.
        case submitted
        /// Admitted: on the compute thread, in `active`, computing in `cache`.
        case running
        /// Its bookkeeping is done (session handed back, counters, forgotten); it ends only once.
        case ended
    }

    /// Whether the job answers for the request in the counters, or is one more sequence of it.
    enum Role: Equatable {
        /// The request (a group's leader, a task's first sequence, or the only job).
        case request
        /// Another sequence of a num_return_sequences group or of a task request.
        case member
    }

    let role: Role
    var phase = Phase.submitted
    /// Admission order (engine thread): preemption picks the newest job first.
    var admission = 0
    var startedAt: Double = 0
    var session: SessionStore.Session?
    var cache: KVCache!
    /// Every token of the sequence so far (session history + input + generated).
    var context: [Int32] = []
    /// `textInput` tokenized (set before the job is queued).
    var textTokens: [Int32] = []
    /// Tokens of `context` not yet in the cache: fed by the next steps.
    var pending: [Int32] = []
    var promptTokens = 0
    var cachedTokens = 0

    init(key: JobKey, client: ClientIdentity, model: ServedModel, kind: Kind, role: Role = .request) {
        self.key = key; self.client = client; self.model = model; self.kind = kind; self.role = role
        submittedAt = Engine.now()
    }

    var isScore: Bool { if case .score = kind { return true }; return false }
    var isBeam: Bool { if case .beam = kind { return true }; return false }

    /// The request's text input, when it has one (tokenized off the compute thread into `textTokens`).
    var textInput: String? {
        let input: Prompt
        switch kind {
        case .generate(let g): input = g.request.prompt
        case .beam(let b): input = b.generation.request.prompt
        case .score(let s): input = s.request.prompt
        case .hidden: return nil
        }
        if case .text(let t) = input { return t }
        return nil
    }

    /// A generation is decoding once its prompt is computed: it feeds one token per step.
    /// (A preempted one recomputes its whole history first, like a prompt.)
    var isDecoding: Bool {
        switch kind {
        case .generate(let g): return !g.generated.isEmpty && pending.count == 1
        case .beam(let b): return !b.caches.isEmpty  // one token per running beam
        case .score, .hidden: return false
        }
    }
}

/// Generation parameters and progress of one sequence.
final class GenerationState {
    let request: GenerationRequest
    /// Where this sequence's events go (wrapped by its SequenceGroup when n > 1).
    let events: @Sendable (EngineEvent) -> Void
    let parameters: SamplingParameters
    var sampler: TokenSampler
    /// Token ids that end the sequence (empty with ignore_eos).
    let stopIDs: Set<Int32>
    var maxNewTokens = 0
    /// context.count when generation began: the processors' prompt boundary.
    var promptLength = 0
    var generated: [Int32] = []
    var logprobs: [Double?] = []
    var topLogprobs: [[RankedToken]] = []
    var decoder: StreamingDecoder
    var filter: StopTextFilter
    var firstTokenAt: Double = 0
    var finishReason: FinishReason?
    /// n > 1: the group this sequence belongs to and its index in it.
    let group: SequenceGroup?
    let index: Int
    /// n > 1, leader only: the other sequences, started from a fork of the leader's prompt cache.
    var followers: [Job] = []
    /// Followers: set once the leader's prompt is computed and this sequence has its own cache.
    var forked = false

    /// Throws invalid_field for parameters outside their ranges or token ids outside the vocabulary.
    init(request: GenerationRequest, model: ServedModel, index: Int = 0, group: SequenceGroup? = nil,
         events: @escaping @Sendable (EngineEvent) -> Void) throws(EngineError) {
        self.request = request
        self.events = events
        self.index = index
        self.group = group
        let a = request
        let cfg = model.model.config
        let eos: [Int32] = cfg.eosTokenId.map { [Int32($0)] } ?? []
        let V = cfg.vocabSize
        func checkIDs(_ ids: [Int], _ field: String) throws(EngineError) {
            if let bad = ids.first(where: { $0 >= V }) {
                throw EngineError(.invalidField, "\(field) names token \(bad), outside the vocabulary (0..<\(V))", field: field)
            }
        }
        try checkIDs(a.suppressTokens, "suppress_tokens")
        try checkIDs(a.badWordsIDs.flatMap { $0 }, "bad_words_ids")
        try checkIDs(Array(a.logitBias.keys), "logit_bias")
        var seed = request.seed
        if let g = group { seed = SamplingParameters.sequenceSeed(base: g.baseSeed, index: index) }
        var p = SamplingParameters(
            doSample: request.doSample, temperature: Float(request.temperature), topK: request.topK,
            topP: Float(request.topP), repetitionPenalty: Float(request.repetitionPenalty), seed: seed,
            logitBias: Dictionary(uniqueKeysWithValues: a.logitBias.map { (Int32($0.key), Float($0.value)) }),
            presencePenalty: Float(a.presencePenalty), frequencyPenalty: Float(a.frequencyPenalty),
            noRepeatNGramSize: a.noRepeatNGramSize, badWordsIDs: a.badWordsIDs.map { $0.map(Int32.init) },
            minNewTokens: a.ignoreEOS ? 0 : a.minNewTokens, suppressTokens: a.suppressTokens.map(Int32.init),
            minP: Float(a.minP), typicalP: Float(a.typicalP), eosTokenIDs: eos)
        do { try p.validate() } catch let e as SamplingParameterError {
            throw EngineError(.invalidField, e.message, field: e.parameter)
        } catch { throw EngineError(.invalidField, "\(error)") }
        if !p.doSample { p.seed = 0 }  // greedy never draws: keep the sampler deterministic
        parameters = p
        sampler = TokenSampler(p)
        stopIDs = a.ignoreEOS ? [] : Set(eos)
        decoder = StreamingDecoder(tokenizer: model.tokenizer)
        filter = StopTextFilter(stops: request.stop, includeStop: a.includeStopInOutput)
    }

    /// Sets `maxNewTokens` (max_new_tokens, or the default within the room left) and `promptLength`
    /// for a sequence of `promptLength` tokens; context_overflow when max_new_tokens does not fit.
    func fitNewTokens(after promptLength: Int, nPositions: Int) throws(EngineError) {
        let room = nPositions - promptLength
        if let n = request.maxNewTokens {
            if n > room {
                throw EngineError(.contextOverflow, "\(promptLength) prompt tokens + max_new_tokens \(n) exceed the model's context of \(nPositions)", field: "max_new_tokens")
            }
            maxNewTokens = n
        } else {
            maxNewTokens = min(GenerationRequest.defaultMaxNewTokens, room)
        }
        self.promptLength = promptLength
    }

    /// Whether the result carries per-token log-probabilities.
    var wantsLogprobs: Bool { request.wantsLogprobs }
}

/// Scoring parameters and progress.
final class ScoreState {
    let request: ScoringRequest
    let completion: @Sendable (Result<ScoreResult, EngineError>) -> Void
    /// Index in `context` of the first scored token.
    var scoreStart = 0
    /// Log-probabilities of context[scoreStart...], filled as rows come back.
    var logprobs: [Double?] = []
    var top: [[RankedToken]?] = []

    init(request: ScoringRequest, completion: @escaping @Sendable (Result<ScoreResult, EngineError>) -> Void) {
        self.request = request
        self.completion = completion
    }
}

/// A beam search in the shared batches: the prompt is prefilled in the job's cache like a
/// generation's; then every running beam has its own cache (forked from it) and feeds one token per
/// step, and `search` decides after each step which beams go on.
final class BeamState {
    /// The request, its processors' parameters, stop ids and max_new_tokens.
    let generation: GenerationState
    /// Set at admission (they need the prompt length).
    var parameters: BeamSearchParameters?
    var search: BeamSearchState?
    /// The running beams' caches, `search.runningTokens` order; empty while the prompt is computed.
    var caches: [KVCache] = []
    var vocabSize = 0
    /// The search's answer, best first (empty with max_new_tokens 0).
    var hypotheses: [BeamHypothesis] = []
    init(generation: GenerationState) { self.generation = generation }
}
