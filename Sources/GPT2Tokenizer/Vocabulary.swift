// Vocabulary — token strings ↔ ids, the merge table, and the file formats they are read from:
//   vocab.json / encoder.json  {"token": id, …}            (token strings use ByteEncoder's scalars)
//   merges.txt / vocab.bpe     "#version: 0.2" then one "left right" pair per line, rank = line order
//   tokenizer.json             model.vocab + model.merges ("a b" strings or ["a", "b"] pairs) + added_tokens

import Foundation
import GPT2Bounds
import GPT2JSON

/// Everything `GPT2Tokenizer` needs, indexed by id.
struct Vocabulary {
    /// Raw token string → id, for `id(ofToken:)`.
    var tokenToID: [String: Int]
    /// id → raw token string (nil for unused ids).
    var tokenForID: [String?]
    /// id → the bytes the token stands for (decode).
    var bytesForID: [[UInt8]?]
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    var merges: [UInt64: UInt64]
    /// Token id of each single byte.
    var byteTokenID: [Int32]
    /// Added tokens (always includes "<|endoftext|>").
    var added: [AddedToken]

    static let endOfText = "<|endoftext|>"

    /// Builds and checks the tables. `merges[i]` has rank i; `mergeLines[i]` is its 1-based line (for errors).
    init(vocab: [String: Int], merges pairs: [(String, String)], mergeLines: [Int]? = nil,
         added addedIn: [AddedToken] = [], vocabFile: String, mergesFile: String) throws {
        var maxID = -1
        for (token, id) in vocab {
            guard id >= 0, id < Int(Int32.max) else {
                throw TokenizerError.invalidVocabEntry(file: vocabFile, token: token, reason: "id \(id) out of range")
            }
            maxID = max(maxID, id)
        }
        var added = addedIn
        if !added.contains(where: { $0.content == Vocabulary.endOfText }) {
            // As transformers does: "<|endoftext|>" is a special token; appended when the vocab lacks it.
            let id = vocab[Vocabulary.endOfText] ?? max(maxID + 1, added.map { $0.id + 1 }.max() ?? 0)
            added.append(AddedToken(content: Vocabulary.endOfText, id: id, special: true))
        }
        for a in added { maxID = max(maxID, a.id) }

        var tokenForID = [String?](repeating: nil, count: maxID + 1)
        var bytesForID = [[UInt8]?](repeating: nil, count: maxID + 1)
        var tokenToID = vocab
        for (token, id) in vocab {
            tokenForID[id] = token
            // A token with scalars outside the byte map decodes to its own UTF-8 (as tokenizers' ByteLevel).
            bytesForID[id] = ByteEncoder.bytes(ofTokenString: token) ?? Array(token.utf8)
        }
        for a in added {
            guard a.id >= 0, a.id < Int(Int32.max) else {
                throw TokenizerError.invalidVocabEntry(file: vocabFile, token: a.content, reason: "id \(a.id) out of range")
            }
            if tokenForID[a.id] == nil {
                tokenForID[a.id] = a.content
                bytesForID[a.id] = ByteEncoder.bytes(ofTokenString: a.content) ?? Array(a.content.utf8)
            }
            if tokenToID[a.content] == nil { tokenToID[a.content] = a.id }
        }

        var byteTokenID = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            let token = String(ByteEncoder.scalarForByte[b])
            guard let id = vocab[token] else {
                throw TokenizerError.missingByteToken(file: vocabFile, byte: UInt8(b), token: token)
            }
            byteTokenID[b] = Int32(id)
        }

        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            let line = mergeLines?[rank] ?? rank + 1
            guard let l = vocab[left] else {
                throw TokenizerError.mergeTokenNotInVocabulary(file: mergesFile, line: line, token: left)
            }
            guard let r = vocab[right] else {
                throw TokenizerError.mergeTokenNotInVocabulary(file: mergesFile, line: line, token: right)
            }
            guard let m = vocab[left + right] else {
                throw TokenizerError.mergeTokenNotInVocabulary(file: mergesFile, line: line, token: left + right)
            }
            // A repeated pair keeps its last rank, as in tokenizers and the Python tokenizer.
            table[BPE.pairKey(Int32(l), Int32(r))] = (UInt64(rank) << 32) | UInt64(m)
        }
        self.tokenToID = tokenToID
        self.tokenForID = tokenForID
        self.bytesForID = bytesForID
        self.merges = table
        self.byteTokenID = byteTokenID
        self.added = added
    }

    // MARK: - Files

    /// A tokenizer file's bytes: a regular file (a FIFO or device is refused without blocking) of at
    /// most `RegularFile.Caps.tokenizerFile` bytes.
    static func readData(_ path: String) throws -> Data {
        do throws(RegularFileError) {
            return Data(try RegularFile.read(path, limit: RegularFile.Caps.tokenizerFile))
        } catch {
            throw TokenizerError.unreadable(file: path, reason: error.reason)
        }
    }

    /// Parses a JSON file through GPT2JSON (json-c); a duplicate key keeps its last value, as Python's json
    /// and serde do.
    static func parseJSON(_ data: Data, file: String) throws -> JSON {
        do {
            return try data.withUnsafeBytes { raw in try JSON.parse(raw) }
        } catch {
            throw TokenizerError.malformedJSON(file: file, reason: "\(error)")
        }
    }

    /// vocab.json / encoder.json: one object of token → non-negative integer id. `1.0` and `1.5` are not
    /// ids (serde in `tokenizers` rejects them too).
    static func parseVocab(_ value: JSON, file: String) throws -> [String: Int] {
        guard case .object(let members) = value else {
            throw TokenizerError.malformedJSON(file: file, reason: "expected an object of token → id")
        }
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(members.count)
        for (token, v) in members {
            guard let i = v.intValue, let id = Int(exactly: i), id >= 0 else {
                throw TokenizerError.invalidVocabEntry(file: file, token: token, reason: "id \(UserText.clip(v.serialized())) is not a non-negative integer")
            }
            vocab[token] = id
        }
        return vocab
    }

    /// merges.txt / vocab.bpe. A first line starting with "#version" and empty lines are skipped.
    static func parseMerges(_ text: String, file: String) throws -> (pairs: [(String, String)], lines: [Int]) {
        var pairs: [(String, String)] = []
        var lines: [Int] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            if lineNumber == 1 && line.hasPrefix("#version") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.malformedMerge(file: file, line: lineNumber, text: String(line))
            }
            pairs.append((String(parts[0]), String(parts[1])))
            lines.append(lineNumber)
        }
        return (pairs, lines)
    }

    /// Reads a vocab.json + merges.txt pair (either naming).
    static func load(vocabFile: String, mergesFile: String) throws -> Vocabulary {
        let vocab = try parseVocab(parseJSON(readData(vocabFile), file: vocabFile), file: vocabFile)
        guard let text = String(data: try readData(mergesFile), encoding: .utf8) else {
            throw TokenizerError.unreadable(file: mergesFile, reason: "not UTF-8")
        }
        let (pairs, lines) = try parseMerges(text, file: mergesFile)
        return try Vocabulary(vocab: vocab, merges: pairs, mergeLines: lines, vocabFile: vocabFile, mergesFile: mergesFile)
    }

    /// Reads a Hugging Face tokenizer.json (BPE model).
    static func load(tokenizerJSON file: String) throws -> Vocabulary {
        guard case .object(let root) = try parseJSON(readData(file), file: file), case .object(let model)? = root["model"] else {
            throw TokenizerError.malformedJSON(file: file, reason: "expected an object with a \"model\" object")
        }
        if case .string(let type)? = model["type"], type != "BPE" {
            throw TokenizerError.malformedJSON(file: file, reason: "model.type is \(type), expected BPE")
        }
        guard let vocabObject = model["vocab"] else {
            throw TokenizerError.malformedJSON(file: file, reason: "missing model.vocab")
        }
        let vocab = try parseVocab(vocabObject, file: file)
        guard case .array(let mergeList)? = model["merges"] else {
            throw TokenizerError.malformedJSON(file: file, reason: "missing model.merges array")
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(mergeList.count)
        for (index, item) in mergeList.enumerated() {
            switch item {
            case .string(let s):
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw TokenizerError.malformedMerge(file: file, line: index + 1, text: s)
                }
                pairs.append((String(parts[0]), String(parts[1])))
            case .array(let a) where a.count == 2 && a[0].stringValue != nil && a[1].stringValue != nil:
                pairs.append((a[0].stringValue!, a[1].stringValue!))
            default:
                throw TokenizerError.malformedMerge(file: file, line: index + 1, text: UserText.clip(item.serialized()))
            }
        }
        var added: [AddedToken] = []
        for item in root["added_tokens"]?.arrayValue ?? [] {
            guard let content = item["content"]?.stringValue, let raw = item["id"]?.intValue, let id = Int(exactly: raw) else {
                throw TokenizerError.malformedJSON(file: file, reason: "bad added_tokens entry \(UserText.clip(item.serialized()))")
            }
            added.append(AddedToken(content: content, id: id, special: item["special"]?.boolValue ?? false))
        }
        // Merge "lines" are 1-based indices into model.merges.
        return try Vocabulary(vocab: vocab, merges: pairs, added: added, vocabFile: file, mergesFile: file)
    }
}
