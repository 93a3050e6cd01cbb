// EngineMetrics — the handles the engine records into, where each fact happens: at the end of every
// step (forward passes, rows, step time, running sequences), at the end of every request (tokens,
// time to first token, time per output token), at a preemption and at an eviction.
//
// Cost on the compute thread: every handle is made once, here, from swift-metrics' API over the
// factory the daemon gives (swift-prometheus's, or the no-op one); a step looks its model's handles up
// in a dictionary built at init and allocates nothing. A counter is a relaxed atomic add and a gauge
// an atomic store (swift-prometheus's ManagedAtomic); a histogram takes its own lock around a scan of
// ~13 buckets. No listener ever takes those locks — only the exposition does, to copy a histogram's
// state (a few bucket counts), so the compute thread never waits on a socket thread; after such a
// copy the next record copies the bucket array once (one small allocation per histogram per scrape,
// never per step). Tens of nanoseconds per step in all, next to a forward pass of milliseconds.
import CoreMetrics

final class EngineMetrics: Sendable {
    /// The per-model handles (label `model`).
    struct ModelHandles: Sendable {
        let forwardPasses: CoreMetrics.Counter
        let batchRows: Recorder
        let stepDuration: CoreMetrics.Timer
        let promptTokens: CoreMetrics.Counter
        let completionTokens: CoreMetrics.Counter
        let cachedTokens: CoreMetrics.Counter
        let timeToFirstToken: CoreMetrics.Timer
        let timePerOutputToken: CoreMetrics.Timer

        init(model: String, factory: any MetricsFactory) {
            let d = [("model", model)]
            forwardPasses = CoreMetrics.Counter(label: MetricFamilies.forwardPasses.name, dimensions: d, factory: factory)
            batchRows = Recorder(label: MetricFamilies.batchRows.name, dimensions: d, aggregate: true, factory: factory)
            stepDuration = CoreMetrics.Timer(label: MetricFamilies.stepDuration.name, dimensions: d, factory: factory)
            promptTokens = CoreMetrics.Counter(label: MetricFamilies.promptTokens.name, dimensions: d, factory: factory)
            completionTokens = CoreMetrics.Counter(label: MetricFamilies.completionTokens.name, dimensions: d, factory: factory)
            cachedTokens = CoreMetrics.Counter(label: MetricFamilies.cachedTokens.name, dimensions: d, factory: factory)
            timeToFirstToken = CoreMetrics.Timer(label: MetricFamilies.timeToFirstToken.name, dimensions: d, factory: factory)
            timePerOutputToken = CoreMetrics.Timer(label: MetricFamilies.timePerOutputToken.name, dimensions: d, factory: factory)
        }
    }

    /// What an eviction dropped (label `kind`).
    enum EvictionKind: String { case prefix, session }

    private let models: [String: ModelHandles]
    /// Handles of models loaded after start (models.load, SIGHUP), made once each; only their lookups
    /// take this lock (uncontended: the compute thread, and a load adding a name).
    private let laterModels = Locked<[String: ModelHandles]>([:])
    private let factory: any MetricsFactory
    private let preemptions: CoreMetrics.Counter
    private let prefixEvictions: CoreMetrics.Counter
    private let sessionEvictions: CoreMetrics.Counter
    private let running: CoreMetrics.Gauge

    /// Handles for `models` (the engine's model names) from `factory`.
    init(models names: [String], factory: any MetricsFactory) {
        models = Dictionary(names.map { ($0, ModelHandles(model: $0, factory: factory)) }, uniquingKeysWith: { a, _ in a })
        self.factory = factory
        preemptions = CoreMetrics.Counter(label: MetricFamilies.preemptions.name, factory: factory)
        prefixEvictions = CoreMetrics.Counter(label: MetricFamilies.evictions.name, dimensions: [("kind", EvictionKind.prefix.rawValue)], factory: factory)
        sessionEvictions = CoreMetrics.Counter(label: MetricFamilies.evictions.name, dimensions: [("kind", EvictionKind.session.rawValue)], factory: factory)
        running = CoreMetrics.Gauge(label: MetricFamilies.runningSequences.name, factory: factory)
        running.record(0)
    }

    /// A model named `name` serves (loaded after start): its handles are made now, not on a step.
    func modelAdded(_ name: String) {
        guard models[name] == nil else { return }
        laterModels.withLock { if $0[name] == nil { $0[name] = ModelHandles(model: name, factory: factory) } }
    }

    private func handles(_ model: String) -> ModelHandles? { models[model] ?? laterModels.withLock { $0[model] } }

    /// Engine thread, after a step's forward pass and its rows' work: `rows` token rows in `nanoseconds`.
    func stepEnded(model: String, rows: Int, nanoseconds: UInt64) {
        guard let h = handles(model) else { return }
        h.forwardPasses.increment()
        h.batchRows.record(rows)
        h.stepDuration.recordNanoseconds(nanoseconds)
    }

    /// Engine thread, once per step: the sequences admitted now.
    func runningSequences(_ count: Int) { running.record(count) }

    /// A request finished without error (its leading job's bookkeeping): its tokens.
    func requestEnded(model: String, promptTokens: Int, completionTokens: Int, cachedTokens: Int) {
        guard let h = handles(model) else { return }
        if promptTokens > 0 { h.promptTokens.increment(by: promptTokens) }
        if completionTokens > 0 { h.completionTokens.increment(by: completionTokens) }
        if cachedTokens > 0 { h.cachedTokens.increment(by: cachedTokens) }
    }

    /// A generation's sequence finished with `tokens` generated and this timing: time to first token
    /// (queue + prompt) and, with two or more tokens, the mean time between the later ones.
    func generationTimed(model: String, timing: GenerationTiming, tokens: Int) {
        guard let h = handles(model), tokens > 0 else { return }
        h.timeToFirstToken.recordNanoseconds(Int64((timing.queueMs + timing.promptMs) * 1e6))
        if tokens > 1 { h.timePerOutputToken.recordNanoseconds(Int64(timing.completionMs * 1e6 / Double(tokens - 1))) }
    }

    func preempted() { preemptions.increment() }

    func evicted(_ kind: EvictionKind) {
        switch kind {
        case .prefix: prefixEvictions.increment()
        case .session: sessionEvictions.increment()
        }
    }

    /// Handles over swift-metrics' no-op factory: an engine built without metrics (most tests).
    static func disabled(models: [String]) -> EngineMetrics { EngineMetrics(models: models, factory: NOOPMetricsHandler.instance) }
}
