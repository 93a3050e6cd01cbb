// TokenizerError — why a tokenizer could not be loaded or built. Every case names the file involved
// ("<memory>" for `GPT2Tokenizer.init(vocab:merges:)`). Token strings, merge lines and reasons come
// from the files: each is quoted at most UserText.defaultLimit bytes.

import GPT2Bounds

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
            return "\(file): cannot read: \(UserText.clip(reason, limit: UserText.reasonLimit))"
        case let .malformedJSON(file, reason):
            return "\(file): malformed JSON: \(UserText.clip(reason, limit: UserText.reasonLimit))"
        case let .invalidVocabEntry(file, token, reason):
            return "\(file): invalid vocabulary entry \(UserText.quoted(token)): \(UserText.clip(reason, limit: UserText.reasonLimit))"
        case let .malformedMerge(file, line, text):
            return "\(file):\(line): malformed merge \(UserText.quoted(text)) (expected two tokens separated by one space)"
        case let .mergeTokenNotInVocabulary(file, line, token):
            return "\(file):\(line): merge token \(UserText.quoted(token)) is not in the vocabulary"
        case let .missingByteToken(file, byte, token):
            return "\(file): vocabulary has no token for byte 0x\(String(byte, radix: 16)) (\(UserText.quoted(token)))"
        }
    }
}
