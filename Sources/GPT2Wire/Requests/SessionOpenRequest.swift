// session.open — a new session (a KV cache kept between requests) on one model.

import GPT2JSON

public struct SessionOpenRequest: WireRequest {
    public typealias Response = SessionInfo
    public static let op = "session.open"

    public var model: String

    public static let wireDefaults = SessionOpenRequest(model: "")
    public static let wireFields: [WireField<Self>] = [.required("model", \.model, .nonEmptyString)]

    public init(model: String) { self.model = model }
}
