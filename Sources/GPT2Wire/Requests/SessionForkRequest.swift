// session.fork — a new session of the same owner and model holding a copy of one session's history
// (its KV cache shared copy-on-write), optionally named.

import GPT2JSON

public struct SessionForkRequest: WireRequest {
    public typealias Response = SessionInfo
    public static let op = "session.fork"

    /// The session copied (an id from session.open).
    public var session: String
    /// The new session's name (unique per owner; SessionName.swift).
    public var name: String?

    public static let wireDefaults = SessionForkRequest(session: "")
    public static let wireFields: [WireField<Self>] = [
        .required("session", \.session, .nonEmptyString),
        .optional("name", \.name, .sessionName),
    ]

    public init(session: String, name: String? = nil) { self.session = session; self.name = name }
}
