import Testing
import GPT2TestSupport
@testable import GPT2Tokenizer

@Suite struct BPETests {
    /// A tiny byte-level vocabulary: the 256 byte tokens (ids 0–255) plus the merged tokens.
    static func tiny(_ merges: [(String, String)]) throws -> GPT2Tokenizer {
        var vocab: [String: Int] = [:]
        for b in 0..<256 { vocab[String(ByteEncoder.scalarForByte[b])] = b }
        for (l, r) in merges where vocab[l + r] == nil { vocab[l + r] = vocab.count }
        return try GPT2Tokenizer(vocab: vocab, merges: merges)
    }

    @Test func lowestRankFirst() throws {
        let tok = try Self.tiny([("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "w")])
        #expect(tok.encode("hello").map { tok.tokenString($0)! } == ["hello"])
        #expect(tok.encode("hell").map { tok.tokenString($0)! } == ["hell"])
        #expect(tok.encode("hel").map { tok.tokenString($0)! } == ["he", "l"])
        #expect(tok.encode(" wo").map { tok.tokenString($0)! } == ["Ġw", "o"])
        // "<|endoftext|>" is added after the vocabulary when missing, as transformers does.
        #expect(tok.endOfTextID == 256 + 5)
        #expect(tok.vocabSize == 256 + 5 + 1)
        #expect(tok.encode("a<|endoftext|>") == [97, 261])
    }

    @Test func leftmostPairWinsTies() throws {
        let tok = try Self.tiny([("a", "a")])
        #expect(tok.encode("aaa").map { tok.tokenString($0)! } == ["aa", "a"])
        let tok2 = try Self.tiny([("b", "c"), ("a", "b")])
        #expect(tok2.encode("abc").map { tok2.tokenString($0)! } == ["a", "bc"])  // rank beats position
    }

    /// The heap (long words) and the scan (short words) make identical choices.
    @Test func heapAndScanAgree() {
        let bpe = TestFixtures.gpt2.bpe
        var rng = SplitMix64(seed: 0xB9E)
        let alphabets: [[UInt8]] = [Array("ab".utf8), Array("abcdefghijklmnopqrstuvwxyz".utf8), Array("0123456789".utf8),
                                    Array(" eat".utf8), Array("🤗日本".utf8)]
        for round in 0..<300 {
            let alphabet = alphabets[round % alphabets.count]
            let word = (0..<Int.random(in: 1...120, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let scan = bpe.encodeUncached(word, useHeap: false)
            let heap = bpe.encodeUncached(word, useHeap: true)
            #expect(scan == heap, "word \(word)")
            #expect(TestFixtures.gpt2.decodeBytes(scan) == word)
        }
    }
}
