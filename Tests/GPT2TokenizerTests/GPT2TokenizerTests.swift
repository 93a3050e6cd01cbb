import Testing
@testable import GPT2Tokenizer

@Suite struct GPT2TokenizerTests {
    let tok = TestFixtures.gpt2

    /// REFERENCE.md §2.5 golden vectors (checked against transformers).
    static let goldens: [(String, [Int])] = [
        ("Hello world", [15496, 995]),
        (" Hello world", [18435, 995]),
        ("Hello, I'm a language model", [15496, 11, 314, 1101, 257, 3303, 2746]),
        ("The dog", [464, 3290]),
        ("I'm HE'S don't", [40, 1101, 11179, 6, 50, 836, 470]),
        ("Hello there       dear", [15496, 612, 220, 220, 220, 220, 220, 220, 13674]),
        ("line1\nline2\n\n", [1370, 16, 198, 1370, 17, 628]),
        ("  leading", [220, 3756]),
        ("trailing  ", [9535, 4386, 220, 220]),
        ("1234567 3.14", [10163, 2231, 3134, 513, 13, 1415]),
        ("naïve café", [2616, 38776, 40304]),
        ("🤗", [8582, 97, 245]),
        ("日本語", [33768, 98, 17312, 105, 45739, 252]),
        ("\t tab", [197, 7400]),
        ("a<|endoftext|>b", [64, 50256, 65]),
    ]

    @Test(arguments: goldens)
    func goldenVector(_ text: String, _ ids: [Int]) {
        #expect(tok.encode(text) == ids)
        #expect(tok.decode(ids) == text)
    }

    @Test func vocabularyFacts() {
        #expect(tok.vocabSize == 50257)
        #expect(tok.endOfTextID == 50256)
        #expect(tok.tokenString(220) == "Ġ")
        #expect(tok.tokenString(198) == "Ċ")
        #expect(tok.tokenString(0) == "!")
        #expect(tok.tokenString(50256) == "<|endoftext|>")
        #expect(tok.tokenString(50257) == nil)
        #expect(tok.tokenString(-1) == nil)
        #expect(tok.id(ofToken: "Ġname") == 1438)
        #expect(tok.id(ofToken: "<|endoftext|>") == 50256)
        #expect(tok.id(ofToken: "no such token") == nil)
    }

    @Test func specialTokenParsing() {
        #expect(tok.encode("a<|endoftext|>b", parseSpecial: false) == [64, 27, 91, 437, 1659, 5239, 91, 29, 65])
        #expect(tok.encode("a <|endoftext|> b") == [64, 220, 50256, 275])
        #expect(tok.encode("<|endoftext|><|endoftext|>") == [50256, 50256])
        #expect(tok.encode("<|endoftext|") == tok.encode("<|endoftext|", parseSpecial: false))
        #expect(!tok.encode("<|endoftext|").contains(50256))
        #expect(tok.decode([50256]) == "<|endoftext|>")
        let (ids, offsets) = tok.encodeWithOffsets("a <|endoftext|> b")
        #expect(ids == [64, 220, 50256, 275])
        #expect(offsets == [0..<1, 1..<2, 2..<15, 15..<17])
    }

    @Test func offsetsAreCodePointsIncludingLeadingSpace() {
        #expect(tok.encodeWithOffsets("Hello world").offsets == [0..<5, 5..<11])
        #expect(tok.encodeWithOffsets(" 🤗").offsets == [0..<2, 1..<2, 1..<2])
        #expect(tok.encodeWithOffsets("🤗 hi").offsets == [0..<1, 0..<1, 0..<1, 1..<4])
        #expect(tok.encodeWithOffsets("").ids.isEmpty)
        #expect(tok.encode("").isEmpty)
    }

    /// Every corpus line: ids, offsets and decode identical to transformers.
    @Test func corpusMatchesTransformers() {
        let corpus = TestFixtures.corpus
        #expect(corpus.count >= 5000)
        var failures: [String] = []
        var failureCount = 0
        var withSpecialLiteral = 0
        for line in corpus {
            let (ids, offsets) = tok.encodeWithOffsets(line.text)
            let plain = tok.encode(line.text)
            let decoded = tok.decode(line.ids)
            var what: [String] = []
            if ids != line.ids { what.append("ids \(ids) ≠ \(line.ids)") }
            if plain != line.ids { what.append("encode() \(plain) ≠ \(line.ids)") }
            if offsets != line.offsets { what.append("offsets \(offsets.map { [$0.lowerBound, $0.upperBound] }) ≠ \(line.offsets.map { [$0.lowerBound, $0.upperBound] })") }
            if decoded != line.decoded || !decoded.unicodeScalars.elementsEqual(line.decoded.unicodeScalars) {
                what.append("decode \(TestFixtures.show(decoded)) ≠ \(TestFixtures.show(line.decoded))")
            }
            if let expected = line.idsNoSpecial {
                withSpecialLiteral += 1
                let plain = tok.encodeWithOffsets(line.text, parseSpecial: false)
                if plain.ids != expected { what.append("parseSpecial false: ids \(plain.ids) ≠ \(expected)") }
                if plain.offsets != line.offsetsNoSpecial { what.append("parseSpecial false: offsets differ") }
            }
            if !what.isEmpty {
                failureCount += 1
                if failures.count < 5 { failures.append("text \"\(TestFixtures.show(line.text))\": " + what.joined(separator: "; ")) }
            }
        }
        #expect(withSpecialLiteral >= 50)
        #expect(failureCount == 0, "\(failureCount) corpus lines differ; first: \(failures.joined(separator: "\n"))")
    }

    /// encode → decode gives back the text, scalar for scalar.
    @Test func corpusRoundTrips() {
        var failures: [String] = []
        for line in TestFixtures.corpus {
            let back = tok.decode(tok.encode(line.text))
            if !back.unicodeScalars.elementsEqual(line.text.unicodeScalars), failures.count < 5 {
                failures.append(TestFixtures.show(line.text))
            }
            let noSpecial = tok.decode(tok.encode(line.text, parseSpecial: false))
            if !noSpecial.unicodeScalars.elementsEqual(line.text.unicodeScalars), failures.count < 5 {
                failures.append("parseSpecial false: " + TestFixtures.show(line.text))
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    /// Invalid UTF-8 decodes exactly like Python's bytes.decode(errors="replace").
    @Test func invalidUTF8DecodesLikePython() {
        let cases = TestFixtures.decodeCases
        #expect(cases.count >= 200)
        var failures: [String] = []
        for c in cases {
            let got = tok.decode(c.ids)
            if !got.unicodeScalars.elementsEqual(c.decoded.unicodeScalars), failures.count < 5 {
                failures.append("\(c.ids): \(TestFixtures.show(got)) ≠ \(TestFixtures.show(c.decoded))")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(tok.decode([8582]) == "\u{FFFD}")
        #expect(tok.decode([8582, 97]) == "\u{FFFD}")
        #expect(tok.decodeBytes([8582, 97, 245]) == Array("🤗".utf8))
    }

    @Test func unknownIDsDecodeToNothing() {
        #expect(tok.decode([15496, 99999, -3, 995]) == "Hello world")
    }
}
