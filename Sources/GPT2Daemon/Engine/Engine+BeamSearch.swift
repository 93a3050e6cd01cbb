// Engine+BeamSearch — num_beams > 1 runs as one search per request on its own worker queue (all
// beams of a request batched per step), beside the batching thread, so other users keep streaming.
// Cancellation is checked before every step. Results are transformers' generate(num_beams=…).
import Foundation
import GPT2Core
import GPT2Wire

extension Engine {
    func runBeamSearch(_ job: Job) {
        guard case .generate(let g) = job.kind else { return }
        cond.lock(); beamJobsRunning += 1; cond.unlock()
        defer { cond.lock(); beamJobsRunning -= 1; cond.broadcast(); cond.unlock() }
        job.startedAt = Engine.now()
        do {
            try setUp(job, usePrefixCache: false)
            let m = job.model
            let runner = beamRunners[m.name] ?? GPT2Runner(config: m.model.config, weights: m.model.weights)
            beamRunners[m.name] = runner
            let a = g.request.advanced
            let early: BeamSearchParameters.EarlyStopping
            switch a.earlyStopping {
            case .true: early = .whenNFinished
            case .false: early = .heuristic
            case .never: early = .never
            }
            let params = BeamSearchParameters(
                numBeams: a.numBeams, lengthPenalty: Float(a.lengthPenalty), earlyStopping: early,
                numReturnSequences: a.numReturnSequences, maxNewTokens: max(1, g.maxNewTokens),
                eosTokenIDs: Array(g.stopIDs), processing: g.parameters)
            do { try params.validate() } catch { throw WireError(.invalidField, "\(error)", field: "num_beams") }
            let promptCount = job.context.count
            var hyps: [BeamHypothesis] = []
            if g.maxNewTokens > 0 {
                hyps = try runner.beamSearch(prompt: job.context, parameters: params, cache: job.cache) { [self] in
                    cond.lock(); defer { cond.unlock() }
                    return job.cancelReason != nil
                }
            }
            let sequences = hyps.map { h -> GeneratedSequence in
                let new = Array(h.tokens[promptCount...])
                var filter = StopTextFilter(stops: g.request.stop, includeStop: a.includeStopStrInOutput)
                let body = h.endedWithEOS ? Array(new.dropLast()) : new
                let stopped = filter.append(m.tokenizer.decode(body.map(Int.init))).stopped
                let reason: GenerateResponse.FinishReason = stopped ? .stop : (h.endedWithEOS ? .eos : .length)
                return GeneratedSequence(text: filter.text, tokens: new.map(Int.init), finishReason: reason, score: Double(h.score))
            }
            let end = Engine.now()
            let best = sequences.first
            let response = GenerateResponse(
                text: best?.text ?? "", tokens: best?.tokens ?? [], finishReason: best?.finishReason ?? .length,
                usage: .init(promptTokens: job.promptTokens, completionTokens: sequences.reduce(0) { $0 + $1.tokens.count }, cachedTokens: 0),
                timing: .init(queueMs: (job.startedAt - job.submittedAt) * 1000, promptMs: 0,
                              completionMs: (end - job.startedAt) * 1000, totalMs: (end - job.submittedAt) * 1000),
                sequences: sequences)
            retire(job, completion: response.usage.completionTokens)
            g.events(.result(response))
        } catch is BeamSearchStopped {
            cond.lock(); let reason = job.cancelReason; cond.unlock()
            finish(job, error: reason ?? WireError(.cancelled, "cancelled"))
        } catch ForwardError.kvBudgetExhausted {
            finish(job, error: WireError(.overloaded, "the KV cache budget (kv_cache_mib) cannot hold \(g.request.advanced.numBeams) beams; retry later"))
        } catch let e as WireError {
            finish(job, error: e)
        } catch {
            finish(job, error: WireError(.internalError, "\(error)"))
        }
    }
}
