// session.info — one session's state.

import GPT2JSON

public struct SessionInfoRequest: WireRequest {
    public typealias Response = SessionInfo
    public static let op = "session.info"

    public var session: String

    public init(session: String) { self.session = session }

    public init(from body: JSONObject) throws(WireError) {
        session = try FieldReader(body).string("session", nonEmpty: true)
    }

    public func json() -> JSONObject { ["session": .string(session)] }
}
