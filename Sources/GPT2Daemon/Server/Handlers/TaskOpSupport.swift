// TaskOpSupport — what the task-op handlers (classify, tag, qa, choose, embed) share: building a task
// head for a model (→ `unsupported_task`), mapping GPT2Tasks' errors to wire errors, and running the
// planned sequences through the engine's shared batches, with the pure post-processing off the engine
// thread.
import Dispatch
import GPT2Core
import GPT2Tasks
import GPT2Wire

enum TaskOps {
    /// A wire error for a GPT2Tasks error; `field` names the request field the input came from.
    static func wire(_ e: TaskError, model: String, field: String) -> WireError {
        switch e {
        case let .unsupportedTask(task, missing):
            return WireError(.unsupportedTask, "model '\(model)' does not support '\(task)': the checkpoint has no '\(missing)' head")
        case .badHeadShape:
            return WireError(.unsupportedTask, "model '\(model)': \(e.description)")
        case .emptyInput:
            return WireError(.invalidField, "field '\(field)': \(e.description)", field: field)
        case .inputTooLong:
            return WireError(.contextOverflow, "field '\(field)': \(e.description)")
        case let .invalidArgument(message):
            return WireError(.invalidField, "field '\(field)': \(message)", field: field)
        }
    }

    /// Runs `body`, mapping a thrown TaskError (any other error → internal_error).
    static func run<T>(model: String, field: String, _ body: () throws -> T) throws(WireError) -> T {
        do {
            return try body()
        } catch let e as TaskError {
            throw wire(e, model: model, field: field)
        } catch let e as WireError {
            throw e
        } catch {
            throw WireError(.internalError, "\(error)")
        }
    }
}

extension IncomingRequest {
    /// Runs `requests` (one task request's sequences) in the engine's shared forward passes; then
    /// `finish` turns their hidden rows into the response, on a global queue, and it is sent.
    func runHidden<R: WireResponse>(model: ServedModel, _ requests: [HiddenRequest], costField: String,
                                    finish: @escaping @Sendable ([[Float]]) throws(WireError) -> R) {
        let sink = self.sink
        let sequences = requests.map { HiddenSequence(tokens: $0.tokens, rows: $0.rows) }
        server.engine.hiddenStates(model: model.name, sequences: sequences, key: jobKey, client: client,
                                    costField: costField) { result in
            switch result {
            case .failure(let e): sink.error(WireError(e))
            case .success(let hidden):
                DispatchQueue.global(qos: .userInitiated).async {
                    do throws(WireError) { sink.result(try finish(hidden)) } catch { sink.error(error) }
                }
            }
        }
    }
}
