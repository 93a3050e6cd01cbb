// metrics result: {content_type, text} — the same exposition GET /metrics serves on the HTTP listener.

import GPT2JSON

public struct MetricsResponse: WireResponse {
    /// What `text` is — the Prometheus text format 0.0.4. A protocol constant (declared here once; GET
    /// /metrics sends it as its Content-Type), written in every result and checked when one is read.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    /// The Prometheus text exposition: `# HELP` / `# TYPE` lines and samples, one per line.
    public var text: String

    public var contentType: String { Self.contentType }

    public static let wireDefaults = MetricsResponse(text: "")
    public static let wireFields: [WireField<Self>] = [
        .constant("content_type", contentType, .string),
        .required("text", \.text, .string),
    ]

    public init(text: String) { self.text = text }
}
