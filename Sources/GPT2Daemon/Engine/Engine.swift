// Engine — one compute thread that batches the work of every active request (continuous batching).
//
// Requests from all connections enter one inbox. Each step picks a model (round robin among models
// with work), puts the decode token of every generating sequence and chunks of pending prompts
// (FIFO, up to maxBatchTokens) through ONE forward pass, then samples, emits events and finishes
// jobs. Socket threads never compute: they submit and receive events. The compute thread makes no
// text: each request's output stage (Output/: detokenizing, stop strings, building the answer) runs
// on the request's own serial queue and reports stop strings back (`outputChanged` → `settle`). When the KV budget is full,
// cached prefixes and then idle sessions' caches are dropped (LRU) and recomputed later; if that is
// not enough, the newest running job that holds memory is preempted (its cache dropped, its tokens
// recomputed later) when it is newer than the job in need — otherwise the job in need sits out this
// step — so the oldest job always progresses.
import CoreMetrics
import Foundation
import GPT2Core
import GPT2Tokenizer

public final class Engine: @unchecked Sendable {
    public let options: EngineOptions
    public let sessions: SessionStore
    /// The served models, changed at run time (Engine+Models); the compute thread reads jobs' models.
    let registry: ModelRegistry
    /// How models are loaded after start (models.load, SIGHUP): the shared KV budget and load options.
    public let loading: ModelLoading

    // Shared state, guarded by `cond`'s lock.
    let cond = NSCondition()
    var inbox: [Job] = []
    var jobsByKey: [JobKey: Job] = [:]          // jobs that carry an id, for `cancel`
    var liveJobs: [ObjectIdentifier: Job] = [:]  // every submitted, unfinished job
    private var accepting = true, stopRequested = false
    /// Seconds without a pass of the compute loop after which `isHealthy` is false (the watchdog stops); tests shorten it.
    var stallLimitSeconds = 60.0
    var running = false
    /// Jobs whose text is being tokenized on `prepareQueue` (shutdown waits for them).
    private var preparing = 0
    /// Set by an output stage that has a verdict the compute thread waits for (a stop string, or
    /// the last token of a sequence with stop strings checked); taken by the loop.
    private var outputReady = false
    var counters = Counters()
    /// Each principal's pending requests and in-flight tokens (per-user limits, UserLoad.swift).
    var userLoads = UserLoadLedger()
    private var lastHeartbeat = Engine.now()
    var threadStarted = false
    /// `shutdown` callers waiting for the compute thread to exit (resumed by it, last thing it does).
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    /// Work for the compute thread between steps (dropping an unloaded model's caches), taken by the loop.
    var chores: [() -> Void] = []

    // Engine-thread state.
    var active: [Job] = []
    /// Jobs of `active` that ended since the last compactActive() (engine thread).
    var endedInActive = 0
    /// Caches of finished session-less requests, for automatic prompt caching.
    let prefixCache = PrefixCache()
    /// Tokenizes text inputs before they reach the compute thread (a megabyte of text takes a
    /// while to BPE; on the compute thread it would stall every other client's decode).
    private let prepareQueue = DispatchQueue(label: "gpt2d-prepare", qos: .userInitiated, attributes: .concurrent)
    /// Each model's runner, by the model's `serial` (a model loaded again gets a new runner).
    var runners: [UInt64: GPT2Runner] = [:]
    /// The `serial` of the model the last step computed: the round robin goes on from there.
    private var lastModelSerial: UInt64 = 0
    /// When each principal last had prompt rows planned: the round robin between users (FairOrder).
    private var fairOrder = FairOrder<Principal>()
    private var admissions = 0
    private var lastExpiry = Engine.now()
    /// Where steps and request endings are recorded (Metrics/EngineMetrics.swift: atomics and locks no
    /// listener takes; no allocation per step).
    let metrics: EngineMetrics

    struct Counters {
        var requestsTotal = 0, errorsTotal = 0, promptTokens = 0, completionTokens = 0, cachedTokens = 0, forwardPasses = 0
        var preemptions = 0
        var activeJobs = 0
        /// Token rows put through forward passes, in all and in the latest pass.
        var batchRows = 0, lastBatchRows = 0
    }

    /// - Parameters:
    ///   - metricsFactory: what the engine's metric handles are made from (the daemon's Prometheus
    ///     factory); nil: swift-metrics' no-op one.
    ///   - journal: where session changes are written before they are acknowledged (nil: not at all).
    ///   - loading: how later models load; nil: the first model's KV budget and type, preloaded.
    init(models: [ServedModel], options: EngineOptions, metricsFactory: (any MetricsFactory)?, journal: SessionJournal?,
         loading: ModelLoading? = nil) {
        self.options = options
        metrics = EngineMetrics(models: models.map(\.name), factory: metricsFactory ?? NOOPMetricsHandler.instance)
        registry = ModelRegistry(models: models)
        self.loading = loading ?? ModelLoading(
            budget: models.first?.pool.budget ?? KVMemoryBudget(limitBytes: options.kvCacheBytes),
            blockTokens: options.kvBlockTokens, kvDType: models.first?.pool.dtype ?? .float32, options: LoadOptions(preload: true))
        sessions = SessionStore(models: registry.sessionNames, maxSessions: options.maxSessions,
                                maxSessionsPerUser: options.maxSessionsPerUser, maxSessionTokensPerUser: options.maxSessionTokensPerUser,
                                idleTimeout: options.sessionIdleTimeout, journal: journal)
        ComputeThreads.configure(options.threads)
    }

    /// An engine without a session journal; `metricsFactory` as in the designated init.
    public convenience init(models: [ServedModel], options: EngineOptions, metricsFactory: (any MetricsFactory)? = nil) {
        self.init(models: models, options: options, metricsFactory: metricsFactory, journal: nil)
    }

    /// Seconds on a clock that never jumps (durations only: timings, the heartbeat, expiry checks).
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// The model serving as `name` (nil while it loads or drains, or when there is none).
    public func model(named name: String) -> ServedModel? { registry.model(named: name) }
    /// The served models, in the order they were added (configuration order at start).
    public var models: [ServedModel] { registry.serving }

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
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            cond.lock()
            let stopped = !running || !threadStarted
            if !stopped { exitWaiters.append(c) }
            cond.unlock()
            if stopped { c.resume() }
        }
    }

    /// New work is refused with `shutting_down` from now on; running work goes on (the first moment
    /// of a shutdown, before any listener says it is stopping: EngineIntakeService).
    public func stopAcceptingWork() {
        cond.lock(); accepting = false; cond.unlock()
    }

    private func requestStop(drain: Bool) {
        cond.lock(); defer { cond.unlock() }
        accepting = false
        if !drain {
            for job in liveJobs.values where job.cancelReason == nil {
                job.cancelReason = EngineError(.shuttingDown, "the daemon is shutting down")
            }
        }
        stopRequested = true
        cond.broadcast()
    }

    /// True while the compute thread is alive and has made progress recently.
    public var isHealthy: Bool {
        cond.lock(); defer { cond.unlock() }
        return running && Engine.now() - lastHeartbeat < stallLimitSeconds
    }

    public func stats() -> EngineStats {
        cond.lock()
        let c = counters
        let queued = inbox.count
        cond.unlock()
        let held = registry.all
        let first = held.first?.pool
        let budget = loading.budget
        let used = budget.usedBytes
        var free: Int? = nil
        if let limit = budget.limitBytes, let block = first?.bytesPerBlock { free = max(0, limit - used) / block }
        return EngineStats(
            requestsActive: c.activeJobs, queueDepth: queued, requestsTotal: c.requestsTotal, errorsTotal: c.errorsTotal,
            promptTokensTotal: c.promptTokens, completionTokensTotal: c.completionTokens, cachedTokensTotal: c.cachedTokens,
            sessions: sessions.count, kvBytesInUse: used, kvBytesLimit: budget.limitBytes,
            kvBlocksInUse: held.reduce(0) { $0 + $1.pool.blocksInUse }, kvBlocksFree: free,
            kvBytesPerToken: first?.bytesPerToken ?? 0, forwardPasses: c.forwardPasses, preemptions: c.preemptions, batchRowsTotal: c.batchRows, batchRowsLast: c.lastBatchRows)
    }

    // MARK: - Submission (any thread)

    /// Starts a generation; `events` receives its tokens (when streaming) and then one result or
    /// error, in order, on the request's output queue (or the caller's thread, for an error found at once).
    public func generate(_ r: GenerationRequest, key: JobKey, client: ClientIdentity,
                         events: @escaping @Sendable (EngineEvent) -> Void) {
        // A model keep_alive unloaded is loaded again first; the request then comes back here (Engine+KeepAlive).
        guard case .ready(let m) = resolve(r.model, retry: { [self] in generate(r, key: key, client: client, events: events) },
                                           fail: { [self] in fail(events, $0) }) else { return }
        // The request's output stage runs on its own queue; a verdict wakes the compute loop.
        let output = OutputQueue()
        let wake: @Sendable () -> Void = { [weak self] in self?.outputChanged() }
        do throws(EngineError) {
            if r.numBeams > 1 {
                return submit(Job(key: key, client: client, model: m, work: try BeamWork(request: r, model: m, output: output, events: events)))
            }
            if r.numReturnSequences > 1 {
                let group = SequenceGroup(count: r.numReturnSequences, baseSeed: r.seed ?? UInt64.random(in: 0...UInt64.max), events: events)
                var members: [(job: Job, work: GenerationWork)] = []
                for i in 0..<r.numReturnSequences {
                    let work = try GenerationWork(request: r, model: m, index: i, group: group, output: output, wake: wake,
                                                  events: group.memberEvents(i))
                    members.append((Job(key: key, client: client, model: m, work: work, role: i == 0 ? .request : .member), work))
                }
                let jobs = members.map(\.job)
                group.members = jobs
                members[0].work.followers = Array(members.dropFirst())
                return submit(jobs, queued: [jobs[0]])
            }
            submit(Job(key: key, client: client, model: m,
                       work: try GenerationWork(request: r, model: m, output: output, wake: wake, events: events)))
        } catch {
            fail(events, error)  // the works' typed throws: always an EngineError
        }
    }

    /// Starts a scoring; `completion` runs once, on the request's output queue (or the caller's
    /// thread, for an error found at once).
    public func score(_ r: ScoringRequest, key: JobKey, client: ClientIdentity,
                      completion: @escaping @Sendable (Result<ScoreResult, EngineError>) -> Void) {
        guard case .ready(let m) = resolve(r.model, retry: { [self] in score(r, key: key, client: client, completion: completion) },
                                           fail: { [self] in countError(); completion(.failure($0)) }) else { return }
        submit(Job(key: key, client: client, model: m, work: ScoreWork(request: r, completion: completion)))
    }

    @discardableResult
    public func cancel(_ key: JobKey) -> Bool {
        cond.lock(); defer { cond.unlock() }
        guard let job = jobsByKey[key], job.cancelReason == nil else { return false }
        job.cancelReason = EngineError(.cancelled, "cancelled by request")
        cond.broadcast()
        return true
    }

    public func cancelAll(connection: UInt64) {
        cond.lock(); defer { cond.unlock() }
        for job in liveJobs.values where job.client.connection == connection && job.cancelReason == nil {
            job.cancelReason = EngineError(.cancelled, "the client disconnected")
        }
        cond.broadcast()
    }

    /// Tells `jobs` to stop at their next step (those not told already).
    func cancel(_ jobs: [Job], reason: EngineError) { withLock { cancelLocked(jobs, reason: reason) } }

    /// `cancel` for a caller that holds `cond`'s lock.
    func cancelLocked(_ jobs: [Job], reason: EngineError) {
        for job in jobs where job.cancelReason == nil { job.cancelReason = reason }
    }

    /// An output stage has news for the compute thread (any thread): the loop wakes and settles.
    func outputChanged() {
        cond.lock(); outputReady = true; cond.broadcast(); cond.unlock()
    }

    /// Runs `body` under `cond`'s lock.
    func withLock<T>(_ body: () -> T) -> T { cond.lock(); defer { cond.unlock() }; return body() }

    private func fail(_ events: @Sendable (EngineEvent) -> Void, _ e: EngineError) {
        countError()
        events(.error(e))
    }

    private func countError() { cond.lock(); counters.errorsTotal += 1; counters.requestsTotal += 1; cond.unlock() }

    /// Registers one request's jobs — the first answers `cancel` and counts as the request — and
    /// hands `queued` of them to the compute thread (a beam search goes to its worker instead).
    /// Followers of a sequence group are registered but wait for their leader's prompt.
    private func submit(_ jobs: [Job], queued: [Job]) {
        let lead = jobs[0]
        cond.lock()
        if !accepting || !lead.model.acceptsWork || counters.activeJobs >= options.maxPendingJobs {
            let e = !accepting ? EngineError(.shuttingDown, "the daemon is shutting down")
                : !lead.model.acceptsWork ? EngineError(.modelUnavailable, "model '\(lead.model.name)' is being unloaded or replaced; retry", field: "model")
                : EngineError(.overloaded, "too many requests in flight (\(options.maxPendingJobs)); retry later")
            cond.unlock()
            return finish(lead, error: e, counted: false)
        }
        let limits = UserLimits(maxRequests: options.maxPendingPerUser, maxTokens: options.maxInflightTokensPerUser)
        if let e = userLoads.reserve(jobs.map(ObjectIdentifier.init), principal: lead.client.principal,
                                     tokens: jobs.reduce(0) { $0 + $1.tokenReservation }, limits: limits) {
            cond.unlock()
            return finish(lead, error: e, counted: false)
        }
        if lead.key.tag != nil { jobsByKey[lead.key] = lead }
        for j in jobs { liveJobs[ObjectIdentifier(j)] = j }
        counters.activeJobs += 1
        lead.model.lastUsed = Engine.now()  // keep_alive's clock (Engine+KeepAlive)
        let (ready, text) = (queued.filter { $0.textInput == nil }, queued.filter { $0.textInput != nil })
        preparing += text.count
        for job in ready { enqueue(job) }
        cond.broadcast()
        cond.unlock()
        for job in text {
            prepareQueue.async { [self] in
                job.textTokens = job.model.tokenizer.encode(job.textInput!).map { Int32($0) }
                cond.lock()
                preparing -= 1
                enqueue(job)
                cond.broadcast()
                cond.unlock()
            }
        }
    }

    /// Hands a job whose input is ready to the compute thread. Under `cond`'s lock.
    private func enqueue(_ job: Job) { inbox.append(job) }

    /// A request answered by one job.
    private func submit(_ job: Job) { submit([job], queued: [job]) }

    /// A request answered by several independent jobs (a task's sequences), all queued at once.
    func submitAll(_ jobs: [Job]) { submit(jobs, queued: jobs) }

    // MARK: - The compute loop (engine thread)

    private func loop() {
        ComputeThread.markCurrent()
        while true {
            cond.lock()
            lastHeartbeat = Engine.now()
            // A job with nothing pending waits for its output stage (`outputReady` wakes the loop).
            while inbox.isEmpty && !outputReady && chores.isEmpty && !active.contains(where: { !$0.pending.isEmpty || $0.cancelReason != nil })
                    && !(stopRequested && active.isEmpty) {
                _ = cond.wait(until: Date().addingTimeInterval(1))
                lastHeartbeat = Engine.now()
                if Engine.now() - lastExpiry > 1 { break }
            }
            let fresh = inbox
            inbox.removeAll()
            let settles = outputReady
            outputReady = false
            let todo = chores; chores = []  // run below, outside the lock, before admissions
            let idle = stopRequested && fresh.isEmpty && active.isEmpty
            let stop = idle && preparing == 0
            // Tokenizers broadcast when they finish; the timeout only keeps the heartbeat.
            if idle && !stop { _ = cond.wait(until: Date().addingTimeInterval(1)) }
            cond.unlock()
            for chore in todo { chore() }
            if stop { break }

            if Engine.now() - lastExpiry > 1 { sessions.expireIdle(); unloadIdleModels(); lastExpiry = Engine.now() }
            for job in fresh { admit(job) }
            reapCancelled()
            if settles { settleOutputs() }
            step()
        }
        cond.lock()
        running = false
        let waiters = exitWaiters
        exitWaiters = []
        let late = chores; chores = []  // queued after the last pass: run here, as if not running
        cond.broadcast()
        cond.unlock()
        for chore in late { chore() }
        for w in waiters { w.resume() }
    }

    /// Sets a new job up: session lease, tokenization, what to compute. Errors finish it at once.
    private func admit(_ job: Job) {
        admissions += 1
        job.admission = admissions
        job.startedAt = Engine.now()
        do {
            try requireWhole(job.model)  // Engine+ModelHealth: model_unavailable while its file is damaged
            try setUp(job)
            active.append(job)
            if job.pending.isEmpty { complete(job) }  // e.g. max_new_tokens 0
        } catch let e as EngineError {
            finish(job, error: e)
        } catch {
            finish(job, error: EngineError(.internalError, "\(error)"))
        }
    }

    /// Validates a job's input (tokenized already, if it was text), leases its session, finds
    /// reusable KV entries and decides what to compute; the job is running afterwards.
    func setUp(_ job: Job) throws {
        let m = job.model, cfg = m.model.config, work = job.work
        let newTokens: [Int32]
        switch work.input {
        case .text:
            newTokens = job.textTokens  // tokenized on prepareQueue before submission reached this thread
        case .tokens(let ids):
            if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= cfg.vocabSize }) {
                throw EngineError(.invalidField, "tokens[\(bad)] = \(ids[bad]) is outside the vocabulary (0..<\(cfg.vocabSize))", field: "tokens")
            }
            newTokens = ids.map { Int32($0) }
        }

        var history: [Int32] = []
        var leased: KVCache? = nil
        if let id = work.sessionID {
            let s = try sessions.acquire(id, owner: job.client.principal, model: m.name)
            job.session = s
            history = s.tokens
            // A cache from another pool was computed by a model since unloaded or replaced: recompute.
            leased = s.cache.flatMap { $0.pool === m.pool ? $0 : nil } ?? KVCache(pool: m.pool)
            // History is tokens: a model of this name with the same vocabulary continues it.
            if let bad = history.firstIndex(where: { $0 < 0 || Int($0) >= cfg.vocabSize }) {
                throw EngineError(.invalidField, "session '\(id)' holds token \(history[bad]) (position \(bad)), outside the vocabulary of model '\(m.name)' as loaded now (0..<\(cfg.vocabSize))", field: "session")
            }
        }
        job.context = history + newTokens
        if job.context.isEmpty {
            let field: String
            if case .tokens = work.input { field = "tokens" } else { field = work.textField }
            throw EngineError(.invalidField, "the prompt is empty", field: field)
        }
        if job.context.count > cfg.nPositions {
            throw EngineError(.contextOverflow, "\(job.context.count) tokens exceed the model's context of \(cfg.nPositions) (n_positions); GPT-2's learned positions cannot be shifted")
        }
        // The owner's token quota counts the most this request may leave in its session.
        if let s = job.session { try sessions.reserve(s, tokens: min(cfg.nPositions, job.context.count + work.generatesAtMost)) }
        let (firstNeeded, computes) = try work.admit(job, historyCount: history.count, config: cfg)
        let cache = leased ?? startingCache(for: job, limit: firstNeeded)
        if cache.count > firstNeeded { cache.truncate(to: firstNeeded) }
        job.cachedTokens = cache.count
        job.promptTokens = job.context.count
        job.pending = computes ? Array(job.context[cache.count...]) : []
        job.phase = .running(cache)
    }

    /// A session-less job starts from the longest prefix (at most `limit` positions) this user has
    /// cached — a recent request's or one of the user's idle sessions' (forked; the source stays as
    /// it is) — or from an empty cache.
    private func startingCache(for job: Job, limit: Int) -> KVCache {
        let m = job.model
        var source: (cache: KVCache, length: Int)? = nil
        if job.work.usesPrefixCache {
            // Only caches of this model's own pool (not of one unloaded or replaced under the same name).
            let recent = prefixCache.best(owner: job.client.principal, model: m.name, tokens: job.context, limit: limit)
                .flatMap { $0.cache.pool === m.pool ? $0 : nil }
            let session = sessions.bestIdlePrefix(owner: job.client.principal, model: m.name, tokens: job.context, limit: limit)
                .flatMap { $0.cache.pool === m.pool ? $0 : nil }
            source = (session?.length ?? 0) > (recent?.length ?? 0) ? session : recent
            if let s = source, s.length < prefixCache.minimumReuse { source = nil }
        }
        return source.flatMap { $0.cache.fork(positions: $0.length) } ?? KVCache(pool: m.pool)
    }

    /// A group follower starts running: its leader's prompt is computed and `cache` is a fork of it.
    func startMember(_ f: Job, of leader: Job, cache: KVCache) {
        f.phase = .running(cache)
        f.admission = leader.admission  // as old as its request: preemption ranks it with its leader
        f.startedAt = leader.startedAt
        f.context = leader.context
        f.promptTokens = leader.promptTokens
        f.cachedTokens = leader.cachedTokens
        active.append(f)
    }

    /// Ends jobs whose cancel flag is set.
    private func reapCancelled() {
        cond.lock()
        let victims = active.filter { $0.cancelReason != nil }
        cond.unlock()
        for job in victims { finish(job, error: job.cancelReason!) }
        compactActive()
    }

    /// Lets every running work act on what its output stage found (a stop string ends a generation
    /// at that token, taking back the tokens computed after it).
    private func settleOutputs() {
        for job in active where !job.hasEnded {
            switch job.work.settle(job) {
            case .continues: break
            case .complete: complete(job)
            case .failed(let e): finish(job, error: e)
            }
        }
        compactActive()
    }

    /// Drops the jobs that ended from `active` in one pass (retiring thousands of a task's windows at
    /// once stays linear). Engine thread; runs after every reap and every step, so the compute loop
    /// never sees an ended job.
    private func compactActive() {
        guard endedInActive > 0 else { return }
        active.removeAll { $0.hasEnded }
        endedInActive = 0
    }

    /// Drops a running job's KV cache; its tokens are computed again when memory allows.
    private func preempt(_ job: Job, cache: KVCache) {
        cache.reset()
        job.work.restart()
        job.pending = job.context
    }

    /// Frees KV memory that only speeds things up: cached prefixes first, then idle sessions' caches.
    func evictSomething() -> Bool {
        if prefixCache.evictOne() { metrics.evicted(.prefix); return true }
        if sessions.evictOneCache() { metrics.evicted(.session); return true }
        return false
    }

    /// What the scheduler sees of a job (`id`: its index in `jobs`; `model`: its model's index in the
    /// step's model list).
    private func view(_ job: Job, id: Int, model: Int = 0, turn: Int = 0) -> ScheduledSequence {
        ScheduledSequence(id: id, model: model, admission: job.admission,
                          pending: job.pending.count, decoding: job.work.isDecoding(job), turn: turn)
    }

    /// One batched forward pass for one model, as `Scheduler.plan` lays it out; a KV shortage is
    /// settled by `Scheduler.resolveShortage` and the pass retried.
    private func step() {
        defer {
            compactActive()
            metrics.runningSequences(active.count)
        }
        let runnable = active.filter { !$0.pending.isEmpty }
        // Prompt work is shared round robin between principals (FairOrder), FIFO within each.
        let owners = runnable.map(\.client.principal)
        let turns = fairOrder.ranks(owners: owners, admissions: runnable.map(\.admission))
        // The models with runnable work, in load order: the scheduler's model indices. The round robin
        // goes on with the first model loaded after the last one computed (models come and go).
        var stepModels: [ServedModel] = []
        for job in runnable where !stepModels.contains(where: { $0 === job.model }) { stepModels.append(job.model) }
        stepModels.sort { $0.serial < $1.serial }
        let modelOf = runnable.map { job in stepModels.firstIndex { $0 === job.model } ?? 0 }
        guard let plan = Scheduler.plan(runnable.enumerated().map { view($1, id: $0, model: modelOf[$0], turn: turns[$0]) },
                                        modelCount: stepModels.count,
                                        nextModel: stepModels.firstIndex { $0.serial > lastModelSerial } ?? 0,
                                        maxBatchTokens: options.maxBatchTokens) else { return }
        fairOrder.record(served: plan.rows.filter { !runnable[$0.id].work.isDecoding(runnable[$0.id]) }.map { owners[$0.id] }, present: Set(owners))
        let m = stepModels[plan.model]
        lastModelSerial = m.serial
        let runner = runners[m.serial] ?? GPT2Runner(config: m.model.config, weights: m.model.weights)
        runners[m.serial] = runner
        guard weightsAreWhole(m) else { return }  // Engine+ModelHealth: a truncated file is not read
        // Every row of the plan is a running job's, with its cache.
        var batch: [(job: Job, cache: KVCache, take: Int)] = plan.rows.compactMap { row in
            runnable[row.id].cache.map { (runnable[row.id], $0, row.take) }
        }

        while !batch.isEmpty {
            // Each job's sequences (one, or one per running beam), and which of them are whose.
            var requests: [ForwardRequest] = []
            var spans: [Range<Int>] = []
            for item in batch {
                let own = item.job.work.requests(item.job, cache: item.cache, take: item.take)
                spans.append(requests.count..<(requests.count + own.count))
                requests += own
            }
            do {
                let started = DispatchTime.now().uptimeNanoseconds
                let results = try runner.forward(requests)
                guard weightsAreWhole(m) else { return }  // Engine+ModelHealth: a faulted pass is dropped
                let rows = requests.reduce(0) { $0 + $1.tokens.count }
                cond.lock()
                counters.forwardPasses += 1
                counters.batchRows += rows
                counters.lastBatchRows = rows
                cond.unlock()
                for (i, item) in batch.enumerated() where item.job.isRunning {
                    switch item.job.work.advance(item.job, cache: item.cache, taken: item.take, results: results[spans[i]], engine: self) {
                    case .continues: break
                    case .complete: complete(item.job)
                    case .failed(let e): finish(item.job, error: e)
                    }
                }
                metrics.stepEnded(model: m.name, rows: rows, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
                return
            } catch ForwardError.kvBudgetExhausted(let failed, _) {
                let s = spans.firstIndex { $0.contains(failed) } ?? 0
                let needy = batch[s].job
                let holders = active.compactMap { j in j.cache.flatMap { $0.allocatedBytes > 0 ? (job: j, cache: $0) : nil } }
                // The needy job keeps its index among the holders when it holds memory itself.
                let needyID = holders.firstIndex { $0.job === needy } ?? holders.count
                let action = Scheduler.resolveShortage(
                    needy: view(needy, id: needyID), holders: holders.enumerated().map { view($1.job, id: $0) },
                    canEvict: prefixCache.count > 0 || sessions.hasEvictableCache)
                switch action {
                case .evictCache:
                    _ = evictSomething()
                case .preempt(let id):
                    let victim = holders[id]
                    preempt(victim.job, cache: victim.cache)
                    batch.removeAll { $0.job === victim.job }
                    cond.lock(); counters.preemptions += 1; cond.unlock()
                    metrics.preempted()
                case .skip:
                    batch.remove(at: s)
                case .refuse:
                    batch.remove(at: s)
                    finish(needy, error: EngineError(.overloaded, "the KV cache budget (kv_cache_mib) is too small for this request"))
                }
            } catch let e as ForwardError {
                // Validated at admission; reaching here is a bug. Fail the batch, keep serving.
                for item in batch { finish(item.job, error: EngineError(.internalError, e.description)) }
                return
            } catch {
                for item in batch { finish(item.job, error: EngineError(.internalError, "\(error)")) }
                return
            }
        }
    }
}
