// health — liveness and protocol version. Body: none.

public struct HealthRequest: EmptyWireRequest {
    public typealias Response = HealthResponse
    public static let op = "health"
    public init() {}
}
