// session.close — free a session.

import GPT2JSON

public struct SessionCloseRequest: WireRequest {
    public typealias Response = SessionCloseResponse
    public static let op = "session.close"

    public var session: String

    public init(session: String) { self.session = session }

    public init(from body: JSONObject) throws(WireError) {
        session = try FieldReader(body).string("session", nonEmpty: true)
    }

    public func json() -> JSONObject { ["session": .string(session)] }
}
