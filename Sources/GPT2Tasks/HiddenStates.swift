// HiddenStates — the split between a task's forward pass (the caller's, batchable) and its pure
// post-processing. Every task first says which token sequences to run and which final hidden rows
// (after ln_f) it needs (`HiddenRequest`); the caller runs them — e.g. batched with other requests in
// one GPT2Runner.forward — and hands the rows back to the task's `finish`.
//
// Causality trick: a GPT-2 position only sees positions ≤ itself, so when a task needs the hidden state
// of position p only, the request carries tokens[0...p] and asks for the `.last` row (no wasted rows).
import Foundation
import GPT2Core

/// One sequence to run from an empty cache, and the final hidden rows wanted back.
public struct HiddenRequest: Sendable, Equatable {
    public var tokens: [Int32]
    /// `.last` → 1 row of C floats; `.all` → tokens.count rows.
    public var rows: RowSelection

    public init(tokens: [Int32], rows: RowSelection) {
        self.tokens = tokens; self.rows = rows
    }

    public init(ids: [Int], rows: RowSelection) {
        self.init(tokens: ids.map { Int32($0) }, rows: rows)
    }
}

/// Runs HiddenRequests with its own GPT2Runner and fresh KV caches: the convenience path of every
/// task's `run(...)` (tests, simple use). Not thread-safe (one GPT2Runner).
public final class TaskRunner {
    public let config: GPT2Config
    public let weights: GPT2Weights
    public let runner: GPT2Runner
    private let pool: KVBlockPool
    /// Sequences per GPT2Runner.forward call.
    public var maxBatch: Int

    public init(config: GPT2Config, weights: GPT2Weights, maxBatch: Int = 16) {
        self.config = config; self.weights = weights; self.maxBatch = max(1, maxBatch)
        runner = GPT2Runner(config: config, weights: weights)
        pool = KVBlockPool(config: config)
    }

    public convenience init(model: GPT2Model, maxBatch: Int = 16) {
        self.init(config: model.config, weights: model.weights, maxBatch: maxBatch)
    }

    /// Final hidden states per request: (rows, C) row-major, rows per `request.rows`.
    public func hiddenStates(_ requests: [HiddenRequest]) throws -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(requests.count)
        var i = 0
        while i < requests.count {
            let part = requests[i..<min(i + maxBatch, requests.count)]
            let batch = part.map { ForwardRequest(cache: KVCache(pool: pool), tokens: $0.tokens, logits: .none, hidden: $0.rows) }
            out += try runner.forward(batch).map(\.hidden)
            i += part.count
        }
        return out
    }
}

/// Text as code points (Python str indexing: offsets, slices).
struct CodePoints {
    let scalars: [Unicode.Scalar]
    init(_ text: String) { scalars = Array(text.unicodeScalars) }
    var count: Int { scalars.count }
    /// text[a:b] with Python's clamping (empty when a ≥ b).
    func slice(_ a: Int, _ b: Int) -> String {
        let lo = max(0, min(a, count)), hi = max(0, min(b, count))
        guard lo < hi else { return "" }
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars[lo..<hi])
        return String(v)
    }
}

enum Activations {
    /// numpy-style softmax in Float: exp(x − max) / Σ.
    static func softmax(_ x: [Float]) -> [Float] {
        guard let m = x.max() else { return [] }
        let e = x.map { expf($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// First index of the maximum (numpy argmax).
    static func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in 1..<max(1, x.count) where x[i] > x[best] { best = i }
        return best
    }
}
