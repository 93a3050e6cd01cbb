// embed — sentence embeddings pooled from the final hidden states (after ln_f); any checkpoint.

import GPT2JSON

public struct EmbedRequest: WireRequest {
    public typealias Response = EmbedResponse
    public static let op = "embed"

    public enum Pooling: String, Sendable, Equatable, CaseIterable { case last, mean }

    public var model: String
    public var texts: [String]
    /// True when the request used "texts".
    public var batch: Bool
    /// "last" (default): the last token's hidden state; "mean": the mean over all tokens.
    public var pooling: Pooling
    /// L2-normalize each embedding; default false.
    public var normalize: Bool

    public static let wireDefaults = EmbedRequest(model: "", texts: [])
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .nonEmptyString),
        TaskTexts.field(\.texts, batch: \.batch),
        .defaulted("pooling", \.pooling, .choice),
        .defaulted("normalize", \.normalize, .bool),
    ]

    public init(model: String, texts: [String], batch: Bool? = nil, pooling: Pooling = .last, normalize: Bool = false) {
        self.model = model
        self.texts = texts
        self.batch = batch ?? (texts.count != 1)
        self.pooling = pooling
        self.normalize = normalize
    }
}
