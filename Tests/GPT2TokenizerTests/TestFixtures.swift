// Test fixtures: the real GPT-2 vocabulary and the golden files written by scripts/make_tokenizer_corpus.py.
import Foundation
@testable import GPT2Tokenizer

enum TestFixtures {
    /// Repository root: three levels up from this file (Tests/GPT2TokenizerTests/TestFixtures.swift).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let gpt2Directory = root + "/Tests/Fixtures/vocab/gpt2"
    static let tokenizerDirectory = root + "/Tests/Fixtures/tokenizer"

    /// One GPT-2 tokenizer shared by the tests (it is thread-safe).
    static let gpt2: GPT2Tokenizer = {
        do { return try GPT2Tokenizer.load(directory: gpt2Directory) } catch { fatalError("cannot load GPT-2 vocab: \(error)") }
    }()

    struct CorpusLine {
        var text: String
        var ids: [Int]
        var offsets: [Range<Int>]
        var decoded: String
        /// For texts containing "<|endoftext|>": transformers with split_special_tokens=True.
        var idsNoSpecial: [Int]?
        var offsetsNoSpecial: [Range<Int>]?
    }

    struct DecodeCase {
        var ids: [Int]
        var decoded: String
    }

    /// JSON objects of a .jsonl file, split on raw 0x0A bytes (JSON strings escape their newlines).
    static func jsonLines(_ name: String) -> [[String: Any]] {
        let data = try! Data(contentsOf: URL(fileURLWithPath: tokenizerDirectory + "/" + name))
        return data.split(separator: 0x0A).map { line in
            try! JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
        }
    }

    static let corpus: [CorpusLine] = jsonLines("corpus.jsonl").map { o in
        CorpusLine(text: o["text"] as! String,
                   ids: (o["ids"] as! [NSNumber]).map(\.intValue),
                   offsets: (o["offsets"] as! [[NSNumber]]).map { $0[0].intValue..<$0[1].intValue },
                   decoded: o["decoded"] as! String,
                   idsNoSpecial: (o["ids_no_special"] as? [NSNumber])?.map(\.intValue),
                   offsetsNoSpecial: (o["offsets_no_special"] as? [[NSNumber]])?.map { $0[0].intValue..<$0[1].intValue })
    }

    static let decodeCases: [DecodeCase] = jsonLines("decode.jsonl").map { o in
        DecodeCase(ids: (o["ids"] as! [NSNumber]).map(\.intValue), decoded: o["decoded"] as! String)
    }

    /// Scalars shown unambiguously in failure messages.
    static func show(_ s: String) -> String {
        s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "gpt2tok-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
