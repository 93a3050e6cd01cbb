// BeamWork — num_beams > 1 inside the shared batches. The job prefills its prompt like a
// generation; then each running beam is one row of every step's forward pass (its own cache, forked
// from the prompt's), and `BeamSearchState` — GPT2Core's search as a step function — picks after
// each step which beams go on. Results are transformers' generate(num_beams=…), token-identical.
// Cancellation and preemption work as for any job (a preempted search restarts from its prompt: the
// search is deterministic, so the result does not change). The hypotheses' text (decoding, stop
// strings) is made on the request's output queue, after the engine handed the token ids over.
import Foundation
import GPT2Core
import GPT2Tokenizer

final class BeamWork: SequenceWork {
    /// The request, its processors' parameters, stop ids and max_new_tokens.
    let settings: GenerationSettings
    let tokenizer: GPT2Tokenizer
    /// Where the result's text is made and the answer handed over (never the compute thread).
    private let output: OutputQueue
    /// Set at admission (they need the prompt length).
    private var parameters: BeamSearchParameters?
    private var search: BeamSearchState?
    /// The running beams' caches, `search.runningTokens` order; empty while the prompt is computed.
    private(set) var caches: [KVCache] = []
    private var vocabSize = 0
    /// The search's answer, best first (empty with max_new_tokens 0).
    private var hypotheses: [BeamHypothesis] = []

    init(request: GenerationRequest, model: ServedModel, output: OutputQueue,
         events: @escaping @Sendable (EngineEvent) -> Void) throws(EngineError) {
        settings = try GenerationSettings(request: request, model: model, seed: request.seed, events: events)
        tokenizer = model.tokenizer
        self.output = output
    }

    var input: Prompt { settings.request.prompt }
    var generatesAtMost: Int { settings.request.maxNewTokens ?? GenerationRequest.defaultMaxNewTokens }
    var parallelSequences: Int { max(1, settings.request.numBeams) }
    var sessionID: String? { settings.request.session }
    /// A beam search starts from its prompt alone (or its session's cache), as it always has.
    var usesPrefixCache: Bool { false }
    /// Its prompt cache was forked into the beams; it is not offered to later requests.
    var leavesPrefix: Bool { false }

    func admit(_ job: Job, historyCount: Int, config: GPT2Config) throws(EngineError) -> (firstNeeded: Int, computes: Bool) {
        try settings.fitNewTokens(after: job.context.count, nPositions: config.nPositions)
        try start(prompt: job.context, vocabSize: config.vocabSize)
        return (job.context.count - 1, settings.maxNewTokens > 0)
    }

    /// Builds the search for `prompt` (after `fitNewTokens`); invalid_field num_beams when the
    /// parameters do not make a beam search.
    private func start(prompt: [Int32], vocabSize: Int) throws(EngineError) {
        let a = settings.request
        let early: BeamSearchParameters.EarlyStopping
        switch a.earlyStopping {
        case .whenNFinished: early = .whenNFinished
        case .heuristic: early = .heuristic
        case .never: early = .never
        }
        let p = BeamSearchParameters(
            numBeams: a.numBeams, lengthPenalty: Float(a.lengthPenalty), earlyStopping: early,
            numReturnSequences: a.numReturnSequences, maxNewTokens: max(1, settings.maxNewTokens),
            eosTokenIDs: Array(settings.stopIDs), processing: settings.parameters)
        do {
            search = try BeamSearchState(prompt: prompt, parameters: p, vocabSize: vocabSize)
        } catch {
            throw EngineError(.invalidField, "\(error)", field: "num_beams")
        }
        parameters = p
        self.vocabSize = vocabSize
        caches = []
        hypotheses = []
    }

    /// One token per running beam once the prompt is computed.
    func isDecoding(_ job: Job) -> Bool { !caches.isEmpty }

    /// A chunk of the prompt (`take` tokens) in the job's cache, or the last token of every running
    /// beam, each in its own cache.
    func requests(_ job: Job, cache: KVCache, take: Int) -> [ForwardRequest] {
        guard !caches.isEmpty else {
            let finishesPrompt = take == job.pending.count
            return [ForwardRequest(cache: cache, tokens: Array(job.pending[..<take]), logits: finishesPrompt ? .last : .none)]
        }
        return zip(caches, job.pending).map { ForwardRequest(cache: $0, tokens: [$1], logits: .last) }
    }

    /// One result per running beam, or the prompt chunk's.
    func advance(_ job: Job, cache: KVCache, taken: Int, results: ArraySlice<ForwardResult>, engine: Engine) -> StepOutcome {
        let rows: [[Float]]
        if caches.isEmpty {
            job.pending.removeFirst(taken)
            guard job.pending.isEmpty else { return .continues }  // still prefilling
            rows = [results.first!.logits]
        } else {
            job.pending = []
            rows = results.map(\.logits)
        }
        guard search != nil else { return .continues }
        switch search!.advance(rows) {
        case .done(let found):
            caches = []
            hypotheses = found
            return .complete
        case .next(let sources):
            // Step 0 forks the prompt cache, which stays the job's (a session keeps it).
            let first = caches.isEmpty
            let from = first ? [cache] : caches
            var next = BeamSearchState.reorder(from, sources: sources, keepSources: first)
            while next == nil && engine.evictSomething() { next = BeamSearchState.reorder(from, sources: sources, keepSources: first) }
            guard let next else {
                return .failed(EngineError(.overloaded, "the KV cache budget (kv_cache_mib) cannot hold \(sources.count) beams; retry later"))
            }
            caches = next
            job.pending = search!.runningTokens.map { $0.last! }
            return .continues
        }
    }

    /// Forgets every beam: the search starts again from its prompt.
    func restart() {
        guard let p = parameters, let prompt = search?.prompt else { return }
        caches = []
        search = try? BeamSearchState(prompt: prompt, parameters: p, vocabSize: vocabSize)
    }

    func dropCaches() { caches = [] }

    /// Every returned hypothesis as a sequence, the best first: the engine thread hands over token
    /// ids and scores; their text and stop strings are worked out on the output queue.
    func result(_ job: Job, end: Double) -> WorkResult {
        let a = settings.request
        let found = hypotheses.map { (tokens: Array($0.generated), endedWithEOS: $0.endedWithEOS, score: Double($0.score)) }
        let usage = GenerationUsage(promptTokens: job.promptTokens, completionTokens: found.reduce(0) { $0 + $1.tokens.count }, cachedTokens: 0)
        let timing = GenerationTiming(queueMs: (job.startedAt - job.submittedAt) * 1000, promptMs: 0,
                                      completionMs: (end - job.startedAt) * 1000, totalMs: (end - job.submittedAt) * 1000)
        let (events, tokenizer, output) = (settings.events, tokenizer, output)
        let (stops, includeStop) = (a.stop, a.includeStopInOutput)
        return WorkResult(completionTokens: usage.completionTokens) {
            output.async {
                let sequences = found.map { h -> SequenceOutput in
                    var filter = StopTextFilter(stops: stops, includeStop: includeStop)
                    let body = h.endedWithEOS ? Array(h.tokens.dropLast()) : h.tokens
                    #if DEBUG
                    TextWorkProbe.record()
                    #endif
                    let stopped = filter.append(tokenizer.decode(body.map(Int.init))).stopped
                    let reason: FinishReason = stopped ? .stop : (h.endedWithEOS ? .eos : .length)
                    return SequenceOutput(text: filter.text, tokens: h.tokens.map(Int.init), finishReason: reason, logprobs: nil, score: h.score)
                }
                let best = sequences.first
                events(.result(GenerationResult(
                    text: best?.text ?? "", tokens: best?.tokens ?? [], finishReason: best?.finishReason ?? .length,
                    usage: usage, timing: timing, logprobs: nil, topLogprobs: nil, sequences: sequences)))
            }
        }
    }

    func deliver(_ error: EngineError) {
        let events = settings.events
        output.async { events(.error(error)) }
    }
}
