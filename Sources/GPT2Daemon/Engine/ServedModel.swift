// ServedModel — one model the daemon serves: immutable weights, its tokenizer and its KV pool.
import GPT2Core
import GPT2Tasks
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
    /// Whether its weight files are whole (see ModelHealth.swift).
    let health = ModelHealth()
    /// Load order, unique in the process (a model loaded again under the same name gets a new one):
    /// the scheduler's round robin between models and the engine's runner table key on it.
    let serial: UInt64 = ServedModel.serials.withLock { $0 += 1; return $0 }
    private static let serials = Locked<UInt64>(0)
    /// False once the model drains (unload, replace, keep_alive): a submission on it gets
    /// `model_unavailable`. Guarded by the engine's lock (Engine+Models.swift).
    var acceptsWork = true
    /// Where it was loaded from (set by ModelLoading; nil for a model built by hand): keep_alive loads
    /// it again from there.
    var origin: ModelOrigin?
    /// keep_alive: unused this many seconds, the model is unloaded and loaded again at its next request
    /// (Engine+KeepAlive.swift); nil: never. Guarded by the engine's lock once served.
    var keepAliveSeconds: Double?
    /// When a request on it was last submitted (`Engine.now()` seconds). Guarded by the engine's lock.
    var lastUsed = Engine.now()
    /// Fired when this object goes, taking the last reference to its weights (`models.unload` waits for it).
    let released = ReleaseSignal()

    deinit { released.fire() }

    public init(name: String, model: GPT2Model, tokenizer: GPT2Tokenizer, pool: KVBlockPool) {
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        self.pool = pool
        let c = model.config
        info = ModelInfo(
            name: name, architecture: c.architectures.first ?? "GPT2LMHeadModel", tasks: ServedModel.tasks(of: c, weights: model.weights),
            nLayer: c.nLayer, nEmbd: c.nEmbd, nHead: c.nHead, nPositions: c.nPositions, vocabSize: c.vocabSize,
            dtype: ServedModel.dtypeName(model.weights.storedDType), weightType: model.weights.weightType.rawValue,
            kvDType: pool.dtype.rawValue, matmulPrecision: model.weights.matmulPrecision.rawValue,
            labels: ServedModel.labels(of: c, weights: model.weights), format: model.weights.format.rawValue,
            quantization: model.weights.quantization?.rawValue)
    }

    /// transformers' name for a stored safetensors dtype ("F32" → "float32"), as config.json writes it.
    static func dtypeName(_ stored: String) -> String {
        ["F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"][stored] ?? stored.lowercased()
    }

    /// Loads weights (mapped, preloaded) and the tokenizer from one checkpoint directory (or .gguf
    /// file): the directory's tokenizer files, else the one the weight file carries (GGUF).
    public static func load(name: String, directory: String, budget: KVMemoryBudget, blockTokens: Int,
                            kvDType: KVDType = .float32, options: LoadOptions = .init()) throws -> ServedModel {
        let model = try GPT2Model.load(directory: directory, options: options)
        let tokenizer: GPT2Tokenizer
        if let embedded = model.weights.embeddedTokenizer, !GPT2Tokenizer.hasFiles(directory: directory) {
            tokenizer = try GPT2Tokenizer(tokens: embedded.tokens, merges: embedded.merges,
                                          specialIDs: embedded.controlTokenIDs, source: embedded.source)
        } else {
            tokenizer = try GPT2Tokenizer.load(directory: directory)
        }
        let pool = KVBlockPool(config: model.config, blockTokens: blockTokens, budget: budget, dtype: kvDType)
        return ServedModel(name: name, model: model, tokenizer: tokenizer, pool: pool)
    }

    /// The ops this checkpoint can serve. Every GPT-2 body has the tied LM head (wte), so generation
    /// and scoring always work, and so does `embed`; classify/tag/qa/choose need their head tensors.
    static func tasks(of c: GPT2Config, weights: GPT2Weights) -> [String] {
        ["generate", "score"] + TaskHeads.supportedTasks(config: c, weights: weights)
    }

    /// Classifier labels in id order (id2label, default "LABEL_i") for a model with a sequence- or
    /// token-classification head (its row count is num_labels); [] otherwise.
    static func labels(of c: GPT2Config, weights: GPT2Weights) -> [String] {
        let head = weights.heads[TaskHeads.sequenceClassification] ?? weights.heads[TaskHeads.tokenClassification]
        guard let rows = head?.shape.first, rows > 0 else { return [] }
        return (0..<rows).map { TaskHeads.label(c, $0) }
    }
}
