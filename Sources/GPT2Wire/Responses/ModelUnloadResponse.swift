// models.unload result: {name, unloaded, stopped_requests, freed_kv_blocks}.

import GPT2JSON

public struct ModelUnloadResponse: WireResponse {
    public var name: String
    /// Always true on a result line (a name that serves nothing is an `unknown_model` error).
    public var unloaded: Bool
    /// Requests still running when the drain time ran out, ended with `model_unavailable`.
    public var stoppedRequests: Int
    /// KV blocks given back when the model was dropped (its cached prefixes, idle sessions' caches).
    public var freedKVBlocks: Int

    public static let wireDefaults = ModelUnloadResponse(name: "", stoppedRequests: 0, freedKVBlocks: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("name", \.name, .string),
        .required("unloaded", \.unloaded, .bool),
        .required("stopped_requests", \.stoppedRequests, .int(0...Int.max)),
        .required("freed_kv_blocks", \.freedKVBlocks, .int(0...Int.max)),
    ]

    public init(name: String, unloaded: Bool = true, stoppedRequests: Int, freedKVBlocks: Int) {
        self.name = name
        self.unloaded = unloaded
        self.stoppedRequests = stoppedRequests
        self.freedKVBlocks = freedKVBlocks
    }
}
