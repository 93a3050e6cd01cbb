// GPT2Tokenizer+TokenList — the tokenizer built from a token list and merge rules stored in a model
// file instead of vocab.json + merges.txt (a GGUF file's tokenizer.ggml.tokens / .merges, read by
// GPT2Core's EmbeddedTokenizer): id = the token's index, rank = the merge's index. The strings are
// the same byte-level strings as vocab.json's keys and merges.txt's lines, so the tokenizer is the
// one those files give. Control tokens (GGUF token_type 3) become special added tokens.

import Foundation

extension GPT2Tokenizer {
    /// True when `directory` has tokenizer files `load(directory:)` reads.
    public static func hasFiles(directory: String) -> Bool {
        let fm = FileManager.default
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        return vocabFileNames.contains { fm.fileExists(atPath: path($0.0)) && fm.fileExists(atPath: path($0.1)) }
            || fm.fileExists(atPath: path(tokenizerJSONFileName))
    }

    /// Builds from `tokens` (id = index), `merges` ("left right", rank = index) and the ids of special
    /// tokens; `source` names the file they came from in errors (a repeated token, a malformed merge,
    /// a merge whose parts or result are not tokens).
    public convenience init(tokens: [String], merges: [String], specialIDs: [Int], source: String) throws {
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if let first = vocab[token] {
                throw TokenizerError.invalidVocabEntry(file: source, token: token, reason: "appears twice (ids \(first) and \(id))")
            }
            vocab[token] = id
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.malformedMerge(file: source, line: rank + 1, text: merge)
            }
            pairs.append((String(parts[0]), String(parts[1])))
        }
        let added = specialIDs.filter { $0 >= 0 && $0 < tokens.count }.map { AddedToken(content: tokens[$0], id: $0, special: true) }
        self.init(vocabulary: try Vocabulary(vocab: vocab, merges: pairs, added: added, vocabFile: source, mergesFile: source))
    }
}
