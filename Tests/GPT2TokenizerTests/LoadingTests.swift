import Foundation
import Testing
@testable import GPT2Tokenizer

@Suite struct LoadingTests {
    static let sample = ["Hello world", "I'm HE'S don't", "🤗 日本語 <|endoftext|> naïve", "  x\n\n\ty  "]

    func expectSameAsGPT2(_ tok: GPT2Tokenizer) {
        #expect(tok.vocabSize == 50257)
        #expect(tok.endOfTextID == 50256)
        for text in Self.sample {
            #expect(tok.encode(text) == TestFixtures.gpt2.encode(text), "\(text)")
            #expect(tok.encodeWithOffsets(text).offsets == TestFixtures.gpt2.encodeWithOffsets(text).offsets)
        }
        for line in TestFixtures.corpus.prefix(300) {
            #expect(tok.encode(line.text) == line.ids)
        }
    }

    func copyFixture(_ name: String, to dir: String, as newName: String) throws {
        try FileManager.default.copyItem(atPath: TestFixtures.gpt2Directory + "/" + name, toPath: dir + "/" + newName)
    }

    func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func loadsOpenAIFileNames() throws {
        let dir = TestFixtures.temporaryDirectory()
        try copyFixture("vocab.json", to: dir, as: "encoder.json")
        try copyFixture("merges.txt", to: dir, as: "vocab.bpe")
        expectSameAsGPT2(try GPT2Tokenizer.load(directory: dir))
    }

    /// tokenizer.json with merges as "a b" strings and as ["a", "b"] pairs, built from the fixture files.
    @Test(arguments: [false, true])
    func loadsTokenizerJSON(pairs: Bool) throws {
        let vocab = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestFixtures.gpt2Directory + "/vocab.json")))
        let mergesText = try String(contentsOfFile: TestFixtures.gpt2Directory + "/merges.txt", encoding: .utf8)
        let lines = mergesText.split(separator: "\n").dropFirst().map(String.init)
        let merges: [Any] = pairs ? lines.map { $0.split(separator: " ").map(String.init) } : lines
        let root: [String: Any] = [
            "version": "1.0",
            "added_tokens": [["id": 50256, "content": "<|endoftext|>", "special": true]],
            "model": ["type": "BPE", "vocab": vocab, "merges": merges],
        ]
        let dir = TestFixtures.temporaryDirectory()
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
        expectSameAsGPT2(try GPT2Tokenizer.load(directory: dir))
    }

    @Test func prefersVocabJSONOverTokenizerJSON() throws {
        let dir = TestFixtures.temporaryDirectory()
        try copyFixture("vocab.json", to: dir, as: "vocab.json")
        try copyFixture("merges.txt", to: dir, as: "merges.txt")
        try write("not json", dir + "/tokenizer.json")
        expectSameAsGPT2(try GPT2Tokenizer.load(directory: dir))
    }

    @Test func missingFiles() throws {
        let dir = TestFixtures.temporaryDirectory()
        try copyFixture("vocab.json", to: dir, as: "vocab.json")  // merges.txt absent
        #expect(throws: TokenizerError.filesNotFound(directory: dir, tried: ["vocab.json + merges.txt", "encoder.json + vocab.bpe", "tokenizer.json"])) {
            try GPT2Tokenizer.load(directory: dir)
        }
    }

    /// A directory with a 256-byte vocabulary plus `extra`, and the given merges file text.
    func tinyDirectory(vocabJSON: String? = nil, merges: String) throws -> String {
        let dir = TestFixtures.temporaryDirectory()
        var vocab: [String: Int] = [:]
        for b in 0..<256 { vocab[String(ByteEncoder.scalarForByte[b])] = b }
        vocab["he"] = 256
        let json = try vocabJSON ?? String(decoding: JSONSerialization.data(withJSONObject: vocab), as: UTF8.self)
        try write(json, dir + "/vocab.json")
        try write(merges, dir + "/merges.txt")
        return dir
    }

    @Test func tinyDirectoryLoads() throws {
        let dir = try tinyDirectory(merges: "#version: 0.2\nh e\n")
        let tok = try GPT2Tokenizer.load(directory: dir)
        #expect(tok.encode("hehe") == [256, 256])
        #expect(tok.endOfTextID == 257)
    }

    @Test func malformedVocabJSON() throws {
        let dir = try tinyDirectory(vocabJSON: "{\"a\": ", merges: "#version: 0.2\n")
        do {
            _ = try GPT2Tokenizer.load(directory: dir)
            Issue.record("expected an error")
        } catch let TokenizerError.malformedJSON(file, _) {
            #expect(file == dir + "/vocab.json")
        }
        let dir2 = try tinyDirectory(vocabJSON: "[1, 2]", merges: "")
        #expect(throws: TokenizerError.self) { try GPT2Tokenizer.load(directory: dir2) }
    }

    @Test func nonIntegerID() throws {
        let dir = try tinyDirectory(vocabJSON: "{\"a\": \"zero\"}", merges: "")
        do {
            _ = try GPT2Tokenizer.load(directory: dir)
            Issue.record("expected an error")
        } catch let TokenizerError.invalidVocabEntry(file, token, _) {
            #expect(file == dir + "/vocab.json")
            #expect(token == "a")
        }
        let dir2 = try tinyDirectory(vocabJSON: "{\"a\": -4}", merges: "")
        #expect(throws: TokenizerError.self) { try GPT2Tokenizer.load(directory: dir2) }
        let dir3 = try tinyDirectory(vocabJSON: "{\"a\": 1.5}", merges: "")
        #expect(throws: TokenizerError.self) { try GPT2Tokenizer.load(directory: dir3) }
    }

    @Test func malformedMergeLine() throws {
        let dir = try tinyDirectory(merges: "#version: 0.2\nh e\nh e x\n")
        #expect(throws: TokenizerError.malformedMerge(file: dir + "/merges.txt", line: 3, text: "h e x")) {
            try GPT2Tokenizer.load(directory: dir)
        }
    }

    @Test func mergeOutsideVocabulary() throws {
        let dir = try tinyDirectory(merges: "#version: 0.2\nh e\nl l\n")  // "ll" is not in the vocabulary
        #expect(throws: TokenizerError.mergeTokenNotInVocabulary(file: dir + "/merges.txt", line: 3, token: "ll")) {
            try GPT2Tokenizer.load(directory: dir)
        }
        let dir2 = try tinyDirectory(merges: "#version: 0.2\nhe Q€\n")
        #expect(throws: TokenizerError.mergeTokenNotInVocabulary(file: dir2 + "/merges.txt", line: 2, token: "Q€")) {
            try GPT2Tokenizer.load(directory: dir2)
        }
    }

    @Test func missingByteToken() throws {
        #expect(throws: TokenizerError.missingByteToken(file: "<memory>", byte: 0, token: "\u{0100}")) {
            try GPT2Tokenizer(vocab: ["a": 0], merges: [])
        }
    }

    @Test func malformedTokenizerJSON() throws {
        let dir = TestFixtures.temporaryDirectory()
        try write("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": [1]}}", dir + "/tokenizer.json")
        #expect(throws: TokenizerError.malformedMerge(file: dir + "/tokenizer.json", line: 1, text: "1")) {
            try GPT2Tokenizer.load(directory: dir)
        }
        try write("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", dir + "/tokenizer.json")
        #expect(throws: TokenizerError.self) { try GPT2Tokenizer.load(directory: dir) }
    }

    @Test func errorsDescribeTheFile() {
        let e = TokenizerError.malformedMerge(file: "/m/merges.txt", line: 7, text: "a b c")
        #expect(e.description.contains("/m/merges.txt:7"))
    }
}
