// session.close result: {session, closed}.

import GPT2JSON

public struct SessionCloseResponse: WireResponse {
    public var session: String
    /// Always true on a result line (an unknown session is an `unknown_session` error).
    public var closed: Bool

    public init(session: String, closed: Bool = true) {
        self.session = session
        self.closed = closed
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        session = try r.string("session")
        closed = try r.bool("closed")
    }

    public func json() -> JSONObject { ["session": .string(session), "closed": .bool(closed)] }
}
