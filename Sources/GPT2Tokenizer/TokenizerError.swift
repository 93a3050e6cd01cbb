// TokenizerError — why a tokenizer could not be loaded or built. Every case names the file involved
// ("<memory>" for `GPT2Tokenizer.init(vocab:merges:)`).

public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// None of vocab.json + merges.txt, encoder.json + vocab.bpe, tokenizer.json is in `directory`.
    case filesNotFound(directory: String, tried: [String])
    /// The file exists but cannot be read (or is not UTF-8).
    case unreadable(file: String, reason: String)
    /// The file is not JSON of the expected shape.
    case malformedJSON(file: String, reason: String)
    /// A vocabulary entry is unusable (id not a non-negative integer, …).
    case invalidVocabEntry(file: String, token: String, reason: String)
    /// A merges line (1-based, counting the `#version` line) is not two tokens separated by one space.
    case malformedMerge(file: String, line: Int, text: String)
    /// A merge names a token, or produces a token, that the vocabulary does not contain.
    case mergeTokenNotInVocabulary(file: String, line: Int, token: String)
    /// The vocabulary lacks the token for a single byte, so some text could not be encoded.
    case missingByteToken(file: String, byte: UInt8, token: String)

    public var description: String {
        switch self {
        case let .filesNotFound(directory, tried):
            return "no tokenizer files in \(directory) (looked for \(tried.joined(separator: ", ")))"
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .malformedJSON(file, reason):
            return "\(file): malformed JSON: \(reason)"
        case let .invalidVocabEntry(file, token, reason):
            return "\(file): invalid vocabulary entry \(String(reflecting: token)): \(reason)"
        case let .malformedMerge(file, line, text):
            return "\(file):\(line): malformed merge \(String(reflecting: text)) (expected two tokens separated by one space)"
        case let .mergeTokenNotInVocabulary(file, line, token):
            return "\(file):\(line): merge token \(String(reflecting: token)) is not in the vocabulary"
        case let .missingByteToken(file, byte, token):
            return "\(file): vocabulary has no token for byte 0x\(String(byte, radix: 16)) (\(String(reflecting: token)))"
        }
    }
}
