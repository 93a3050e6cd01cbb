// SessionTargetRequest — the shape of session.info and session.close: one field, the session named.

import GPT2JSON

/// A request whose body is `{"session": <non-empty id>}`.
public protocol SessionTargetRequest: WireRequest {
    var session: String { get set }
    init(session: String)
}

extension SessionTargetRequest {
    public static var wireDefaults: Self { Self(session: "") }
    public static var wireFields: [WireField<Self>] { [.required("session", \.session, .nonEmptyString)] }
}
