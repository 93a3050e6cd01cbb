// GenerationWork — one sampled (or greedy) sequence: it prefills its prompt, then feeds one token
// per step; after each step its SequenceStepper (GPT2Core's per-step rule: processors, sampler,
// eos, max_new_tokens) picks the next token, which the work hands to its output stage
// (SequenceText: detokenizing, stop strings and streaming, off the compute thread). When the stage
// finds a stop string the engine calls `settle`, which ends the sequence at that token and takes
// back any token computed after it. With num_return_sequences n > 1 the leader (sequence 0)
// prefills the prompt and its n - 1 followers fork its cache and sample their first token from the
// same logits, each with its own generator (SequenceStepper's seed rule: base + i); they answer as
// one response (SequenceGroup).
import Foundation
import GPT2Core
import GPT2Tokenizer

final class GenerationWork: SequenceWork {
    let settings: GenerationSettings
    /// The per-step rule, set up once the prompt length is known (admission; a follower: when it
    /// forks its leader's prompt).
    private var stepper: SequenceStepper?
    var logprobs: [Double?] = []
    var topLogprobs: [[RankedToken]] = []
    /// The output stage: text, stop strings, streaming and the result's delivery.
    let text: SequenceText
    var firstTokenAt: Double = 0
    var finishReason: FinishReason?
    /// Set when the stepper ended the sequence (EOS, max_new_tokens) but the output stage has not
    /// checked every token for stop strings yet: the sequence waits for it (`settle`).
    private var tokenLevelEnd: FinishReason?
    /// Set once a stop string ended the text: the tokens kept (the stepper may hold more).
    private var kept: Int?
    /// n > 1: the group this sequence belongs to and its index in it.
    let group: SequenceGroup?
    let index: Int
    /// n > 1, leader only: the other sequences, started from a fork of the leader's prompt cache.
    var followers: [(job: Job, work: GenerationWork)] = []

    /// `output` is the request's output queue (shared by a group's sequences); `wake` tells the
    /// engine the output stage has a verdict for it (`Engine.outputChanged`).
    init(request: GenerationRequest, model: ServedModel, index: Int = 0, group: SequenceGroup? = nil,
         output: OutputQueue, wake: @escaping @Sendable () -> Void,
         events: @escaping @Sendable (EngineEvent) -> Void) throws(EngineError) {
        let seed = group.map { SamplingParameters.sequenceSeed(base: $0.baseSeed, index: index) } ?? request.seed
        settings = try GenerationSettings(request: request, model: model, seed: seed, events: events)
        self.index = index
        self.group = group
        text = SequenceText(queue: output, tokenizer: model.tokenizer, request: request, events: events, wake: wake)
    }

    var input: Prompt { settings.request.prompt }
    var generatesAtMost: Int { settings.request.maxNewTokens ?? GenerationRequest.defaultMaxNewTokens }
    var sessionID: String? { settings.request.session }

    func admit(_ job: Job, historyCount: Int, config: GPT2Config) throws(EngineError) -> (firstNeeded: Int, computes: Bool) {
        try settings.fitNewTokens(after: job.context.count, nPositions: config.nPositions)
        begin()
        // The last token's logits pick the first new token.
        return (job.context.count - 1, settings.maxNewTokens > 0)
    }

    /// The tokens generated so far (after a stop string: those up to it).
    var generated: [Int32] {
        let all = stepper?.generated ?? []
        return kept.map { Array(all.prefix($0)) } ?? all
    }

    /// Sets the stepper up for the fitted prompt length and max_new_tokens.
    private func begin() {
        stepper = SequenceStepper(parameters: settings.parameters, promptLength: settings.promptLength,
                                  maxNewTokens: settings.maxNewTokens, eosTokenIDs: settings.stopIDs)
    }

    /// Decoding once its prompt is computed: one token per step. (A preempted sequence recomputes
    /// its whole history first, like a prompt.)
    func isDecoding(_ job: Job) -> Bool { !generated.isEmpty && job.pending.count == 1 }

    func requests(_ job: Job, cache: KVCache, take: Int) -> [ForwardRequest] {
        let finishesPrompt = take == job.pending.count
        return [ForwardRequest(cache: cache, tokens: Array(job.pending[..<take]), logits: finishesPrompt ? .last : .none)]
    }

    func advance(_ job: Job, cache: KVCache, taken: Int, results: ArraySlice<ForwardResult>, engine: Engine) -> StepOutcome {
        job.pending.removeFirst(taken)
        guard job.pending.isEmpty else { return .continues }  // still prefilling
        // Preempted while it waited for its output stage: recomputed, it goes on waiting (`settle`).
        if tokenLevelEnd != nil { return .continues }
        let logits = results.first!.logits
        if generated.isEmpty && !followers.isEmpty { startFollowers(of: job, cache: cache, logits: logits, engine: engine) }
        return sampleAndEmit(job, logits: logits)
    }

    /// The leader's prompt is computed: every follower forks its cache and samples its first
    /// token from the same logits with its own generator.
    private func startFollowers(of leader: Job, cache: KVCache, logits: [Float], engine: Engine) {
        for (f, fw) in followers {
            guard f.cancelReason == nil else { continue }
            var copy = cache.fork()
            while copy == nil && engine.evictSomething() { copy = cache.fork() }
            guard let copy else {
                engine.finish(f, error: EngineError(.overloaded, "the KV cache budget (kv_cache_mib) cannot hold \(followers.count + 1) sequences"))
                return
            }
            fw.settings.adopt(settings)
            fw.begin()
            engine.startMember(f, of: leader, cache: copy)
            if case .complete = fw.sampleAndEmit(f, logits: logits) { engine.complete(f) }
        }
    }

    /// Picks the next token from raw logits (the stepper), records it, hands it to the output stage,
    /// and decides whether the sequence goes on (then `job.pending` is the new token). Ends at once
    /// on EOS or max_new_tokens, unless stop strings may still cut it earlier: then it waits for
    /// the output stage (`settle`).
    private func sampleAndEmit(_ job: Job, logits: [Float]) -> StepOutcome {
        let a = settings.request
        // Log-probabilities cost two passes over the vocabulary: only when asked for.
        let step = stepper!.step(logits, history: job.context, topLogprobs: settings.wantsLogprobs ? a.topLogprobs : nil)
        let token = step.token
        if generated.count == 1 { firstTokenAt = Engine.now() }
        job.context.append(token)
        var lp: Double? = nil
        var tops: [RankedToken]? = nil
        if let sampled = step.sampled {
            let v = a.logprobsMode == .raw ? sampled.rawLogprob : sampled.processedLogprob
            lp = v.isFinite ? v : nil
            logprobs.append(lp)
            if a.topLogprobs > 0 {
                let entries = a.logprobsMode == .raw ? sampled.topRaw : sampled.topProcessed
                tops = entries.map { RankedToken(token: Int($0.token), logprob: $0.logprob.isFinite ? $0.logprob : nil) }
                topLogprobs.append(tops!)
            }
        }
        text.push(GeneratedToken(index: generated.count - 1, token: Int(token), text: "", logprob: lp, topLogprobs: tops), ending: step.stop)
        guard let end = step.stop else {
            job.pending = [token]
            return .continues
        }
        let reason: FinishReason = end == .eos ? .eos : .length
        guard text.hasStops else {
            finishReason = reason
            return .complete
        }
        tokenLevelEnd = reason
        job.pending = []
        return .continues
    }

    /// The output stage has news: a stop string ends the sequence at the token that completed it
    /// (tokens computed after it are taken back out: context, KV positions, log-probabilities), or
    /// a sequence waiting at its token-level end has had every token checked.
    func settle(_ job: Job) -> StepOutcome {
        guard text.hasStops, finishReason == nil, !job.hasEnded else { return .continues }
        let v = text.verdict
        if let k = v.stopAfter {
            discard(after: k, job)
            finishReason = .stop
            return .complete
        }
        if let end = tokenLevelEnd, v.checked == generated.count {
            discard(after: generated.count, job)  // keeps every token; a recomputed cache loses its extra row
            finishReason = end
            return .complete
        }
        return .continues
    }

    /// Keeps the first `k` generated tokens: the sequence is then what it was when its k-th token
    /// was sampled (that token in the context, not yet in the KV cache; a cache that lost rows to
    /// preemption meanwhile stays shorter — it is only a cache).
    private func discard(after k: Int, _ job: Job) {
        kept = k
        let length = settings.promptLength + k
        if job.context.count > length { job.context.removeSubrange(length...) }
        job.pending = []
        if let cache = job.cache, cache.count > length - 1 { cache.truncate(to: length - 1) }
        if logprobs.count > k { logprobs.removeSubrange(k...) }
        if topLogprobs.count > k { topLogprobs.removeSubrange(k...) }
    }

    func restart() {}  // the context holds prompt and generated tokens; sampling resumes after them

    func result(_ job: Job, end: Double) -> WorkResult {
        let first = generated.isEmpty ? end : firstTokenAt
        let usage = GenerationUsage(promptTokens: job.promptTokens, completionTokens: generated.count, cachedTokens: job.cachedTokens)
        let timing = GenerationTiming(
            queueMs: (job.startedAt - job.submittedAt) * 1000, promptMs: (first - job.startedAt) * 1000,
            completionMs: (end - first) * 1000, totalMs: (end - job.submittedAt) * 1000)
        let (tokens, reason, lps, tops) = (generated.map(Int.init), finishReason ?? .length,
                                           settings.wantsLogprobs ? logprobs : nil, settings.request.topLogprobs > 0 ? topLogprobs : nil)
        let events = settings.events
        // The value is built on the output queue, with the text the stage made.
        return WorkResult(completionTokens: tokens.count, timing: timing) { [text] in
            text.finish { body in
                events(.result(GenerationResult(text: body, tokens: tokens, finishReason: reason, usage: usage, timing: timing,
                                                logprobs: lps, topLogprobs: tops, sequences: nil)))
            }
        }
    }

    /// A group answers once: its other members stop at their next step; members that never
    /// started (followers waiting for the leader's prompt) hold nothing but their registration.
    func stopSiblings(of job: Job, cause: EngineError, engine: Engine) {
        guard let group else { return }
        engine.cancel(group.members.filter { $0 !== job }, reason: cause)
        for f in group.members where f !== job && f.isSubmitted { engine.retire(f, completion: 0, failed: true) }
    }

    /// After the tokens already streamed (the output queue keeps the order).
    func deliver(_ error: EngineError) { text.send(.error(error)) }
}
