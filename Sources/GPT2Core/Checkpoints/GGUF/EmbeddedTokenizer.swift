// EmbeddedTokenizer — the BPE tokenizer a GGUF file carries (tokenizer.ggml.model "gpt2"):
// tokenizer.ggml.tokens (token strings by id: GPT-2's byte-level strings, the keys of vocab.json),
// tokenizer.ggml.merges ("left right" by rank: the lines of merges.txt) and token_type (3 = control,
// e.g. <|endoftext|>). GPT2Core only reads the lists; GPT2Tokenizer builds the tokenizer from them
// (`GPT2Tokenizer(tokens:merges:specialIDs:source:)`), which the daemon does when the model's
// directory has no tokenizer files of its own.

/// Token and merge lists read from a model file.
public struct EmbeddedTokenizer: Sendable, Equatable {
    /// Token strings; the index is the id.
    public let tokens: [String]
    /// Merge rules, "left right"; the index is the rank.
    public let merges: [String]
    /// Ids of control tokens (matched as special tokens, like <|endoftext|>).
    public let controlTokenIDs: [Int]
    /// The file they were read from (for error messages).
    public let source: String

    /// token_type 3: llama.cpp's LLAMA_TOKEN_TYPE_CONTROL.
    static let controlType: Int64 = 3

    /// The file's tokenizer, nil when it has none or one of another kind than GPT-2's byte-level BPE.
    static func read(_ f: GGUFFile) throws -> EmbeddedTokenizer? {
        guard try f.string("tokenizer.ggml.model") == "gpt2",
              let tokens = try f.array("tokenizer.ggml.tokens", of: GGUFValueType.string) else { return nil }
        let merges = try f.array("tokenizer.ggml.merges", of: GGUFValueType.string)
        var control: [Int] = []
        if let v = f.metadata["tokenizer.ggml.token_type"] {
            guard case .array(let types) = v, types.elementType == 5 || types.elementType == 4, types.count == tokens.count else {
                throw f.badKey("tokenizer.ggml.token_type", "is a \(v.kindName), expected one int32 per token (\(tokens.count))")
            }
            control = f.integers(types).enumerated().filter { $0.element == controlType }.map(\.offset)
        }
        return EmbeddedTokenizer(tokens: f.strings(tokens), merges: merges.map(f.strings) ?? [], controlTokenIDs: control,
                                 source: f.path)
    }
}
