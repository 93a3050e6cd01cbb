// Envelope — a request line's "id", "op" and body, before the op-specific decoding.

import GPT2JSON

/// A parsed request line.
public struct Envelope: Sendable, Equatable {
    /// The client's id, or nil when the line had none (or `"id": null`).
    public var id: RequestID?
    public var op: String
    /// All members of the request object except "id" and "op".
    public var body: JSONObject

    public init(id: RequestID?, op: String, body: JSONObject) {
        self.id = id
        self.op = op
        self.body = body
    }

    /// Parses one line (without its newline). UTF-8 is checked first so `invalid_utf8` is told apart
    /// from `parse_error`; a bad "op" still reports the id when it could be read.
    public static func parse(_ line: some Collection<UInt8>, maxDepth: Int = ProtocolVersion.maxDepth) throws(EnvelopeError) -> Envelope {
        if let bad = UTF8Check.firstInvalidOffset(line) {
            throw EnvelopeError(id: nil, WireError(.invalidUTF8, "request line is not valid UTF-8 (byte \(bad))"))
        }
        let value: JSON
        do {
            value = try JSON.parse(line, maxDepth: maxDepth)
        } catch {
            let code: WireErrorCode = error.reason == .invalidUTF8 ? .invalidUTF8 : .parseError
            throw EnvelopeError(id: nil, WireError(code, "malformed JSON: \(error.message) at byte \(error.offset)"))
        }
        guard case .object(var o) = value else {
            throw EnvelopeError(id: nil, WireError(.invalidRequest, "a request must be a JSON object, got \(value.typeName)"))
        }
        var id: RequestID? = nil
        if let raw = o["id"], !raw.isNull {
            guard let rid = RequestID(json: raw) else {
                throw EnvelopeError(id: nil, WireError(.invalidRequest, "field 'id' must be a string or a number, got \(raw.typeName)", field: "id"))
            }
            id = rid
        }
        guard let rawOp = o["op"], !rawOp.isNull else {
            throw EnvelopeError(id: id, WireError(.invalidRequest, "missing field 'op'", field: "op"))
        }
        guard let op = rawOp.stringValue else {
            throw EnvelopeError(id: id, WireError(.invalidRequest, "field 'op' must be a string, got \(rawOp.typeName)", field: "op"))
        }
        o["id"] = nil
        o["op"] = nil
        return Envelope(id: id, op: op, body: o)
    }

    /// Decodes the body as `R` (the caller has matched `op` to `R.op`).
    public func decode<R: WireRequest>(_ type: R.Type) throws(WireError) -> R {
        try R(from: body)
    }
}

/// A request line that could not be turned into an `Envelope`: the error to send, and the id to echo
/// (nil when the id could not be read; it is then sent as `"id": null`).
public struct EnvelopeError: Error, Sendable, Equatable {
    public var id: RequestID?
    public var error: WireError

    public init(id: RequestID?, _ error: WireError) {
        self.id = id
        self.error = error
    }
}
