// Engine+BeamSearch — num_beams > 1 inside the shared batches. The job prefills its prompt like a
// generation; then each running beam is one row of every step's forward pass (its own cache, forked
// from the prompt's), and `BeamSearchState` — GPT2Core's search as a step function — picks after
// each step which beams go on. Results are transformers' generate(num_beams=…), token-identical.
// Cancellation and preemption work as for any job (a preempted search restarts from its prompt: the
// search is deterministic, so the result does not change).
import Foundation
import GPT2Core

extension BeamState {
    /// Builds the search for `prompt` (after `fitNewTokens`); invalid_field num_beams when the
    /// parameters do not make a beam search.
    func start(prompt: [Int32], vocabSize: Int) throws(EngineError) {
        let g = generation, a = g.request
        let early: BeamSearchParameters.EarlyStopping
        switch a.earlyStopping {
        case .whenNFinished: early = .whenNFinished
        case .heuristic: early = .heuristic
        case .never: early = .never
        }
        let p = BeamSearchParameters(
            numBeams: a.numBeams, lengthPenalty: Float(a.lengthPenalty), earlyStopping: early,
            numReturnSequences: a.numReturnSequences, maxNewTokens: max(1, g.maxNewTokens),
            eosTokenIDs: Array(g.stopIDs), processing: g.parameters)
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

    /// Forgets every beam (preemption): the search starts again from its prompt.
    func restart() {
        guard let p = parameters, let prompt = search?.prompt else { return }
        caches = []
        search = try? BeamSearchState(prompt: prompt, parameters: p, vocabSize: vocabSize)
    }
}

extension Engine {
    /// The forward rows of a beam job for one step: a chunk of its prompt (`take` tokens), or the
    /// last token of every running beam, each in its own cache.
    func beamRequests(_ job: Job, _ b: BeamState, take: Int) -> [ForwardRequest] {
        guard !b.caches.isEmpty else {
            let finishesPrompt = take == job.pending.count
            return [ForwardRequest(cache: job.cache, tokens: Array(job.pending[..<take]), logits: finishesPrompt ? .last : .none)]
        }
        return zip(b.caches, job.pending).map { ForwardRequest(cache: $0, tokens: [$1], logits: .last) }
    }

    /// Consumes one step's results for a beam job (engine thread): one per running beam, or the
    /// prompt chunk's.
    func advanceBeams(_ job: Job, _ b: BeamState, taken: Int, results: ArraySlice<ForwardResult>) {
        let rows: [[Float]]
        if b.caches.isEmpty {
            job.pending.removeFirst(taken)
            guard job.pending.isEmpty else { return }  // still prefilling
            rows = [results.first!.logits]
        } else {
            job.pending = []
            rows = results.map(\.logits)
        }
        guard b.search != nil else { return }
        switch b.search!.advance(rows) {
        case .done(let hypotheses):
            b.caches = []
            b.hypotheses = hypotheses
            complete(job)
        case .next(let sources):
            // Step 0 forks the prompt cache, which stays the job's (a session keeps it).
            let from = b.caches.isEmpty ? [job.cache!] : b.caches
            var next = BeamSearchState.reorder(from, sources: sources, keepSources: b.caches.isEmpty)
            while next == nil && evictSomething() { next = BeamSearchState.reorder(from, sources: sources, keepSources: b.caches.isEmpty) }
            guard let next else {
                return finish(job, error: EngineError(.overloaded, "the KV cache budget (kv_cache_mib) cannot hold \(sources.count) beams; retry later"))
            }
            b.caches = next
            job.pending = b.search!.runningTokens.map { $0.last! }
        }
    }

    /// The result of a finished beam search: every returned hypothesis as a sequence, the best first.
    func beamResponse(_ job: Job, _ b: BeamState, end: Double) -> GenerationResult {
        let g = b.generation, a = g.request
        let sequences = b.hypotheses.map { h -> SequenceOutput in
            let new = Array(h.generated)
            var filter = StopTextFilter(stops: g.request.stop, includeStop: a.includeStopInOutput)
            let body = h.endedWithEOS ? Array(new.dropLast()) : new
            let stopped = filter.append(job.model.tokenizer.decode(body.map(Int.init))).stopped
            let reason: FinishReason = stopped ? .stop : (h.endedWithEOS ? .eos : .length)
            return SequenceOutput(text: filter.text, tokens: new.map(Int.init), finishReason: reason, logprobs: nil, score: Double(h.score))
        }
        let best = sequences.first
        return GenerationResult(
            text: best?.text ?? "", tokens: best?.tokens ?? [], finishReason: best?.finishReason ?? .length,
            usage: .init(promptTokens: job.promptTokens, completionTokens: sequences.reduce(0) { $0 + $1.tokens.count }, cachedTokens: 0),
            timing: .init(queueMs: (job.startedAt - job.submittedAt) * 1000, promptMs: 0,
                          completionMs: (end - job.startedAt) * 1000, totalMs: (end - job.submittedAt) * 1000),
            logprobs: nil, topLogprobs: nil, sequences: sequences)
    }
}
