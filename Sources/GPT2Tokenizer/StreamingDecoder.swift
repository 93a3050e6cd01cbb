// StreamingDecoder — decode ids one at a time without ever emitting half a character.
//
// Bytes are held back while they form the valid beginning of a multi-byte UTF-8 sequence; everything before
// that point is emitted. The held-back part always starts at a lead byte, where a whole-text decoder would
// also start a new sequence, so the concatenation of all outputs plus `flush()` equals `decode(allIDs)`.

public struct StreamingDecoder: Sendable {
    private let tokenizer: GPT2Tokenizer
    /// Undecoded bytes: at most 3, the valid prefix of one unfinished UTF-8 sequence.
    private var pending: [UInt8] = []

    public init(tokenizer: GPT2Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Feeds one id; returns the text that is now complete (possibly "").
    public mutating func append(_ id: Int) -> String {
        tokenizer.appendBytes(of: id, to: &pending)
        let cut = StreamingDecoder.completePrefixLength(pending)
        if cut == 0 { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Emits whatever is held back (an unfinished sequence becomes U+FFFD) and resets.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Number of leading bytes of `bytes` that can be decoded now: all of them, unless they end in a lead
    /// byte plus fewer continuation bytes than it needs, all valid so far (then those are held back).
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var start = n - 1
        // Find the last non-continuation byte among the final 4.
        while start >= 0 && start >= n - 4 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0, start >= n - 4 else { return n }
        let lead = bytes[start]
        let need: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0: need = 3; secondRange = 0xA0...0xBF
        case 0xED: need = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEC, 0xEE...0xEF: need = 3
        case 0xF0: need = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: need = 4
        case 0xF4: need = 4; secondRange = 0x80...0x8F
        default: return n  // ASCII or a byte that can never start a sequence
        }
        let have = n - start
        guard have < need else { return n }
        if have >= 2 && !secondRange.contains(bytes[start + 1]) { return n }
        return start
    }
}
