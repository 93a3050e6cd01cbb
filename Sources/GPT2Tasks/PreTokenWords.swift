// PreTokenWords — the "words" of GPT-2's fast tokenizer (Encoding.word_ids / word_to_chars): the pieces of
// the ByteLevel pre-tokenizer regex
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// over the text between literal "<|endoftext|>" tokens (each of which is a word of its own).
// Ranges are code points. Used by the QA pipeline's align_to_words.

enum PreTokenWords {
    enum Kind { case letter, number, space, other }

    static func kind(_ s: Unicode.Scalar) -> Kind {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    static let special = Array("<|endoftext|>".unicodeScalars)

    /// Word ranges of `text` (code points), in order.
    static func split(_ text: [Unicode.Scalar]) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var segStart = 0
        var i = 0
        while i < text.count {
            if text[i] == "<", i + special.count <= text.count, Array(text[i..<(i + special.count)]) == special {
                splitSegment(text, segStart..<i, into: &words)
                words.append(i..<(i + special.count))
                i += special.count
                segStart = i
            } else {
                i += 1
            }
        }
        splitSegment(text, segStart..<text.count, into: &words)
        return words
    }

    static func splitSegment(_ t: [Unicode.Scalar], _ range: Range<Int>, into words: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        func run(_ from: Int, _ k: Kind) -> Int {
            var j = from
            while j < end && kind(t[j]) == k { j += 1 }
            return j
        }
        while i < end {
            let c = t[i]
            // 's 't 're 've 'm 'll 'd
            if c == "'" && i + 1 < end {
                let a = t[i + 1], b: Unicode.Scalar? = i + 2 < end ? t[i + 2] : nil
                if a == "s" || a == "t" || a == "m" || a == "d" { words.append(i..<(i + 2)); i += 2; continue }
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") {
                    words.append(i..<(i + 3)); i += 3; continue
                }
            }
            // optional single space, then a run of letters | numbers | others
            let k0 = kind(c)
            var start = i
            var k = k0
            if c == " " && i + 1 < end && kind(t[i + 1]) != .space { start = i + 1; k = kind(t[i + 1]) }
            if k != .space {
                let j = run(start, k)
                words.append(i..<j); i = j; continue
            }
            // whitespace: \s+(?!\S) — all of it at the end, else all but the last; a single one alone
            let j = run(i, .space)
            if j == end || j - i == 1 { words.append(i..<j); i = j } else { words.append(i..<(j - 1)); i = j - 1 }
        }
    }

    /// For each token (by its start offset) the index of the word containing it.
    static func wordIDs(offsets: [Range<Int>], words: [Range<Int>]) -> [Int] {
        var w = 0
        return offsets.map { o in
            while w + 1 < words.count && words[w].upperBound <= o.lowerBound { w += 1 }
            while w > 0 && words[w].lowerBound > o.lowerBound { w -= 1 }
            return w
        }
    }
}
