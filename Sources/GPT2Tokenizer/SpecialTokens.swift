// SpecialTokens — added tokens matched literally in the input before pre-tokenization.
//
// As in `tokenizers`' AddedVocabulary: the text is scanned for the added tokens' contents, leftmost match
// first and the longest one at a position; matched spans become their ids directly and the text between them
// is pre-tokenized separately (so a whitespace run before "<|endoftext|>" ends its segment). GPT-2 has one,
// "<|endoftext|>" (50256). Matching is on UTF-8 bytes; a match always starts at a character boundary.

struct AddedToken {
    var content: String
    var id: Int
    /// Special tokens are only matched when `parseSpecial` is true; non-special added tokens always.
    var special: Bool
}

struct SpecialTokens {
    private struct Entry { var bytes: [UInt8]; var id: Int; var special: Bool }
    private let entries: [Entry]
    /// firstByte[b] is true when some entry starts with byte b (fast rejection).
    private let firstByte: [Bool]

    init(_ tokens: [AddedToken]) {
        entries = tokens.filter { !$0.content.isEmpty }.map { Entry(bytes: Array($0.content.utf8), id: $0.id, special: $0.special) }
        var first = [Bool](repeating: false, count: 256)
        for e in entries { first[Int(e.bytes[0])] = true }
        firstByte = first
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Calls `text` for each stretch of ordinary text and `token` for each matched added token, in order.
    /// Ranges are byte ranges of `utf8`.
    func forEachSegment(_ utf8: UnsafeBufferPointer<UInt8>, parseSpecial: Bool,
                        text: (Range<Int>) -> Void, token: (Range<Int>, Int) -> Void) {
        var segmentStart = 0
        var i = 0
        let n = utf8.count
        if !entries.isEmpty {
            while i < n {
                guard firstByte[Int(utf8[i])] else { i += 1; continue }
                var bestLength = 0
                var bestID = -1
                for e in entries where (parseSpecial || !e.special) && e.bytes.count > bestLength && i + e.bytes.count <= n {
                    var k = 0
                    while k < e.bytes.count && utf8[i + k] == e.bytes[k] { k += 1 }
                    if k == e.bytes.count { bestLength = k; bestID = e.id }
                }
                if bestLength == 0 { i += 1; continue }
                if segmentStart < i { text(segmentStart..<i) }
                token(i..<(i + bestLength), bestID)
                i += bestLength
                segmentStart = i
            }
        }
        if segmentStart < n { text(segmentStart..<n) }
    }
}
