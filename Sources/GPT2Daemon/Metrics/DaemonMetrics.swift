// DaemonMetrics — the daemon's one metrics registry and what reads it.
//
//   registry   one swift-prometheus PrometheusCollectorRegistry per daemon;
//   factory    a PrometheusMetricsFactory over it, with each histogram's buckets from MetricFamilies.
//              Every gpt2d handle is made from this factory explicitly (swift-metrics' `factory:`
//              initialisers), so an in-process daemon (the tests) never depends on the process-wide
//              MetricsSystem; `bootstrapSystem()` (gpt2d's main, once per process) also makes it the
//              factory of any library that records through MetricsSystem;
//   recorded   by the engine (EngineMetrics, made by Engine from `factory`), by the listeners
//              (`requests`), at start-up (build info, model load time);
//   sampled    the state the engine and the listener already keep (queue depth, requests active,
//              sessions, connections, KV blocks and bytes) is read when an exposition is made,
//              not pushed on every change: nothing is added to the paths that change it.
// `exposition(server:)` is what GET /metrics, the `metrics` op and the textfile serve.
import CoreMetrics
import GPT2Wire
import Prometheus

public final class DaemonMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let requests: RequestMetrics

    /// A new registry with the build info series (`version`: gpt2d's).
    public init(version: String = DaemonVersion.current) {
        registry = PrometheusCollectorRegistry()
        factory = Self.factory(over: registry)
        requests = RequestMetrics(factory: factory)
        CoreMetrics.Gauge(label: MetricFamilies.buildInfo.name,
                          dimensions: [("version", version), ("protocol", String(ProtocolVersion.current))], factory: factory).record(1)
    }

    /// A PrometheusMetricsFactory over `registry` whose histograms get the catalog's buckets.
    static func factory(over registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        for family in MetricFamilies.all where family.kind == .histogram {
            if family.name.hasSuffix("_seconds") {
                f.durationHistogramBuckets[family.name] = family.buckets.map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
            } else {
                f.valueHistogramBuckets[family.name] = family.buckets
            }
        }
        return f
    }

    /// Makes this daemon's factory swift-metrics' process-wide one. Once per process: later calls
    /// (another Daemon in the same process) leave the first in place.
    public func bootstrapSystem() {
        Self.bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            MetricsSystem.bootstrap(factory)
        }
    }
    private static let bootstrapped = Locked(false)

    /// A model finished loading in `seconds` (Daemon.init).
    func modelLoaded(_ name: String, seconds: Double) {
        CoreMetrics.Gauge(label: MetricFamilies.modelLoad.name, dimensions: [("model", name)], factory: factory).record(seconds)
    }

    /// The exposition text now (format 0.0.4): the sampled gauges read from `server` and its engine,
    /// then every series of the registry, sorted, with help lines (MetricsExposition).
    public func exposition(server: ServerState) -> String {
        let s = server.engine.stats()
        gauge(MetricFamilies.queueDepth, s.queueDepth)
        gauge(MetricFamilies.requestsActive, s.requestsActive)
        gauge(MetricFamilies.sessions, s.sessions)
        gauge(MetricFamilies.connections, server.openConnections)
        gauge(MetricFamilies.kvBlocksUsed, s.kvBlocksInUse)
        gauge(MetricFamilies.kvBytesUsed, s.kvBytesInUse)
        if let free = s.kvBlocksFree { gauge(MetricFamilies.kvBlocksFree, free) }
        if let limit = s.kvBytesLimit { gauge(MetricFamilies.kvBytesLimit, limit) }
        return MetricsExposition.render(registry.emitToString())
    }

    /// Sets an unlabelled gauge (the registry keeps one series per name: the handle made here is the
    /// same series every time).
    private func gauge(_ family: MetricFamily, _ value: Int) {
        CoreMetrics.Gauge(label: family.name, factory: factory).record(value)
    }
}
