// GenerationSettings — a generation request checked against its model: the processors' and
// sampler's parameters, the stop ids, and (once the prompt length is known) max_new_tokens. Shared
// by the sampled sequences (GenerationWork) and beam search (BeamWork).
import GPT2Core

final class GenerationSettings {
    let request: GenerationRequest
    /// Where the request's events go (for a group member: wrapped by its SequenceGroup).
    let events: @Sendable (EngineEvent) -> Void
    /// Validated; greedy requests carry seed 0 (they never draw).
    let parameters: SamplingParameters
    /// Token ids that end the sequence (empty with ignore_eos).
    let stopIDs: Set<Int32>
    var maxNewTokens = 0
    /// context.count when generation began: the processors' prompt boundary.
    var promptLength = 0

    /// `seed` overrides the request's (sequence i of a group samples with base + i). Throws
    /// invalid_field for parameters outside their ranges or token ids outside the vocabulary.
    init(request: GenerationRequest, model: ServedModel, seed: UInt64?,
         events: @escaping @Sendable (EngineEvent) -> Void) throws(EngineError) {
        self.request = request
        self.events = events
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
        stopIDs = a.ignoreEOS ? [] : Set(eos)
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

    /// Takes the fitted lengths of another sequence of the same request (a group follower, its leader's).
    func adopt(_ other: GenerationSettings) {
        maxNewTokens = other.maxNewTokens
        promptLength = other.promptLength
    }
}
