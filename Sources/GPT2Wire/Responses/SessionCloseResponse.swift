// session.close result: {session, closed}.

import GPT2JSON

public struct SessionCloseResponse: WireResponse {
    public var session: String
    /// Always true on a result line (an unknown session is an `unknown_session` error).
    public var closed: Bool

    public static let wireDefaults = SessionCloseResponse(session: "")
    public static let wireFields: [WireField<Self>] = [
        .required("session", \.session, .string),
        .required("closed", \.closed, .bool),
    ]

    public init(session: String, closed: Bool = true) {
        self.session = session
        self.closed = closed
    }
}
