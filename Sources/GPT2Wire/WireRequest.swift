// WireRequest — one type per op, each with its result type (sourcekit-lsp's RequestType shape).

import GPT2JSON

/// A request of protocol v1: its body (the request object without "id" and "op") is its `wireFields`,
/// decoded by the daemon with `init(from:)` and encoded by clients with `json()` (see `RequestLine.encode`).
public protocol WireRequest: WireObject {
    /// The type of the "result" line's body.
    associatedtype Response: WireResponse
    /// The wire name in "op".
    static var op: String { get }
}

/// The body of a "result" line (everything but "id" and "type").
public protocol WireResponse: WireObject {}

/// Requests without fields (health, models, session.list, stats, metrics).
public protocol EmptyWireRequest: WireRequest {
    init()
}

extension EmptyWireRequest {
    public static var wireDefaults: Self { Self() }
    public static var wireFields: [WireField<Self>] { [] }
}

/// The ops of protocol v1. A daemon's router maps each `op` to one handler; a new op is one more request type, response type and entry here.
public enum WireOps {
    public static let v1: [any WireRequest.Type] = [
        HealthRequest.self, ModelsRequest.self, TokenizeRequest.self, DetokenizeRequest.self,
        GenerateRequest.self, ScoreRequest.self, SessionOpenRequest.self, SessionCloseRequest.self,
        SessionListRequest.self, SessionInfoRequest.self, CancelRequest.self, StatsRequest.self,
        ClassifyRequest.self, TagRequest.self, QARequest.self, ChooseRequest.self, EmbedRequest.self,
        MetricsRequest.self, SessionForkRequest.self, ModelsLoadRequest.self, ModelsUnloadRequest.self,
    ]

    /// The request type for an op name, or nil (→ `unknown_op`).
    public static func requestType(for op: String) -> (any WireRequest.Type)? {
        v1.first { $0.op == op }
    }

    /// The `unknown_op` error for `op`.
    public static func unknownOp(_ op: String) -> WireError {
        WireError(.unknownOp, "unknown op '\(op)'", field: "op")
    }
}

/// A client's request line: `{"id":…,"op":…,<body>}` + "\n".
public enum RequestLine {
    public static func encode<R: WireRequest>(_ request: R, id: RequestID?) -> [UInt8] {
        var o = JSONObject()
        if let id { o["id"] = id.json }
        o["op"] = .string(R.op)
        for (k, v) in request.json() where k != "id" && k != "op" { o[k] = v }
        var bytes = JSON.object(o).serializedBytes()
        bytes.append(0x0A)
        return bytes
    }
}
