// session.info — one session's state.

public struct SessionInfoRequest: SessionTargetRequest {
    public typealias Response = SessionInfo
    public static let op = "session.info"

    public var session: String

    public init(session: String) { self.session = session }
}
