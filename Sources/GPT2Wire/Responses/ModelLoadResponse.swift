// models.load result: {model: ModelInfo, load_seconds} — the model now served, as `models` lists it.

import GPT2JSON

public struct ModelLoadResponse: WireResponse {
    public var model: ModelInfo
    /// Wall-clock seconds the load took (mapping, converting or quantizing, the tokenizer).
    public var loadSeconds: Double

    public static let wireDefaults = ModelLoadResponse(model: ModelInfo.wireDefaults, loadSeconds: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("model", \.model, .object(ModelInfo.self)),
        .required("load_seconds", \.loadSeconds, .number()),
    ]

    public init(model: ModelInfo, loadSeconds: Double) {
        self.model = model
        self.loadSeconds = loadSeconds
    }
}
