// session.open — a session (a token history, with a KV cache kept between requests) on one model.
// With `name`: open or create — the caller's session of that name is returned if it exists
// (`created: false` in the result), else a new one gets the name.

import GPT2JSON

public struct SessionOpenRequest: WireRequest {
    public typealias Response = SessionInfo
    public static let op = "session.open"

    public var model: String
    /// The caller's name for it (unique per owner; SessionName.swift).
    public var name: String?
    /// Seconds unused before it is closed; nil: the daemon's session_idle_timeout_s (its upper bound).
    public var idleTimeoutSeconds: Double?

    public static let wireDefaults = SessionOpenRequest(model: "")
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        .optional("name", \.name, .sessionName),
        .optional("idle_timeout_s", \.idleTimeoutSeconds, .idleTimeout),
    ]

    public init(model: String, name: String? = nil, idleTimeoutSeconds: Double? = nil) {
        self.model = model; self.name = name; self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}
