// stats — daemon counters. Body: none.

public struct StatsRequest: EmptyWireRequest {
    public typealias Response = StatsResponse
    public static let op = "stats"
    public init() {}
}
