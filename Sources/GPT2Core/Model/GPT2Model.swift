// GPT2Model — an immutable, loaded checkpoint: config + weights + where they came from.
// Shared by every session (llama.cpp's llama_model); per-sequence state lives elsewhere.

/// A loaded GPT-2 checkpoint. Immutable; safe to share across threads.
public final class GPT2Model: @unchecked Sendable {
    public let config: GPT2Config
    public let weights: GPT2Weights
    /// The checkpoint directory it was loaded from.
    public let directory: String

    public init(config: GPT2Config, weights: GPT2Weights, directory: String) {
        self.config = config; self.weights = weights; self.directory = directory
    }

    /// Maps and validates a Hugging Face checkpoint directory (see `CheckpointLoader`).
    public static func load(directory: String, options: LoadOptions = .init()) throws -> GPT2Model {
        let (config, weights) = try CheckpointLoader.load(directory: directory, options: options)
        return GPT2Model(config: config, weights: weights, directory: directory)
    }
}
