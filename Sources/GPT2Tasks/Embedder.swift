// Embedder — sentence embeddings from the final hidden states (after ln_f) of any GPT-2 checkpoint.
//
//   last: h[T−1]                          (C)   (the only row a causal model has seen the whole text at)
//   mean: (1/T)·Σ_t h[t]                   (C)
//   normalize: x / max(‖x‖₂, 1e-12)        torch.nn.functional.normalize(p=2, eps=1e-12)
import Foundation
import GPT2Core
import GPT2Tokenizer

public enum EmbeddingPooling: String, Sendable, CaseIterable {
    case last, mean
}

public struct Embedder: Sendable {
    public let config: GPT2Config

    public init(config: GPT2Config) { self.config = config }

    /// (a) What to run for one tokenized text.
    public func request(ids: [Int], pooling: EmbeddingPooling) throws -> HiddenRequest {
        guard !ids.isEmpty else { throw TaskError.emptyInput(what: "text") }
        guard ids.count <= config.nPositions else {
            throw TaskError.inputTooLong(what: "text", tokens: ids.count, limit: config.nPositions)
        }
        return HiddenRequest(ids: ids, rows: pooling == .last ? .last : .all)
    }

    /// (b) Pool the rows returned for `request(ids:pooling:)`.
    public func finish(hidden: [Float], pooling: EmbeddingPooling, normalize: Bool) -> [Float] {
        let C = config.nEmbd
        let rows = hidden.count / C
        var v: [Float]
        switch pooling {
        case .last:
            v = Array(hidden[((rows - 1) * C)..<(rows * C)])
        case .mean:
            v = [Float](repeating: 0, count: C)
            for r in 0..<rows { for c in 0..<C { v[c] += hidden[r * C + c] } }
            let inv = 1 / Float(rows)
            v = v.map { $0 * inv }
        }
        if normalize {
            let norm = max(sqrtf(v.reduce(0) { $0 + $1 * $1 }), 1e-12)
            v = v.map { $0 / norm }
        }
        return v
    }

    /// Convenience: tokenize, run, pool every text.
    public func run(_ texts: [String], tokenizer: GPT2Tokenizer, runner: TaskRunner,
                    pooling: EmbeddingPooling = .mean, normalize: Bool = true) throws -> [[Float]] {
        let requests = try texts.map { try request(ids: tokenizer.encode($0), pooling: pooling) }
        return try runner.hiddenStates(requests).map { finish(hidden: $0, pooling: pooling, normalize: normalize) }
    }
}
