// models result: {models: [ModelInfo]}.

import GPT2JSON

public struct ModelsResponse: WireResponse {
    public var models: [ModelInfo]

    public static let wireDefaults = ModelsResponse(models: [])
    public static let wireFields: [WireField<Self>] = [.required("models", \.models, .array(of: .object(ModelInfo.self)))]

    public init(models: [ModelInfo]) { self.models = models }
}

/// One loaded model. Field names follow transformers' GPT2Config.
public struct ModelInfo: WireObject {
    public var name: String
    /// The checkpoint class, e.g. "GPT2LMHeadModel", "GPT2ForSequenceClassification".
    public var architecture: String
    /// Ops/tasks it can serve, e.g. ["generate", "score", "embed"].
    public var tasks: [String]
    public var nLayer: Int
    public var nEmbd: Int
    public var nHead: Int
    public var nPositions: Int
    public var vocabSize: Int
    /// Element type the checkpoint stores: "float32", "float16", "bfloat16".
    public var dtype: String
    /// The type the weight matrices are served in ("float32", "bfloat16", "float16", "int8", "nf4",
    /// "q4"); nil from a daemon that does not say.
    public var weightType: String?
    /// The KV cache's element type ("float32", "float16", "bfloat16"); nil from a daemon that does not say.
    public var kvDType: String?
    /// How bfloat16 weight matrices' products treat the activations: "highest" (F32) or "medium"
    /// (rounded to bfloat16); "highest" for every other weight type; nil from a daemon that does not say.
    public var matmulPrecision: String?
    /// The container the weights were read from: "safetensors", "pytorch" (pytorch_model.bin),
    /// "tensorflow" (tf_model.h5), "flax" (flax_model.msgpack) or "gguf" (a llama.cpp .gguf file); nil
    /// from a daemon that does not say.
    public var format: String?
    /// How the checkpoint was quantized before it was saved: "bitsandbytes" (transformers'
    /// BitsAndBytesConfig, 4-bit or 8-bit); nil (absent) for a float checkpoint.
    public var quantization: String?
    /// Classifier labels in id order (config `id2label`); empty for a language-model head.
    public var labels: [String]
    /// False while keep_alive has it unloaded (the next request loads it again); nil from a daemon
    /// that does not say.
    public var loaded: Bool?
    /// Its keep_alive in seconds; nil: none (served until unloaded).
    public var keepAliveSeconds: Double?
    /// Unix seconds when a request last named it; nil from a daemon that does not say.
    public var lastUsedAt: Double?

    public static let wireDefaults = ModelInfo(name: "", architecture: "", tasks: [], nLayer: 0, nEmbd: 0, nHead: 0,
                                               nPositions: 0, vocabSize: 0, dtype: "")
    public static let wireFields: [WireField<Self>] = [
        .required("name", \.name, .string),
        .required("architecture", \.architecture, .string),
        .defaulted("tasks", \.tasks, .stringOrStrings()),
        .required("n_layer", \.nLayer, .int()),
        .required("n_embd", \.nEmbd, .int()),
        .required("n_head", \.nHead, .int()),
        .required("n_positions", \.nPositions, .int()),
        .required("vocab_size", \.vocabSize, .int()),
        .required("dtype", \.dtype, .string),
        .optional("weight_type", \.weightType, .string),
        .optional("kv_dtype", \.kvDType, .string),
        .optional("matmul_precision", \.matmulPrecision, .string),
        .optional("format", \.format, .string),
        .optional("quantization", \.quantization, .string),
        .defaulted("labels", \.labels, .stringOrStrings()),
        .optional("loaded", \.loaded, .bool),
        .optional("keep_alive_s", \.keepAliveSeconds, .number()),
        .optional("last_used_at", \.lastUsedAt, .number()),
    ]

    public init(
        name: String, architecture: String, tasks: [String], nLayer: Int, nEmbd: Int, nHead: Int,
        nPositions: Int, vocabSize: Int, dtype: String, weightType: String? = nil, kvDType: String? = nil,
        matmulPrecision: String? = nil,
        labels: [String] = [], format: String? = nil, quantization: String? = nil, loaded: Bool? = nil,
        keepAliveSeconds: Double? = nil, lastUsedAt: Double? = nil
    ) {
        self.name = name
        self.architecture = architecture
        self.tasks = tasks
        self.nLayer = nLayer
        self.nEmbd = nEmbd
        self.nHead = nHead
        self.nPositions = nPositions
        self.vocabSize = vocabSize
        self.dtype = dtype
        self.weightType = weightType
        self.kvDType = kvDType
        self.matmulPrecision = matmulPrecision
        self.labels = labels
        self.format = format
        self.quantization = quantization
        self.loaded = loaded
        self.keepAliveSeconds = keepAliveSeconds
        self.lastUsedAt = lastUsedAt
    }
}
