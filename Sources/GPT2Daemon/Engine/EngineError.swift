// EngineError — why the engine (or the session store) could not do what was asked. The codes are
// the engine's own; `Mapping/ErrorMapping.swift` turns them into the wire's codes (same meanings,
// same messages), so a second transport maps them its own way.

public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable, CaseIterable {
        /// A parameter is outside its range or names something that does not exist (a token id
        /// beyond the vocabulary, a session of another model); `field` names the parameter.
        case invalidField
        /// No loaded model has that name.
        case unknownModel
        /// No open session has that id.
        case unknownSession
        /// The session belongs to another principal.
        case sessionForbidden
        /// The session is leased by another request.
        case sessionBusy
        /// The sequence would not fit the model's n_positions.
        case contextOverflow
        /// The model cannot do this task.
        case unsupportedTask
        /// Too much work in flight, or more KV memory than the budget holds.
        case overloaded
        /// Cancelled by the client (or its connection went away).
        case cancelled
        /// The model's weight file is damaged (truncated or overwritten in place), or the model is being
        /// loaded or unloaded (`models.load` / `models.unload`); other models serve.
        case modelUnavailable
        /// The request's total work exceeds the per-request limit (EngineOptions.maxRequestRows).
        case tooLarge
        /// A session change could not be written to the state database (Persistence/); it was undone.
        case storageUnavailable
        /// The request would take its principal's sessions past a quota (stored tokens); nothing changed.
        case quotaExceeded
        /// `models.load`: the name is already served, being loaded or being unloaded.
        case modelExists
        /// `models.load`: the directory holds no checkpoint the loader accepts (the loader's error in
        /// the message), or its tokenizer files are missing or bad.
        case modelLoadFailed
        /// The engine is stopping.
        case shuttingDown
        /// A bug or an unexpected failure.
        case internalError
    }

    public var code: Code
    public var message: String
    /// The request parameter at fault, by its protocol name (e.g. "top_p"), when there is one.
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code; self.message = message; self.field = field
    }

    public var description: String { "\(code): \(message)" }
}
