// session.open — a new session (a KV cache kept between requests) on one model.

import GPT2JSON

public struct SessionOpenRequest: WireRequest {
    public typealias Response = SessionInfo
    public static let op = "session.open"

    public var model: String

    public init(model: String) { self.model = model }

    public init(from body: JSONObject) throws(WireError) {
        model = try FieldReader(body).string("model", nonEmpty: true)
    }

    public func json() -> JSONObject { ["model": .string(model)] }
}
