// ResponseLine — building and reading the three kinds of response line.
//
//   {"id":<id|null>,"type":"result",<body fields>}
//   {"id":<id|null>,"type":"token",<index, token, text, logprob?>}
//   {"id":<id|null>,"type":"error","error":{"code":…,"message":…,"field"?:…}}
//
// "id" is always present and first, "type" second; the body follows in its own key order.

import GPT2JSON

public enum ResponseLine {
    public static func result(id: RequestID?, body: JSONObject) -> [UInt8] { line(id, "result", body) }

    public static func result<R: WireResponse>(id: RequestID?, _ response: R) -> [UInt8] {
        line(id, "result", response.json())
    }

    public static func token(id: RequestID?, body: JSONObject) -> [UInt8] { line(id, "token", body) }

    public static func token(id: RequestID?, _ event: TokenEvent) -> [UInt8] { line(id, "token", event.json()) }

    public static func error(id: RequestID?, _ error: WireError) -> [UInt8] {
        line(id, "error", ["error": .object(error.json())])
    }

    public static func error(_ e: EnvelopeError) -> [UInt8] { error(id: e.id, e.error) }

    private static func line(_ id: RequestID?, _ type: String, _ body: JSONObject) -> [UInt8] {
        var o: JSONObject = ["id": id?.json ?? .null, "type": .string(type)]
        for (k, v) in body where k != "id" && k != "type" { o[k] = v }
        var bytes: [UInt8] = []
        JSON.object(o).write(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }
}

/// A response line as a client reads it.
public struct IncomingResponse: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The final answer; decode with `R.Response(from:)`.
        case result(JSONObject)
        /// One streamed token of a `generate` with `stream: true`.
        case token(TokenEvent)
        case error(WireError)
    }

    public var id: RequestID?
    public var kind: Kind

    public init(id: RequestID?, kind: Kind) {
        self.id = id
        self.kind = kind
    }

    /// Parses one response line (without its newline).
    public static func parse(_ line: some Collection<UInt8>) throws(WireError) -> IncomingResponse {
        let value: JSON
        do { value = try JSON.parse(line, maxDepth: 64) } catch {
            throw WireError(.parseError, "malformed response line: \(error)")
        }
        guard case .object(var o) = value else { throw WireError(.invalidRequest, "a response line must be an object") }
        let r = FieldReader(o)
        let id = try r.optional("id", .requestID)
        let type = try r.required("type", .string)
        o["id"] = nil
        o["type"] = nil
        switch type {
        case "result": return IncomingResponse(id: id, kind: .result(o))
        case "token": return IncomingResponse(id: id, kind: .token(try TokenEvent(from: o)))
        case "error": return IncomingResponse(id: id, kind: .error(try r.required("error", .wireError)))
        default: throw WireError.invalidField("type", expected: "\"result\", \"token\" or \"error\"", got: .string(type))
        }
    }
}
