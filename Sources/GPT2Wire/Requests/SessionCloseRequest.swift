// session.close — free a session.

public struct SessionCloseRequest: SessionTargetRequest {
    public typealias Response = SessionCloseResponse
    public static let op = "session.close"

    public var session: String

    public init(session: String) { self.session = session }
}
