// RequestID — the client's "id", echoed verbatim on every response line of the request.

import GPT2JSON

/// A request id: a string or any JSON number. Integers and doubles are kept apart so the echo is exact
/// (`7` comes back as `7`, `7.5` as `7.5`, `"7"` as `"7"`).
public enum RequestID: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case double(Double)

    /// nil for anything that is not a string or a number (null is handled by the caller as "absent").
    public init?(json: JSON) {
        switch json {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .double(let d) where d.isFinite: self = .double(d)
        default: return nil
        }
    }

    public var json: JSON {
        switch self {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        }
    }

    public var description: String { json.serialized() }
}

extension RequestID: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
}
