// JSONError — why a text is not accepted as JSON, and where.

/// A parse failure: a reason, the byte offset in the input where it was found, and a human message.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Equatable {
        /// The bytes are not UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
        case invalidUTF8
        /// A raw control character (U+0000–U+001F) inside a string, or a stray one outside.
        case controlCharacter
        /// A number that breaks the RFC 8259 grammar (`01`, `1.`, `-`, `.5`, `+1`).
        case invalidNumber
        /// `NaN`, `Infinity`, `-Infinity`, or a literal that overflows Double (`1e999`).
        case nonFiniteNumber
        /// An integer literal (no `.`/exponent) outside Int64.
        case integerOutOfRange
        /// Arrays/objects nested deeper than `maxDepth`.
        case tooDeep
        /// A key twice in one object, when the caller asked for duplicates to be rejected.
        case duplicateKey
        /// The input ended inside a value (or holds no value at all).
        case incomplete
        /// Anything else the grammar rejects (json-c's diagnosis is in the message), including trailing
        /// data after the value.
        case syntax
    }

    public var reason: Reason
    /// Byte offset into the input where the problem was detected.
    public var offset: Int
    public var message: String

    public init(_ reason: Reason, offset: Int, _ message: String) {
        self.reason = reason
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) at byte \(offset)" }
}
