// TaskHeads — the task-head tensors of a checkpoint (GPT2Weights.heads, keys without "transformer.")
// and which tasks a loaded model can serve.
//
//   GPT2ForSequenceClassification  score.weight                    (num_labels, C), no bias
//   GPT2ForTokenClassification     classifier.weight / .bias       (num_labels, C) / (num_labels)
//   GPT2ForQuestionAnswering       qa_outputs.weight / .bias       (2, C) / (2): start | end
//   GPT2DoubleHeadsModel           multiple_choice_head.summary.weight / .bias   (1, C) / (1)
// All are nn.Linear, stored [out, in] (unlike the body's Conv1D [in, out]).
import GPT2Core

/// The tasks of the daemon's task API.
public enum TaskKind: String, CaseIterable, Sendable {
    case classify, tag, qa, choose, embed
}

/// A linear head y = W·x (+ b) with W (out, in) row-major, as nn.Linear.
public struct LinearHead: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public var outputs: Int { weight.shape[0] }
    public var inputs: Int { weight.shape[1] }

    /// y[o] = Σ_i W[o, i]·x[i] + b[o]   (x: `inputs` floats)
    public func apply(_ x: UnsafeBufferPointer<Float>) -> [Float] {
        let n = inputs
        var y = [Float](repeating: 0, count: outputs)
        for o in 0..<outputs {
            let w = weight.data + o * n
            var acc: Float = 0
            for i in 0..<n { acc += w[i] * x[i] }
            y[o] = acc + (bias.map { $0.data[o] } ?? 0)
        }
        return y
    }

    public func apply(_ x: ArraySlice<Float>) -> [Float] {
        x.withUnsafeBufferPointer { apply($0) }
    }
}

public enum TaskHeads {
    public static let sequenceClassification = "score.weight"
    public static let tokenClassification = "classifier.weight"
    public static let questionAnswering = "qa_outputs.weight"
    public static let multipleChoice = "multiple_choice_head.summary.weight"

    /// The head tensor key each task needs (nil: every model can do it).
    public static func requiredTensor(for task: TaskKind) -> String? {
        switch task {
        case .classify: return sequenceClassification
        case .tag: return tokenClassification
        case .qa: return questionAnswering
        case .choose: return multipleChoice
        case .embed: return nil
        }
    }

    /// Tasks this checkpoint supports, in TaskKind order ("embed" always).
    public static func supportedTasks(config: GPT2Config, weights: GPT2Weights) -> [String] {
        TaskKind.allCases.filter { kind in
            guard let key = requiredTensor(for: kind) else { return true }
            return weights.heads[key] != nil
        }.map(\.rawValue)
    }

    /// The linear head `prefix`.weight (+ `prefix`.bias when `withBias`), checked against n_embd and,
    /// when given, its number of outputs.
    public static func linear(_ weights: GPT2Weights, config: GPT2Config, prefix: String, task: TaskKind,
                              withBias: Bool, outputs: Int? = nil) throws -> LinearHead {
        let wKey = prefix + ".weight", bKey = prefix + ".bias"
        guard let w = weights.heads[wKey] else { throw TaskError.unsupportedTask(task: task.rawValue, missing: wKey) }
        guard w.shape.count == 2, w.shape[1] == config.nEmbd, outputs.map({ $0 == w.shape[0] }) ?? (w.shape[0] > 0) else {
            throw TaskError.badHeadShape(tensor: wKey, shape: w.shape,
                                         expected: "[\(outputs.map(String.init) ?? "out"), \(config.nEmbd)]")
        }
        var bias: Tensor? = nil
        if withBias {
            guard let b = weights.heads[bKey] else { throw TaskError.unsupportedTask(task: task.rawValue, missing: bKey) }
            guard b.shape == [w.shape[0]] else {
                throw TaskError.badHeadShape(tensor: bKey, shape: b.shape, expected: "[\(w.shape[0])]")
            }
            bias = b
        }
        return LinearHead(weight: w, bias: bias)
    }

    /// Label of class `i`: config.id2label, else transformers' default "LABEL_i".
    public static func label(_ config: GPT2Config, _ i: Int) -> String {
        config.id2label[i] ?? "LABEL_\(i)"
    }
}
