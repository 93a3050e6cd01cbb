// metrics — the daemon's Prometheus metrics (text exposition format 0.0.4). Body: none.

public struct MetricsRequest: EmptyWireRequest {
    public typealias Response = MetricsResponse
    public static let op = "metrics"
    public init() {}
}
