// TaskError — why a task request cannot be served. The daemon maps `unsupportedTask` to the wire error
// `unsupported_task`, `emptyInput`/`inputTooLong`/`invalidArgument` to `invalid_request`.

public enum TaskError: Error, Equatable, CustomStringConvertible {
    /// The checkpoint has no head for `task` (e.g. classify on a GPT2LMHeadModel): `missing` is the
    /// head tensor that was looked for, e.g. "score.weight".
    case unsupportedTask(task: String, missing: String)
    /// A head tensor exists but its shape does not fit the config.
    case badHeadShape(tensor: String, shape: [Int], expected: String)
    /// A text (or question/context/choice) that tokenizes to nothing.
    case emptyInput(what: String)
    /// More tokens than the model has positions (transformers' pipelines would crash the model).
    case inputTooLong(what: String, tokens: Int, limit: Int)
    /// A parameter outside what the transformers pipeline accepts.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .unsupportedTask(task, missing):
            return "this model does not support '\(task)': the checkpoint has no '\(missing)' head tensor"
        case let .badHeadShape(tensor, shape, expected):
            return "head tensor '\(tensor)' has shape \(shape), expected \(expected)"
        case let .emptyInput(what):
            return "\(what) is empty (no tokens)"
        case let .inputTooLong(what, tokens, limit):
            return "\(what) has \(tokens) tokens, more than the model's \(limit) positions"
        case let .invalidArgument(message):
            return message
        }
    }
}
