// Engine+Generation — what happens to a job after each forward pass: scoring rows, sampling the
// next token, streaming it, stop conditions, forking the extra sequences of a group, and results.
import Foundation
import GPT2Core

extension Engine {
    /// Consumes one step's forward results for a job (engine thread): one result, or one per
    /// running beam.
    func advance(_ job: Job, taken: Int, results: ArraySlice<ForwardResult>) {
        if case .beam(let b) = job.kind { return advanceBeams(job, b, taken: taken, results: results) }
        let result = results.first!
        let firstPosition = job.cache.count - taken  // position of the first token just computed
        job.pending.removeFirst(taken)
        switch job.kind {
        case .score(let s):
            let V = job.model.model.config.vocabSize
            for r in 0..<taken {
                let target = firstPosition + r + 1  // the token this row predicts
                guard target >= s.scoreStart && target < job.context.count else { continue }
                let row = Array(result.logitsRow(r, vocabSize: V))
                s.logprobs.append(Sampling.logSoftmax(row, at: Int(job.context[target])))
                if s.request.topLogprobs > 0 { s.top.append(Self.top(row, s.request.topLogprobs)) }
            }
            if job.pending.isEmpty { complete(job) }
        case .hidden(let h):
            h.collected += result.hidden
            if job.pending.isEmpty { complete(job) }
        case .beam:
            return  // handled above
        case .generate(let g):
            guard job.pending.isEmpty else { return }  // still prefilling
            if g.generated.isEmpty && !g.followers.isEmpty { startFollowers(of: job, g, logits: result.logits) }
            sampleAndEmit(job, g, logits: result.logits)
        }
    }

    /// num_return_sequences: the leader's prompt is computed; every other sequence forks its cache
    /// and samples its first token from the same logits with its own generator.
    private func startFollowers(of leader: Job, _ lg: GenerationState, logits: [Float]) {
        for f in lg.followers {
            guard f.cancelReason == nil, case .generate(let fg) = f.kind else { continue }
            var copy = leader.cache.fork()
            while copy == nil && evictSomething() { copy = leader.cache.fork() }
            f.phase = .running
            f.admission = leader.admission  // as old as its request: preemption ranks it with its leader
            f.startedAt = leader.startedAt
            guard let cache = copy else {
                finish(f, error: EngineError(.overloaded, "the KV cache budget (kv_cache_mib) cannot hold \(lg.followers.count + 1) sequences"))
                return
            }
            f.cache = cache
            f.context = leader.context
            f.promptTokens = leader.promptTokens
            f.cachedTokens = leader.cachedTokens
            fg.maxNewTokens = lg.maxNewTokens
            fg.promptLength = lg.promptLength
            fg.forked = true
            active.append(f)
            sampleAndEmit(f, fg, logits: logits)
        }
    }

    static func top(_ row: [Float], _ n: Int) -> [RankedToken] {
        Logprobs.top(row, count: n).map { RankedToken(token: Int($0.token), logprob: $0.logprob.isFinite ? $0.logprob : nil) }
    }

    /// Samples the next token from raw logits, records it, streams it, and decides whether the
    /// sequence goes on.
    private func sampleAndEmit(_ job: Job, _ g: GenerationState, logits: [Float]) {
        let a = g.request
        let context = GenerationContext(history: job.context, promptLength: g.promptLength)
        // Log-probabilities cost two passes over the vocabulary: only when asked for.
        let sampled: SampledToken?
        let token: Int32
        if g.wantsLogprobs {
            sampled = g.sampler.sample(logits, context: context, topLogprobs: a.topLogprobs)
            token = sampled!.token
        } else {
            var work = logits
            token = Int32(g.sampler.next(&work, context: context))
            sampled = nil
        }
        if g.generated.isEmpty { g.firstTokenAt = Engine.now() }
        g.generated.append(token)
        job.context.append(token)
        var lp: Double? = nil
        var tops: [RankedToken]? = nil
        if let sampled {
            let v = a.logprobsMode == .raw ? sampled.rawLogprob : sampled.processedLogprob
            lp = v.isFinite ? v : nil
            g.logprobs.append(lp)
            if a.topLogprobs > 0 {
                let entries = a.logprobsMode == .raw ? sampled.topRaw : sampled.topProcessed
                tops = entries.map { RankedToken(token: Int($0.token), logprob: $0.logprob.isFinite ? $0.logprob : nil) }
                g.topLogprobs.append(tops!)
            }
        }
        var reason: FinishReason? = nil
        var text = ""
        if g.stopIDs.contains(token) {
            reason = .eos
        } else {
            let (released, stopped) = g.filter.append(g.decoder.append(Int(token)))
            text = released
            if stopped { reason = .stop }
        }
        if reason == nil && g.generated.count >= g.maxNewTokens { reason = .length }
        if reason != nil && reason != .stop {
            text += g.filter.append(g.decoder.flush()).release
            text += g.filter.finish()
        }
        if g.request.stream {
            g.events(.token(GeneratedToken(index: g.generated.count - 1, token: Int(token), text: text, logprob: lp, topLogprobs: tops)))
        }
        if let reason {
            g.finishReason = reason
            complete(job)
        } else {
            job.pending = [token]
        }
    }

    /// A job ran to its end: report the result (engine thread).
    func complete(_ job: Job) {
        let end = Engine.now()
        switch job.kind {
        case .hidden(let h):
            retire(job, completion: 0)
            h.batch.collect(h.index, h.collected)
        case .beam(let b):
            let response = beamResponse(job, b, end: end)
            retire(job, completion: response.usage.completionTokens)
            b.generation.events(.result(response))
        case .generate(let g):
            let first = g.generated.isEmpty ? end : g.firstTokenAt
            let usage = GenerationUsage(promptTokens: job.promptTokens, completionTokens: g.generated.count, cachedTokens: job.cachedTokens)
            let timing = GenerationTiming(
                queueMs: (job.startedAt - job.submittedAt) * 1000, promptMs: (first - job.startedAt) * 1000,
                completionMs: (end - first) * 1000, totalMs: (end - job.submittedAt) * 1000)
            let response = GenerationResult(
                text: g.filter.text, tokens: g.generated.map(Int.init), finishReason: g.finishReason ?? .length,
                usage: usage, timing: timing, logprobs: g.wantsLogprobs ? g.logprobs : nil,
                topLogprobs: g.request.topLogprobs > 0 ? g.topLogprobs : nil, sequences: nil)
            retire(job, completion: g.generated.count)
            g.events(.result(response))
        case .score(let s):
            let scored = Array(job.context[s.scoreStart...]).map(Int.init)
            var lps: [Double?] = s.scoreStart == 0 ? [nil] : []
            lps += s.logprobs.map { $0 }
            var tops: [[RankedToken]?]? = nil
            if s.request.topLogprobs > 0 { tops = (s.scoreStart == 0 ? [nil] : []) + s.top.map { $0 } }
            let finite = lps.compactMap { $0 }.filter { $0.isFinite }
            let ppl: Double? = finite.isEmpty ? nil : Foundation.exp(-finite.reduce(0, +) / Double(finite.count))
            retire(job, completion: 0)
            s.completion(.success(ScoreResult(tokens: scored, logprobs: lps.map { $0.flatMap { $0.isFinite ? $0 : nil } },
                                                perplexity: ppl.flatMap { $0.isFinite ? $0 : nil }, topLogprobs: tops)))
        }
    }
}
