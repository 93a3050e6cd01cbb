// SequenceClassifier — GPT2ForSequenceClassification + transformers' text-classification pipeline.
//
//   pool   = last position when config.pad_token_id is nil, else the rightmost position whose id ≠ pad
//            (argmax(arange·(ids ≠ pad)) → 0 when every id is pad); transformers ≥ 4.57 / 5.x rule.
//            (Older releases used "first pad − 1", which differs when pad == eos appears in the text.)
//   logits = hidden[pool] · scoreᵀ                     (num_labels)   score.weight (num_labels, C), no bias
//   scores = function_to_apply(logits)  default: problem_type regression → none;
//            multi_label_classification or num_labels == 1 → sigmoid; otherwise softmax
//   output = top_k == 1 → [argmax];  nil → all labels sorted by score (stable: ties keep label order);
//            k → the first k of that order.
// The pipeline runs each text alone (no padding), so every text is its own HiddenRequest.
import Foundation
import GPT2Core
import GPT2Tokenizer

public enum ClassificationFunction: String, Sendable, CaseIterable {
    case softmax, sigmoid, none
}

public struct LabelScore: Sendable, Equatable {
    public var label: String
    public var score: Double
    public init(label: String, score: Double) { self.label = label; self.score = score }
}

public struct SequenceClassifier: Sendable {
    public let config: GPT2Config
    public let head: LinearHead
    public var numLabels: Int { head.outputs }

    public init(config: GPT2Config, weights: GPT2Weights) throws {
        self.config = config
        head = try TaskHeads.linear(weights, config: config, prefix: "score", task: .classify, withBias: false)
    }

    /// Index of the pooled position for token ids `ids` (non-empty).
    public func poolIndex(_ ids: [Int]) -> Int {
        guard let pad = config.padTokenId else { return ids.count - 1 }
        return ids.lastIndex(where: { $0 != pad }) ?? 0
    }

    /// Pipeline default of `function_to_apply`.
    public var defaultFunction: ClassificationFunction {
        if config.problemType == "regression" { return .none }
        if config.problemType == "multi_label_classification" || numLabels == 1 { return .sigmoid }
        return .softmax
    }

    /// (a) What to run for one tokenized text: tokens up to the pooled position, its row.
    public func request(ids: [Int]) throws -> HiddenRequest {
        guard !ids.isEmpty else { throw TaskError.emptyInput(what: "text") }
        guard ids.count <= config.nPositions else {
            throw TaskError.inputTooLong(what: "text", tokens: ids.count, limit: config.nPositions)
        }
        return HiddenRequest(ids: Array(ids[...poolIndex(ids)]), rows: .last)
    }

    /// Head output at the pooled hidden state (C floats).
    public func logits(pooledHidden h: [Float]) -> [Float] { head.apply(h[...]) }

    /// (b) Pipeline post-processing of the logits of one text.
    public func postprocess(logits: [Float], function: ClassificationFunction? = nil, topK: Int? = 1) -> [LabelScore] {
        let f = function ?? defaultFunction
        let scores: [Float]
        switch f {
        case .softmax: scores = Activations.softmax(logits)
        case .sigmoid: scores = logits.map(Activations.sigmoid)
        case .none: scores = logits
        }
        if topK == 1 {
            let i = Activations.argmax(scores)
            return [LabelScore(label: TaskHeads.label(config, i), score: Double(scores[i]))]
        }
        // Python's sort is stable: equal scores keep label order.
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        let kept = topK.map { Array(order.prefix(max(0, $0))) } ?? order
        return kept.map { LabelScore(label: TaskHeads.label(config, $0), score: Double(scores[$0])) }
    }

    /// (b) From the pooled hidden state (the `.last` row of `request(ids:)`) to the pipeline output.
    public func finish(pooledHidden h: [Float], function: ClassificationFunction? = nil, topK: Int? = 1) -> [LabelScore] {
        postprocess(logits: logits(pooledHidden: h), function: function, topK: topK)
    }

    /// Convenience: tokenize, run, post-process every text.
    public func run(_ texts: [String], tokenizer: GPT2Tokenizer, runner: TaskRunner,
                    function: ClassificationFunction? = nil, topK: Int? = 1) throws -> [[LabelScore]] {
        let requests = try texts.map { try request(ids: tokenizer.encode($0)) }
        let hidden = try runner.hiddenStates(requests)
        return hidden.map { finish(pooledHidden: $0, function: function, topK: topK) }
    }

    /// Raw logits per text (the head math before post-processing).
    public func logits(_ texts: [String], tokenizer: GPT2Tokenizer, runner: TaskRunner) throws -> [[Float]] {
        let requests = try texts.map { try request(ids: tokenizer.encode($0)) }
        return try runner.hiddenStates(requests).map { logits(pooledHidden: $0) }
    }
}
