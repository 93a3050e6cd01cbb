// models.load — serve one more model without a restart (root and `admin_group` only): a checkpoint
// directory on the daemon's machine, the name requests will use, optionally the type its weights
// are served in. The answer comes once the model serves (loading takes seconds; other models keep
// being served meanwhile).

import GPT2JSON

public struct ModelsLoadRequest: WireRequest {
    public typealias Response = ModelLoadResponse
    public static let op = "models.load"

    /// The name requests use ("model": name); no whitespace, "=" or ":" (as in the config's `model`).
    public var name: String
    /// The checkpoint directory (config.json, weights, tokenizer files), an absolute path as the daemon sees it.
    public var directory: String
    /// "float32", "bfloat16", "float16", "int8", "nf4", "q4" or "checkpoint"; nil: the daemon's `weight_type`.
    public var weightType: String?
    /// keep_alive: seconds unused after which the model is unloaded and loaded again at its next
    /// request; nil: served until unloaded.
    public var keepAliveSeconds: Double?

    public static let wireDefaults = ModelsLoadRequest(name: "", directory: "")
    public static let wireFields: [WireField<Self>] = [
        .required("name", \.name, .nonEmptyString),
        .required("directory", \.directory, .nonEmptyString),
        .optional("weight_type", \.weightType, .nonEmptyString),
        .optional("keep_alive_s", \.keepAliveSeconds, .number("a number > 0", where: { $0 > 0 })),
    ]

    public init(name: String, directory: String, weightType: String? = nil, keepAliveSeconds: Double? = nil) {
        self.name = name
        self.directory = directory
        self.weightType = weightType
        self.keepAliveSeconds = keepAliveSeconds
    }
}
