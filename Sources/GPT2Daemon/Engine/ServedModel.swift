// ServedModel — one model the daemon serves: immutable weights, its tokenizer and its KV pool.
import GPT2Core
import GPT2Tokenizer
import GPT2Wire

public final class ServedModel: @unchecked Sendable {
    /// The name clients use (`"model": "gpt2"`).
    public let name: String
    public let model: GPT2Model
    public let tokenizer: GPT2Tokenizer
    /// KV blocks for this model's sequences, drawn from the daemon-wide budget.
    public let pool: KVBlockPool
    /// What `models` reports.
    public let info: ModelInfo

    public init(name: String, model: GPT2Model, tokenizer: GPT2Tokenizer, pool: KVBlockPool) {
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        self.pool = pool
        let c = model.config
        let hasLabels = c.architectures.contains { $0.hasSuffix("ForSequenceClassification") || $0.hasSuffix("ForTokenClassification") }
        info = ModelInfo(
            name: name, architecture: c.architectures.first ?? "GPT2LMHeadModel", tasks: ServedModel.tasks(of: c),
            nLayer: c.nLayer, nEmbd: c.nEmbd, nHead: c.nHead, nPositions: c.nPositions, vocabSize: c.vocabSize,
            dtype: ServedModel.dtypeName(model.weights.storedDType),
            labels: hasLabels ? c.id2label.keys.sorted().map { c.id2label[$0]! } : [])
    }

    /// transformers' name for a stored safetensors dtype ("F32" → "float32"), as config.json writes it.
    static func dtypeName(_ stored: String) -> String {
        ["F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"][stored] ?? stored.lowercased()
    }

    /// Loads weights (mapped, preloaded) and the tokenizer from one checkpoint directory.
    public static func load(name: String, directory: String, budget: KVMemoryBudget, blockTokens: Int,
                            options: LoadOptions = .init()) throws -> ServedModel {
        let model = try GPT2Model.load(directory: directory, options: options)
        let tokenizer = try GPT2Tokenizer.load(directory: directory)
        let pool = KVBlockPool(config: model.config, blockTokens: blockTokens, budget: budget)
        return ServedModel(name: name, model: model, tokenizer: tokenizer, pool: pool)
    }

    /// The ops this checkpoint can serve. Every GPT-2 body has the tied LM head (wte), so generation
    /// and scoring always work; task heads come with their architectures.
    static func tasks(of c: GPT2Config) -> [String] {
        ["generate", "score"]
    }
}
