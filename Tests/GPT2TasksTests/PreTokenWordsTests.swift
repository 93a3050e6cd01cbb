@testable import GPT2Tasks
import Testing

/// Word spans (Encoding.word_to_chars) that transformers 5.23.0's GPT2TokenizerFast gives.
@Suite struct PreTokenWordsTests {
    static let cases: [(String, [Range<Int>])] = [
        ("I'm HE'S don't", [0..<1, 1..<3, 3..<6, 6..<7, 7..<8, 8..<12, 12..<14]),
        ("Hello there       dear", [0..<5, 5..<11, 11..<17, 17..<22]),
        ("  leading\t tab\n\nx  ", [0..<1, 1..<9, 9..<10, 10..<14, 14..<15, 15..<16, 16..<17, 17..<19]),
        ("a<|endoftext|>b 🤗日本 3.14!!", [0..<1, 1..<14, 14..<15, 15..<17, 17..<19, 19..<21, 21..<22, 22..<24, 24..<26]),
        ("it's 're 'll 'x", [0..<2, 2..<4, 4..<6, 6..<8, 8..<10, 10..<12, 12..<14, 14..<15]),
    ]

    @Test(arguments: cases)
    func words(text: String, expected: [Range<Int>]) {
        #expect(PreTokenWords.split(Array(text.unicodeScalars)) == expected)
    }

    @Test func byteLevelDecodeRereadsMapScalars() {
        // a decoded word without a space is re-read through the byte map (transformers' quirk)
        #expect(ByteLevelText.decode(["na\u{EF}ve", " caf\u{E9}"]) == "na\u{FFFD}ve café")
        #expect(ByteLevelText.decode(["Ġname", "ĠBerlin"]) == " name Berlin")
    }
}
