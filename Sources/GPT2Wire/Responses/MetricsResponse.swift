// metrics result: {content_type, text} — the same exposition GET /metrics serves on the HTTP listener.

import GPT2JSON

public struct MetricsResponse: WireResponse {
    /// `text/plain; version=0.0.4; charset=utf-8`: what the text is.
    public var contentType: String
    /// The Prometheus text exposition: `# HELP` / `# TYPE` lines and samples, one per line.
    public var text: String

    public static let wireDefaults = MetricsResponse(contentType: "", text: "")
    public static let wireFields: [WireField<Self>] = [
        .required("content_type", \.contentType, .string),
        .required("text", \.text, .string),
    ]

    public init(contentType: String, text: String) {
        self.contentType = contentType
        self.text = text
    }
}
