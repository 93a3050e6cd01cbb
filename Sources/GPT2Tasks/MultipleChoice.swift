// MultipleChoice — GPT2DoubleHeadsModel's multiple-choice head (SequenceSummary).
//
//   per choice c (tokens x_c, run alone — no padding):
//     i_c   = mc_token_ids[c] (summary_type "cls_index"; default: the choice's last token),
//             "last" → T−1, "first" → 0, "mean" → mean over all rows
//     s_c   = activation(W · h_c[i_c] + b)      W (1, C), b (1); activation = summary_activation (null → identity)
//   mc_logits = [s_0 … s_{n−1}], best = argmax (first on ties).
// transformers pads the choices of a batch to one length T; without mc_token_ids it then takes position
// T−1 of the *padded* rows. We run each choice alone, so the default is each choice's own last token.
import Foundation
import GPT2Core
import GPT2Tokenizer

public struct MultipleChoiceResult: Sendable, Equatable {
    public var scores: [Float]
    public var best: Int
}

public struct MultipleChoice: Sendable {
    public let config: GPT2Config
    public let head: LinearHead

    public init(config: GPT2Config, weights: GPT2Weights) throws {
        self.config = config
        head = try TaskHeads.linear(weights, config: config, prefix: "multiple_choice_head.summary", task: .choose,
                                    withBias: true, outputs: 1)
        guard config.summaryUseProj else {
            throw TaskError.unsupportedTask(task: "choose", missing: "summary projection (summary_use_proj is false)")
        }
        guard ["cls_index", "last", "first", "mean"].contains(config.summaryType) else {
            throw TaskError.unsupportedTask(task: "choose", missing: "summary_type \(config.summaryType)")
        }
        guard Self.activation(config.summaryActivation) != nil else {
            throw TaskError.unsupportedTask(task: "choose", missing: "summary_activation \(config.summaryActivation ?? "")")
        }
    }

    static func activation(_ name: String?) -> ((Float) -> Float)? {
        switch name {
        case nil, "", "linear": return { $0 }
        case "tanh": return { tanhf($0) }
        case "relu": return { max(0, $0) }
        case "sigmoid": return { 1 / (1 + expf(-$0)) }
        case "silu", "swish": return { $0 / (1 + expf(-$0)) }
        case "gelu": return { 0.5 * $0 * (1 + erff($0 / sqrtf(2))) }
        case "gelu_new", "gelu_pytorch_tanh":
            return { x in 0.5 * x * (1 + tanhf(0.7978845608028654 * (x + 0.044715 * x * x * x))) }
        default: return nil
        }
    }

    /// (a) One request per choice. `mcTokenIndex[c]` (cls_index) defaults to the choice's last token.
    public func requests(choices ids: [[Int]], mcTokenIndex: [Int]? = nil) throws -> [HiddenRequest] {
        guard !ids.isEmpty else { throw TaskError.emptyInput(what: "choices") }
        if let m = mcTokenIndex, m.count != ids.count {
            throw TaskError.invalidArgument("mc_token_ids has \(m.count) entries for \(ids.count) choices")
        }
        return try ids.enumerated().map { c, x in
            guard !x.isEmpty else { throw TaskError.emptyInput(what: "choice \(c)") }
            guard x.count <= config.nPositions else {
                throw TaskError.inputTooLong(what: "choice \(c)", tokens: x.count, limit: config.nPositions)
            }
            switch config.summaryType {
            case "mean": return HiddenRequest(ids: x, rows: .all)
            case "first": return HiddenRequest(ids: [x[0]], rows: .last)
            case "last": return HiddenRequest(ids: x, rows: .last)
            default:
                let i = mcTokenIndex?[c] ?? x.count - 1
                guard i >= 0 && i < x.count else {
                    throw TaskError.invalidArgument("mc_token_ids[\(c)] = \(i) is outside choice \(c) (\(x.count) tokens)")
                }
                return HiddenRequest(ids: Array(x[...i]), rows: .last)
            }
        }
    }

    /// (b) Scores from each choice's rows (as returned for `requests`).
    public func finish(hidden: [[Float]]) -> MultipleChoiceResult {
        let C = config.nEmbd
        let act = Self.activation(config.summaryActivation)!
        let scores: [Float] = hidden.map { h in
            var x = Array(h.suffix(C))
            if config.summaryType == "mean" {
                let rows = h.count / C
                x = (0..<C).map { c in (0..<rows).reduce(Float(0)) { $0 + h[$1 * C + c] } / Float(rows) }
            }
            return act(head.apply(x[...])[0])
        }
        return MultipleChoiceResult(scores: scores, best: Activations.argmax(scores))
    }

    /// Convenience: tokenize each choice, run, score.
    public func run(_ choices: [String], tokenizer: GPT2Tokenizer, runner: TaskRunner,
                    mcTokenIndex: [Int]? = nil) throws -> MultipleChoiceResult {
        let reqs = try requests(choices: choices.map { tokenizer.encode($0) }, mcTokenIndex: mcTokenIndex)
        return finish(hidden: try runner.hiddenStates(reqs))
    }
}
