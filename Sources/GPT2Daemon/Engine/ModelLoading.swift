// ModelLoading — how a model is loaded, whenever it is (start-up, `models.load`, SIGHUP): one KV
// budget shared by every model, the KV block size and element type, and the loader's options
// (preload, mlock, the quantized-weight cache folder, the default weight type). Loading maps,
// converts or quantizes the weights (or maps the quant cache) and reads the tokenizer — seconds for a
// real model — so callers run it on their own thread, never on the compute thread or an event loop.

import GPT2Core

/// Where a served model was loaded from, and in which type: what loading it again needs (keep_alive).
public struct ModelOrigin: Sendable, Equatable {
    public var directory: String
    /// The type asked for (nil: the daemon's `weight_type`).
    public var weightType: WeightType?
}

public struct ModelLoading: Sendable {
    /// The daemon-wide KV memory budget every model's pool draws from.
    public var budget: KVMemoryBudget
    /// Positions per KV block (`kv_block_tokens`).
    public var blockTokens: Int
    /// The KV cache's element type (`kv_dtype`).
    public var kvDType: KVDType
    /// Options for every model; `weightType` is the type used when a model names none (`weight_type`).
    public var options: LoadOptions

    public init(budget: KVMemoryBudget, blockTokens: Int, kvDType: KVDType, options: LoadOptions) {
        self.budget = budget
        self.blockTokens = blockTokens
        self.kvDType = kvDType
        self.options = options
    }

    /// Loads `directory` as `name`, served in `weightType` (nil: `options.weightType`). Throws the
    /// loader's `CheckpointError` or the tokenizer's error.
    public func load(name: String, directory: String, weightType: WeightType?) throws -> ServedModel {
        var o = options
        if let weightType { o.weightType = weightType }
        let m = try ServedModel.load(name: name, directory: directory, budget: budget, blockTokens: blockTokens,
                                     kvDType: kvDType, options: o)
        m.origin = ModelOrigin(directory: directory, weightType: weightType)
        return m
    }
}
