import Foundation
import Testing
@testable import GPT2Tokenizer

@Suite struct PreTokenizerTests {
    func split(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { u in
            var pieces: [Range<Int>] = []
            PreTokenizer.split(u, 0..<u.count, into: &pieces)
            return pieces.map { String(decoding: UnsafeBufferPointer(rebasing: u[$0]), as: UTF8.self) }
        }
    }

    @Test func pattern() {
        #expect(split("Hello world") == ["Hello", " world"])
        #expect(split("I'm HE'S don't") == ["I", "'m", " HE", "'", "S", " don", "'t"])
        #expect(split("we'll they're you've I'd") == ["we", "'ll", " they", "'re", " you", "'ve", " I", "'d"])
        #expect(split("Hello there       dear") == ["Hello", " there", "      ", " dear"])
        #expect(split("trailing  ") == ["trailing", "  "])
        #expect(split("  leading") == [" ", " leading"])
        #expect(split("\t tab") == ["\t", " tab"])
        #expect(split("line1\nline2\n\n") == ["line", "1", "\n", "line", "2", "\n\n"])
        #expect(split("1234567 3.14") == ["1234567", " 3", ".", "14"])
        #expect(split("a\n\nb") == ["a", "\n", "\n", "b"])
        #expect(split("?!'s") == ["?!'", "s"])
        #expect(split(" 's") == [" '", "s"])
        #expect(split("a\u{00A0}b") == ["a", "\u{00A0}", "b"])        // NBSP is \s
        #expect(split("a\u{200B}b") == ["a", "\u{200B}", "b"])        // ZWSP is not \s: `other`
        #expect(split("a \u{200B}b") == ["a", " \u{200B}", "b"])
        #expect(split("\u{1C}\u{1D} a") == ["\u{1C}\u{1D}", " a"])   // U+001C–U+001F are not White_Space
        #expect(split("") == [])
    }

    /// Every code point classed as tokenizers (Oniguruma, Unicode 16) classes it; the fixture is measured
    /// from the Python `tokenizers` pre-tokenizer by scripts/make_tokenizer_corpus.py.
    @Test func characterClassesMatchTokenizersForEveryCodePoint() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestFixtures.tokenizerDirectory + "/char_classes.json"))
        let ranges = try #require(try JSONSerialization.jsonObject(with: data) as? [[Any]])
        var covered = 0
        var mismatches: [String] = []
        for r in ranges {
            let first = (r[0] as! NSNumber).intValue, last = (r[1] as! NSNumber).intValue
            let expected: PreTokenizer.CharClass
            switch r[2] as! String {
            case "L": expected = .letter
            case "N": expected = .number
            case "S": expected = .space
            default: expected = .other
            }
            for v in first...last {
                covered += 1
                let got = PreTokenizer.charClass(ofScalarValue: UInt32(v))
                if got != expected && mismatches.count < 10 { mismatches.append("U+\(String(v, radix: 16)): \(got) ≠ \(expected)") }
                if v < 0x10000 && PreTokenizer.bmpClass[v] != expected.rawValue && mismatches.count < 10 {
                    mismatches.append("bmp table U+\(String(v, radix: 16))")
                }
            }
        }
        #expect(covered == 0x110000 - 0x800)  // every scalar value
        #expect(mismatches.isEmpty, "\(mismatches)")
    }
}
