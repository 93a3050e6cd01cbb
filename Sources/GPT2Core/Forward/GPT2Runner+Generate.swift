// The one generation loop of GPT2Core: sequences advanced by their SequenceStepper, every step ONE
// batched forward pass over the unfinished ones, each against its own cache. `greedy`,
// `sampleSequences` and gpt2-bench's decode timings use it; the daemon's engine applies the same
// SequenceStepper inside its own batches (Engine/Work/GenerationWork.swift).

/// One sequence being generated: its stepper, its tokens so far and the cache that holds them
/// (all but the last token once it decodes).
public struct GeneratingSequence {
    public var stepper: SequenceStepper
    /// Prompt + generated tokens.
    public var tokens: [Int32]
    /// nil once it ended (its blocks are released then).
    public var cache: KVCache?
    /// The logits that pick its next token (the last computed row).
    var logits: [Float]

    public init(stepper: SequenceStepper, tokens: [Int32], cache: KVCache, logits: [Float]) {
        self.stepper = stepper; self.tokens = tokens; self.cache = cache; self.logits = logits
    }

    public var generated: ArraySlice<Int32> { tokens[stepper.promptLength...] }
}

extension GPT2Runner {
    /// The logits of `prompt`'s last position, computed in `cache` (empty or holding a prefix the
    /// prompt continues; a cache that holds the whole prompt recomputes its last position).
    public func prefill(_ prompt: [Int32], cache: KVCache) throws -> [Float] {
        precondition(!prompt.isEmpty, "generation needs a prompt")
        if cache.count >= prompt.count { cache.truncate(to: prompt.count - 1) }
        return try forward([ForwardRequest(cache: cache, tokens: Array(prompt[cache.count...]), logits: .last)])[0].logits
    }

    /// Steps every sequence until its stepper ends it: pick each unfinished sequence's token from
    /// its logits, then one batched forward pass feeds the tokens of those that go on. A sequence's
    /// cache is let go when it ends (`keepCaches` false) or kept (true).
    public func decode(_ sequences: inout [GeneratingSequence], keepCaches: Bool = false) throws {
        while true {
            var running: [Int] = []
            for i in sequences.indices where sequences[i].stepper.stop == nil {
                let step = sequences[i].stepper.step(sequences[i].logits, history: sequences[i].tokens)
                sequences[i].tokens.append(step.token)
                if step.stop == nil { running.append(i) } else if !keepCaches { sequences[i].cache = nil }
            }
            if running.isEmpty { return }
            let results = try forward(running.map {
                ForwardRequest(cache: sequences[$0].cache!, tokens: [sequences[$0].tokens.last!], logits: .last)
            })
            for (k, i) in running.enumerated() { sequences[i].logits = results[k].logits }
        }
    }
}
