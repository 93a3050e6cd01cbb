// LogitsProcessor — one step of transformers' logits processing, applied in place.
// Processors compose in a list applied in order (LogitsProcessorList); a filtered token gets −∞.
//
// Most processors only need the token history (prompt + generated), as transformers passes
// `input_ids`. A few (presence/frequency penalties, min_new_tokens) must tell the prompt from the
// generated tokens; they implement `process(_:context:)`, which every processor also accepts
// (the default forwards `context.history`).

/// What a processor may look at: every token so far, and where the prompt ends.
public struct GenerationContext: Sendable, Equatable {
    /// Prompt + generated tokens (transformers' `input_ids` of one row).
    public var history: [Int32]
    /// Tokens of `history` that belong to the prompt (history[..<promptLength]).
    public var promptLength: Int

    public init(history: [Int32], promptLength: Int) {
        precondition(promptLength >= 0 && promptLength <= history.count,
                     "promptLength \(promptLength) outside 0...\(history.count)")
        self.history = history; self.promptLength = promptLength
    }

    /// The generated tokens (after the prompt).
    public var generated: ArraySlice<Int32> { history[promptLength...] }
}

public protocol LogitsProcessor: Sendable {
    /// Rewrites `logits` (V values) for the next token given every token so far (prompt + generated).
    /// Processors that need the prompt length treat the whole history as generated here.
    func process(_ logits: inout [Float], history: [Int32])
    /// Same, with the prompt boundary known. Default: `process(&logits, history: context.history)`.
    func process(_ logits: inout [Float], context: GenerationContext)
}

extension LogitsProcessor {
    public func process(_ logits: inout [Float], context: GenerationContext) {
        process(&logits, history: context.history)
    }
}

extension Array where Element == any LogitsProcessor {
    /// Applies every processor in order.
    public func process(_ logits: inout [Float], history: [Int32]) {
        for p in self { p.process(&logits, history: history) }
    }

    /// Applies every processor in order, with the prompt boundary known.
    public func process(_ logits: inout [Float], context: GenerationContext) {
        for p in self { p.process(&logits, context: context) }
    }
}

/// A sampling parameter outside its valid range (the message follows transformers' / OpenAI's wording).
public struct SamplingParameterError: Error, Equatable, CustomStringConvertible {
    public let parameter: String
    public let message: String
    public init(_ parameter: String, _ message: String) { self.parameter = parameter; self.message = message }
    public var description: String { "`\(parameter)` \(message)" }
}

/// Traps with the validation message: a processor built from invalid parameters is a programming
/// error (requests are checked first with `SamplingParameters.validate()`).
@inline(__always)
func requireValid(_ check: () throws -> Void) {
    do { try check() } catch { preconditionFailure("\(error)") }
}
