// session.list — the caller's (same Unix user's) open sessions. Body: none.

public struct SessionListRequest: EmptyWireRequest {
    public typealias Response = SessionListResponse
    public static let op = "session.list"
    public init() {}
}
