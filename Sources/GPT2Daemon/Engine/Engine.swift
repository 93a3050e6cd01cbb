// Engine — one compute thread that batches the work of every active request (continuous batching).
//
// Requests from all connections enter one inbox. Each step picks a model (round robin among models
// with work), puts the decode token of every generating sequence and chunks of pending prompts
// (FIFO, up to maxBatchTokens) through ONE forward pass, then samples, emits events and finishes
// jobs. Socket threads never compute: they submit and receive events. When the KV budget is full,
// idle sessions' caches are dropped (LRU) and recomputed later; a job that still does not fit waits
// for running jobs to finish.
import Foundation
import GPT2Core
import GPT2Tokenizer
import GPT2Wire

public final class Engine: @unchecked Sendable {
    public let options: EngineOptions
    public let sessions: SessionStore
    private let modelsByName: [String: ServedModel]
    private let modelOrder: [String]

    // Shared state, guarded by `cond`'s lock.
    private let cond = NSCondition()
    private var inbox: [Job] = []
    private var jobsByKey: [JobKey: Job] = [:]          // jobs that carry an id, for `cancel`
    private var liveJobs: [ObjectIdentifier: Job] = [:]  // every submitted, unfinished job
    private var accepting = true
    private var stopRequested = false
    private var running = false
    private var counters = Counters()
    private var lastHeartbeat = Engine.now()
    private var threadStarted = false

    // Engine-thread state.
    private var active: [Job] = []
    private var runners: [String: GPT2Runner] = [:]
    private var nextModel = 0
    private var lastExpiry = Engine.now()

    private struct Counters {
        var requestsTotal = 0, errorsTotal = 0, promptTokens = 0, completionTokens = 0, cachedTokens = 0, forwardPasses = 0
        var activeJobs = 0
    }

    public init(models: [ServedModel], options: EngineOptions) {
        self.options = options
        modelsByName = Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        modelOrder = models.map(\.name)
        sessions = SessionStore(models: Set(modelOrder), maxSessions: options.maxSessions, idleTimeout: options.sessionIdleTimeout)
        ComputeThreads.configure(options.threads)
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    public func model(named name: String) -> ServedModel? { modelsByName[name] }
    public var modelInfos: [ModelInfo] { modelOrder.map { modelsByName[$0]!.info } }

    // MARK: - Lifecycle

    public func start() {
        cond.lock()
        guard !threadStarted else { cond.unlock(); return }
        threadStarted = true
        running = true
        cond.unlock()
        let t = Thread { [self] in loop() }
        t.name = "gpt2d-engine"
        t.stackSize = 8 << 20
        t.start()
    }

    /// Stops accepting work. With `drain`, running jobs finish normally; otherwise they end with
    /// `shutting_down`. Returns once the compute thread has exited.
    public func shutdown(drain: Bool) async {
        requestStop(drain: drain)
        while !hasStopped() { try? await Task.sleep(nanoseconds: 5_000_000) }
    }

    private func requestStop(drain: Bool) {
        cond.lock(); defer { cond.unlock() }
        accepting = false
        if !drain {
            for job in liveJobs.values where job.cancelReason == nil {
                job.cancelReason = WireError(.shuttingDown, "the daemon is shutting down")
            }
        }
        stopRequested = true
        cond.broadcast()
    }

    private func hasStopped() -> Bool {
        cond.lock(); defer { cond.unlock() }
        return !running || !threadStarted
    }

    /// True while the compute thread is alive and has made progress recently.
    public var isHealthy: Bool {
        cond.lock(); defer { cond.unlock() }
        return running && Engine.now() - lastHeartbeat < 60
    }

    public func stats() -> EngineStats {
        cond.lock()
        let c = counters
        let queued = inbox.count
        cond.unlock()
        let budget = modelsByName.values.first?.pool.budget
        return EngineStats(
            requestsActive: c.activeJobs, queueDepth: queued, requestsTotal: c.requestsTotal, errorsTotal: c.errorsTotal,
            promptTokensTotal: c.promptTokens, completionTokensTotal: c.completionTokens, cachedTokensTotal: c.cachedTokens,
            sessions: sessions.count, kvBytesInUse: budget?.usedBytes ?? 0, kvBytesLimit: budget?.limitBytes,
            forwardPasses: c.forwardPasses)
    }

    // MARK: - Submission (any thread)

    public func generate(_ r: GenerateRequest, key: JobKey, client: ClientIdentity,
                         events: @escaping @Sendable (GenerateEvent) -> Void) {
        guard let m = modelsByName[r.model] else {
            return fail(events, WireError(.unknownModel, "no model named '\(r.model)'", field: "model"))
        }
        submit(Job(key: key, client: client, model: m, kind: .generate(GenerationState(request: r, tokenizer: m.tokenizer, events: events))))
    }

    public func score(_ r: ScoreRequest, key: JobKey, client: ClientIdentity,
                      completion: @escaping @Sendable (Result<ScoreResponse, WireError>) -> Void) {
        guard let m = modelsByName[r.model] else {
            countError()
            return completion(.failure(WireError(.unknownModel, "no model named '\(r.model)'", field: "model")))
        }
        submit(Job(key: key, client: client, model: m, kind: .score(ScoreState(request: r, completion: completion))))
    }

    @discardableResult
    public func cancel(_ key: JobKey) -> Bool {
        cond.lock(); defer { cond.unlock() }
        guard let job = jobsByKey[key], job.cancelReason == nil else { return false }
        job.cancelReason = WireError(.cancelled, "cancelled by request")
        cond.broadcast()
        return true
    }

    public func cancelAll(connection: UInt64) {
        cond.lock(); defer { cond.unlock() }
        for job in liveJobs.values where job.client.connection == connection && job.cancelReason == nil {
            job.cancelReason = WireError(.cancelled, "the client disconnected")
        }
        cond.broadcast()
    }

    private func fail(_ events: @Sendable (GenerateEvent) -> Void, _ e: WireError) {
        countError()
        events(.error(e))
    }

    private func countError() { cond.lock(); counters.errorsTotal += 1; counters.requestsTotal += 1; cond.unlock() }

    private func submit(_ job: Job) {
        cond.lock()
        if !accepting {
            cond.unlock()
            return finish(job, error: WireError(.shuttingDown, "the daemon is shutting down"), counted: false)
        }
        if counters.activeJobs >= options.maxPendingJobs {
            cond.unlock()
            return finish(job, error: WireError(.overloaded, "too many requests in flight (\(options.maxPendingJobs)); retry later"), counted: false)
        }
        if job.key.id != nil { jobsByKey[job.key] = job }
        liveJobs[ObjectIdentifier(job)] = job
        counters.activeJobs += 1
        inbox.append(job)
        cond.broadcast()
        cond.unlock()
    }

    // MARK: - The compute loop (engine thread)

    private func loop() {
        while true {
            cond.lock()
            lastHeartbeat = Engine.now()
            while inbox.isEmpty && !active.contains(where: { !$0.pending.isEmpty || $0.cancelReason != nil }) && !stopRequested {
                _ = cond.wait(until: Date().addingTimeInterval(1))
                lastHeartbeat = Engine.now()
                if Engine.now() - lastExpiry > 1 { break }
            }
            let fresh = inbox
            inbox.removeAll()
            let stop = stopRequested && fresh.isEmpty && active.isEmpty
            cond.unlock()
            if stop { break }

            if Engine.now() - lastExpiry > 1 { sessions.expireIdle(); lastExpiry = Engine.now() }
            for job in fresh { admit(job) }
            reapCancelled()
            step()
        }
        cond.lock(); running = false; cond.broadcast(); cond.unlock()
    }

    /// Sets a new job up: session lease, tokenization, what to compute. Errors finish it at once.
    private func admit(_ job: Job) {
        job.started = true
        job.startedAt = Engine.now()
        do {
            try setUp(job)
            active.append(job)
            if job.pending.isEmpty { complete(job) }  // e.g. max_new_tokens 0
        } catch let e as WireError {
            finish(job, error: e)
        } catch {
            finish(job, error: WireError(.internalError, "\(error)"))
        }
    }

    private func setUp(_ job: Job) throws {
        let m = job.model, cfg = m.model.config
        let input: PromptInput, sessionID: String?
        switch job.kind {
        case .generate(let g): input = g.request.input; sessionID = g.request.session
        case .score(let s): input = s.request.input; sessionID = s.request.session
        }
        let fieldName: String
        let newTokens: [Int32]
        switch input {
        case .text(let t):
            fieldName = "prompt"
            newTokens = m.tokenizer.encode(t).map { Int32($0) }
        case .tokens(let ids):
            fieldName = "tokens"
            if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= cfg.vocabSize }) {
                throw WireError(.invalidField, "tokens[\(bad)] = \(ids[bad]) is outside the vocabulary (0..<\(cfg.vocabSize))", field: "tokens")
            }
            newTokens = ids.map { Int32($0) }
        }
        if case .score = job.kind, case .text = input { _ = fieldName }

        var history: [Int32] = []
        if let id = sessionID {
            let s = try sessions.acquire(id, owner: job.client.uid, model: m.name)
            job.session = s
            history = s.tokens
            job.cache = s.cache ?? KVCache(pool: m.pool)
        } else {
            job.cache = KVCache(pool: m.pool)
        }
        job.context = history + newTokens
        if job.context.isEmpty {
            throw WireError(.invalidField, "the prompt is empty", field: fieldName == "tokens" ? "tokens" : (job.isScore ? "text" : "prompt"))
        }
        if job.context.count > cfg.nPositions {
            throw WireError(.contextOverflow, "\(job.context.count) tokens exceed the model's context of \(cfg.nPositions) (n_positions); GPT-2's learned positions cannot be shifted")
        }
        // How many positions must be (re)computed: everything after the cached prefix, and at least
        // the row whose logits the request needs.
        var firstNeeded = job.context.count - 1  // generate: logits of the last token
        switch job.kind {
        case .generate(let g):
            let room = cfg.nPositions - job.context.count
            if let n = g.request.maxNewTokens {
                if n > room {
                    throw WireError(.contextOverflow, "\(job.context.count) prompt tokens + max_new_tokens \(n) exceed the model's context of \(cfg.nPositions)", field: "max_new_tokens")
                }
                g.maxNewTokens = n
            } else {
                g.maxNewTokens = min(GenerateRequest.defaultMaxNewTokens, room)
            }
        case .score(let s):
            s.scoreStart = history.count
            firstNeeded = max(0, history.count - 1)  // the row before the first scored token
        }
        if job.cache.count > firstNeeded { job.cache.truncate(to: firstNeeded) }
        job.cachedTokens = job.cache.count
        job.promptTokens = job.context.count
        job.pending = Array(job.context[job.cache.count...])
        if case .generate(let g) = job.kind, g.maxNewTokens == 0 { job.pending = [] }
    }

    /// Ends jobs whose cancel flag is set.
    private func reapCancelled() {
        cond.lock()
        let victims = active.filter { $0.cancelReason != nil }
        cond.unlock()
        for job in victims { finish(job, error: job.cancelReason!) }
    }

    /// One batched forward pass for one model.
    private func step() {
        let runnable = active.filter { !$0.pending.isEmpty }
        guard !runnable.isEmpty else { return }
        // Round robin over models that have work.
        var model: ServedModel? = nil
        for i in 0..<modelOrder.count {
            let name = modelOrder[(nextModel + i) % modelOrder.count]
            if runnable.contains(where: { $0.model.name == name }) {
                model = modelsByName[name]; nextModel = (nextModel + i + 1) % modelOrder.count; break
            }
        }
        guard let m = model else { return }
        let runner = runners[m.name] ?? GPT2Runner(config: m.model.config, weights: m.model.weights)
        runners[m.name] = runner

        // Decode steps first (one token each), then prompt chunks in arrival order.
        var budget = options.maxBatchTokens
        var batch: [(job: Job, take: Int)] = []
        for job in runnable where job.model === m && job.isDecoding {
            batch.append((job, job.pending.count)); budget -= job.pending.count
        }
        for job in runnable where job.model === m && !job.isDecoding && budget > 0 {
            let n = min(job.pending.count, budget)
            batch.append((job, n)); budget -= n
        }

        while !batch.isEmpty {
            let requests = batch.map { item -> ForwardRequest in
                let finishesPrompt = item.take == item.job.pending.count
                let logits: RowSelection
                switch item.job.kind {
                case .score: logits = .all
                case .generate: logits = finishesPrompt ? .last : .none
                }
                return ForwardRequest(cache: item.job.cache, tokens: Array(item.job.pending[..<item.take]), logits: logits)
            }
            do {
                let results = try runner.forward(requests)
                cond.lock(); counters.forwardPasses += 1; cond.unlock()
                for (i, item) in batch.enumerated() { advance(item.job, taken: item.take, result: results[i]) }
                return
            } catch ForwardError.kvBudgetExhausted(let s, _) {
                if sessions.evictOneCache() { continue }
                let job = batch[s].job
                batch.remove(at: s)
                // Nothing else holds KV memory that could be freed by waiting: the request cannot fit.
                let othersHoldMemory = active.contains { $0 !== job && $0.cache != nil && $0.cache.allocatedBytes > 0 }
                if !othersHoldMemory {
                    finish(job, error: WireError(.overloaded, "the KV cache budget (kv_cache_mib) is too small for this request"))
                }
            } catch let e as ForwardError {
                // Validated at admission; reaching here is a bug. Fail the batch, keep serving.
                for item in batch { finish(item.job, error: WireError(.internalError, e.description)) }
                return
            } catch {
                for item in batch { finish(item.job, error: WireError(.internalError, "\(error)")) }
                return
            }
        }
    }

    /// Consumes one forward result for a job.
    private func advance(_ job: Job, taken: Int, result: ForwardResult) {
        let firstPosition = job.cache.count - taken  // position of the first token just computed
        job.pending.removeFirst(taken)
        switch job.kind {
        case .score(let s):
            let V = job.model.model.config.vocabSize
            for r in 0..<taken {
                let target = firstPosition + r + 1  // the token this row predicts
                guard target >= s.scoreStart && target < job.context.count else { continue }
                let row = Array(result.logitsRow(r, vocabSize: V))
                let tok = Int(job.context[target])
                s.logprobs.append(Sampling.logSoftmax(row, at: tok))
                if s.request.topLogprobs > 0 { s.top.append(Self.top(row, s.request.topLogprobs)) }
            }
            if job.pending.isEmpty { complete(job) }
        case .generate(let g):
            guard job.pending.isEmpty else { return }  // still prefilling
            var logits = result.logits
            let raw = g.request.logprobs ? logits : []
            let token = g.sampler.next(&logits, history: job.context)
            emit(job, g, token: Int32(token), raw: raw)
        }
    }

    private static func top(_ row: [Float], _ n: Int) -> [TokenLogprob] {
        let lse = Sampling.logSumExp(row)
        let idx = row.indices.sorted { row[$0] > row[$1] }.prefix(n)
        return idx.map { TokenLogprob(token: $0, logprob: Double(row[$0]) - lse) }
    }

    /// Records a sampled token, streams it, and decides whether the generation goes on.
    private func emit(_ job: Job, _ g: GenerationState, token: Int32, raw: [Float]) {
        if g.generated.isEmpty { g.firstTokenAt = Engine.now() }
        g.generated.append(token)
        job.context.append(token)
        let lp: Double? = raw.isEmpty ? nil : Sampling.logSoftmax(raw, at: Int(token))
        if g.request.logprobs { g.logprobs.append(lp) }
        let eos = job.model.model.config.eosTokenId
        var reason: GenerateResponse.FinishReason? = nil
        var text = ""
        if let eos, Int(token) == eos {
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
            g.events(.token(TokenEvent(index: g.generated.count - 1, token: Int(token), text: text, logprob: lp)))
        }
        if let reason {
            g.finishReason = reason
            complete(job)
        } else {
            job.pending = [token]
        }
    }

    /// A job ran to its end: report the result.
    private func complete(_ job: Job) {
        let end = Engine.now()
        switch job.kind {
        case .generate(let g):
            let first = g.generated.isEmpty ? end : g.firstTokenAt
            let usage = GenerateResponse.Usage(promptTokens: job.promptTokens, completionTokens: g.generated.count, cachedTokens: job.cachedTokens)
            let timing = GenerateResponse.Timing(
                queueMs: (job.startedAt - job.submittedAt) * 1000, promptMs: (first - job.startedAt) * 1000,
                completionMs: (end - first) * 1000, totalMs: (end - job.submittedAt) * 1000)
            let response = GenerateResponse(
                text: g.filter.text, tokens: g.generated.map(Int.init), finishReason: g.finishReason ?? .length,
                usage: usage, timing: timing, logprobs: g.request.logprobs ? g.logprobs : nil)
            retire(job, completion: g.generated.count)
            g.events(.result(response))
        case .score(let s):
            let scored = Array(job.context[s.scoreStart...]).map(Int.init)
            var lps: [Double?] = s.scoreStart == 0 ? [nil] : []
            lps += s.logprobs.map { $0 }
            var tops: [[TokenLogprob]?]? = nil
            if s.request.topLogprobs > 0 { tops = (s.scoreStart == 0 ? [nil] : []) + s.top.map { $0 } }
            let finite = lps.compactMap { $0 }.filter { $0.isFinite }
            let ppl: Double? = finite.isEmpty ? nil : Foundation.exp(-finite.reduce(0, +) / Double(finite.count))
            retire(job, completion: 0)
            s.completion(.success(ScoreResponse(tokens: scored, logprobs: lps.map { $0.flatMap { $0.isFinite ? $0 : nil } },
                                                perplexity: ppl.flatMap { $0.isFinite ? $0 : nil }, topLogprobs: tops)))
        }
    }

    /// Ends a job with an error (any thread before admission; the engine thread after).
    private func finish(_ job: Job, error: WireError, counted: Bool = true) {
        retire(job, completion: 0, failed: true, counted: counted)
        switch job.kind {
        case .generate(let g): g.events(.error(error))
        case .score(let s): s.completion(.failure(error))
        }
    }

    /// Bookkeeping common to every ending: session hand-back, counters, forget the job.
    private func retire(_ job: Job, completion: Int, failed: Bool = false, counted: Bool = true) {
        if let s = job.session {
            // The session keeps everything the client has seen; the cache keeps what was computed.
            s.tokens = job.context
            s.cache = job.cache
            sessions.release(s)
            job.session = nil
        }
        job.cache = nil
        job.pending = []
        if job.started { active.removeAll { $0 === job } }  // engine-thread state; unstarted jobs never joined it
        cond.lock()
        if jobsByKey[job.key] === job { jobsByKey[job.key] = nil }
        liveJobs[ObjectIdentifier(job)] = nil
        counters.requestsTotal += 1
        if counted || !failed { counters.activeJobs -= 1 }
        if failed { counters.errorsTotal += 1 } else {
            counters.promptTokens += job.promptTokens
            counters.completionTokens += completion
            counters.cachedTokens += job.cachedTokens
        }
        cond.unlock()
    }
}

extension Job {
    var isScore: Bool { if case .score = kind { return true }; return false }
}
