// models result: {models: [ModelInfo]}.

import GPT2JSON

public struct ModelsResponse: WireResponse {
    public var models: [ModelInfo]

    public init(models: [ModelInfo]) { self.models = models }

    public init(from body: JSONObject) throws(WireError) {
        models = try FieldReader(body).objects("models") { (o) throws(WireError) in try ModelInfo(from: o) }
    }

    public func json() -> JSONObject { ["models": .array(models.map { .object($0.json()) })] }
}

/// One loaded model. Field names follow transformers' GPT2Config.
public struct ModelInfo: Sendable, Equatable {
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
    /// Weight dtype as loaded: "float32", "float16", "bfloat16".
    public var dtype: String
    /// Classifier labels in id order (config `id2label`); empty for a language-model head.
    public var labels: [String]

    public init(
        name: String, architecture: String, tasks: [String], nLayer: Int, nEmbd: Int, nHead: Int,
        nPositions: Int, vocabSize: Int, dtype: String, labels: [String] = []
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
        self.labels = labels
    }

    public init(from o: JSONObject) throws(WireError) {
        let r = FieldReader(o)
        name = try r.string("name")
        architecture = try r.string("architecture")
        tasks = try r.optionalStringOrStringArray("tasks") ?? []
        nLayer = try r.int("n_layer")
        nEmbd = try r.int("n_embd")
        nHead = try r.int("n_head")
        nPositions = try r.int("n_positions")
        vocabSize = try r.int("vocab_size")
        dtype = try r.string("dtype")
        labels = try r.optionalStringOrStringArray("labels") ?? []
    }

    public func json() -> JSONObject {
        ["name": .string(name), "architecture": .string(architecture), "tasks": tasks.json,
         "n_layer": .int(Int64(nLayer)), "n_embd": .int(Int64(nEmbd)), "n_head": .int(Int64(nHead)),
         "n_positions": .int(Int64(nPositions)), "vocab_size": .int(Int64(vocabSize)),
         "dtype": .string(dtype), "labels": labels.json]
    }
}
