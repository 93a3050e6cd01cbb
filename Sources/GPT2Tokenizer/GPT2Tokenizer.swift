// GPT2Tokenizer — GPT-2's byte-level BPE tokenizer, output-identical to transformers' GPT2Tokenizer(Fast).
//
// encode: split out added tokens ("<|endoftext|>") → pre-tokenize each stretch of text (PreTokenizer) →
// BPE each pre-token's UTF-8 bytes (BPE) → ids. decode: concatenate the tokens' bytes, decode UTF-8 with
// U+FFFD replacement. Immutable after init apart from the BPE cache, which has its own lock, so one
// instance can be shared by any number of threads.

import Foundation

public final class GPT2Tokenizer: @unchecked Sendable {
    let vocabulary: Vocabulary
    let bpe: BPE
    let specialTokens: SpecialTokens
    /// Byte length of each id's token (0 for unused ids); used to turn token boundaries into offsets.
    private let byteLength: [Int]

    /// File names tried by `load(directory:)`, in order of preference.
    public static let vocabFileNames = [("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")]
    public static let tokenizerJSONFileName = "tokenizer.json"

    /// Loads from a model/tokenizer directory: vocab.json + merges.txt; else encoder.json + vocab.bpe (OpenAI
    /// names); else tokenizer.json (model.vocab + model.merges). Errors name the offending file.
    public static func load(directory: String) throws -> GPT2Tokenizer {
        let fm = FileManager.default
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        for (vocab, merges) in vocabFileNames where fm.fileExists(atPath: path(vocab)) && fm.fileExists(atPath: path(merges)) {
            return GPT2Tokenizer(vocabulary: try Vocabulary.load(vocabFile: path(vocab), mergesFile: path(merges)))
        }
        if fm.fileExists(atPath: path(tokenizerJSONFileName)) {
            return GPT2Tokenizer(vocabulary: try Vocabulary.load(tokenizerJSON: path(tokenizerJSONFileName)))
        }
        let tried = vocabFileNames.map { "\($0.0) + \($0.1)" } + [tokenizerJSONFileName]
        throw TokenizerError.filesNotFound(directory: directory, tried: tried)
    }

    /// Builds from an in-memory vocabulary (token string → id) and merges (rank = index).
    public convenience init(vocab: [String: Int], merges: [(String, String)]) throws {
        self.init(vocabulary: try Vocabulary(vocab: vocab, merges: merges, vocabFile: "<memory>", mergesFile: "<memory>"))
    }

    /// `cacheCapacity`: words kept by the BPE cache before it is emptied (tests use tiny values).
    init(vocabulary: Vocabulary, cacheCapacity: Int = 50_000) {
        self.vocabulary = vocabulary
        self.bpe = BPE(merges: vocabulary.merges, byteTokenID: vocabulary.byteTokenID, cacheCapacity: cacheCapacity)
        self.specialTokens = SpecialTokens(vocabulary.added)
        self.byteLength = vocabulary.bytesForID.map { $0?.count ?? 0 }
    }

    /// Number of ids, added tokens included (50257 for GPT-2), like `len(tokenizer)` in transformers.
    public var vocabSize: Int { vocabulary.tokenForID.count }

    /// Id of "<|endoftext|>" (50256 for GPT-2): bos = eos = unk.
    public var endOfTextID: Int { vocabulary.tokenToID[Vocabulary.endOfText]! }

    /// Raw byte-level token string of an id, e.g. "Ġname"; nil for an unknown id.
    public func tokenString(_ id: Int) -> String? {
        guard id >= 0, id < vocabulary.tokenForID.count else { return nil }
        return vocabulary.tokenForID[id]
    }

    /// Id of a raw token string (e.g. "Ġname", "<|endoftext|>").
    public func id(ofToken token: String) -> Int? { vocabulary.tokenToID[token] }

    // MARK: - Encoding

    /// Token ids of `text`. With `parseSpecial` (the default, as in transformers) a literal "<|endoftext|>"
    /// becomes 50256; without it, it is ordinary text (7 tokens).
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
        var ids: [Int] = []
        var offsets: [Range<Int>] = []
        encode(text, parseSpecial: parseSpecial, ids: &ids, offsets: &offsets, wantOffsets: false)
        return ids
    }

    /// Ids and, per id, its span in `text` in Unicode code points (Python str indices). Spans include a
    /// token's leading space; the byte tokens of one character all span that whole character (overlapping).
    public func encodeWithOffsets(_ text: String, parseSpecial: Bool = true) -> (ids: [Int], offsets: [Range<Int>]) {
        var ids: [Int] = []
        var offsets: [Range<Int>] = []
        encode(text, parseSpecial: parseSpecial, ids: &ids, offsets: &offsets, wantOffsets: true)
        return (ids, offsets)
    }

    private func encode(_ text: String, parseSpecial: Bool, ids: inout [Int], offsets: inout [Range<Int>], wantOffsets: Bool) {
        var text = text
        text.withUTF8 { utf8 in
            ids.reserveCapacity(utf8.count / 3 + 1)
            var pieces: [Range<Int>] = []
            // Running conversion from byte positions to code-point indices (positions only increase).
            var cursorByte = 0
            var cursorScalars = 0
            /// Index of the character containing byte `b` (b ≥ every earlier query).
            func scalarIndex(ofByte b: Int) -> Int {
                while cursorByte <= b {
                    if utf8[cursorByte] & 0xC0 != 0x80 { cursorScalars += 1 }
                    cursorByte += 1
                }
                return cursorScalars - 1
            }
            specialTokens.forEachSegment(utf8, parseSpecial: parseSpecial, text: { segment in
                pieces.removeAll(keepingCapacity: true)
                PreTokenizer.split(utf8, segment, into: &pieces)
                for piece in pieces {
                    let first = ids.count
                    bpe.encode(UnsafeBufferPointer(rebasing: utf8[piece]), into: &ids)
                    guard wantOffsets else { continue }
                    var position = piece.lowerBound
                    for k in first..<ids.count {
                        let length = byteLength[ids[k]]
                        let start = scalarIndex(ofByte: position)
                        let end = scalarIndex(ofByte: position + length - 1) + 1
                        offsets.append(start..<end)
                        position += length
                    }
                }
            }, token: { span, id in
                ids.append(id)
                if wantOffsets {
                    let start = scalarIndex(ofByte: span.lowerBound)
                    offsets.append(start..<(scalarIndex(ofByte: span.upperBound - 1) + 1))
                }
            })
        }
    }

    // MARK: - Decoding

    /// The bytes the ids stand for, concatenated; unknown ids contribute nothing (as in transformers).
    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, to: &out) }
        return out
    }

    @inline(__always)
    func appendBytes(of id: Int, to out: inout [UInt8]) {
        guard id >= 0, id < vocabulary.bytesForID.count, let bytes = vocabulary.bytesForID[id] else { return }
        out.append(contentsOf: bytes)
    }

    /// Text of the ids: bytes decoded as UTF-8, each maximal invalid subsequence replaced by U+FFFD
    /// (Python `bytes.decode("utf-8", errors="replace")`, Rust `String::from_utf8_lossy`).
    public func decode(_ ids: [Int]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }
}
