// RequestMetrics — `gpt2d_requests_total{listener, op, outcome}`, counted by the listeners when a
// request's final answer is produced: the JSON-lines connection when a request's result or error
// line is handed to its writer (ResponseSink), the HTTP connection when an endpoint answered.
//
// Labels stay bounded whatever clients send: `op` is a protocol op, an HTTP endpoint's path pattern,
// `invalid` (a line with no readable op) or `other` (an op or path gpt2d does not serve); `outcome` is
// `ok`, a wire error code, or an HTTP status. One handle per label set, made on first use and kept
// (the listeners' threads share the cache under its lock; the compute thread never records here).
import CoreMetrics
import GPT2Wire

final class RequestMetrics: Sendable {
    /// Which transport answered (label `listener`).
    enum Listener: String, Sendable { case jsonLines = "jsonl", http }

    private let factory: any MetricsFactory
    private struct Key: Hashable { var listener: Listener, op: String, outcome: String }
    private let handles = Locked<[Key: CoreMetrics.Counter]>([:])

    init(factory: any MetricsFactory) { self.factory = factory }

    /// One request of `listener` answered.
    func record(_ listener: Listener, op: String, outcome: String) {
        let key = Key(listener: listener, op: op, outcome: outcome)
        let counter = handles.withLock { table -> CoreMetrics.Counter in
            if let c = table[key] { return c }
            let c = CoreMetrics.Counter(label: MetricFamilies.requests.name,
                                        dimensions: [("listener", listener.rawValue), ("op", op), ("outcome", outcome)], factory: factory)
            table[key] = c
            return c
        }
        counter.increment()
    }

    /// The `op` label of a JSON-lines request: its op when the protocol has it, else `other`.
    static func jsonLinesOp(_ op: String) -> String { v1Ops.contains(op) ? op : "other" }
    private static let v1Ops: Set<String> = Set(WireOps.v1.map { $0.op })

    /// The outcome label of a JSON-lines final line: `ok`, or its error code.
    static func outcome(_ code: WireErrorCode?) -> String { code?.rawValue ?? "ok" }
}

