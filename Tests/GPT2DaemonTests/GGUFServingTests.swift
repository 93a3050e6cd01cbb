// The daemon serves .gguf files end to end (issue #13 points 5, 8): a model path that is a .gguf
// file, the tokenizer built from the file's tokenizer.ggml lists (no vocab.json beside it) encoding
// and decoding exactly as the same vocabulary's vocab.json + merges.txt do, `models` reporting the
// gguf format and the weight type served, and greedy generation from the file's weights.
import Foundation
import GPT2Core
import GPT2Daemon
import GPT2JSON
import GPT2TestSupport
import GPT2Tokenizer
import GPT2Wire
import Testing

@Suite(.serialized) struct GGUFServingTests {
    static let texts = [
        "Hello world, this is the GGUF tokenizer.", " the theory of everything\n\n  indented\ttabs",
        "Ünïcödé 東京 🙂 and numbers 12345", "<|endoftext|> is a literal here", "",
    ]

    @Test func theFileTokenizerEqualsItsVocabJSONTwin() throws {
        let served = try ServedModel.load(name: "q4", directory: GGUFFixtures.fixture("tiny-q4_0").path,
                                          budget: KVMemoryBudget(limitBytes: nil), blockTokens: 8)
        let twin = try GPT2Tokenizer.load(directory: GGUFFixtures.vocabTwin)
        #expect(served.tokenizer.vocabSize == twin.vocabSize)
        for text in Self.texts {
            let ids = served.tokenizer.encode(text)
            #expect(ids == twin.encode(text), "\(text)")
            #expect(served.tokenizer.decode(ids) == twin.decode(ids))
            #expect(ids.allSatisfy { $0 < 1000 } || text.contains("<|endoftext|>"))
        }
        // The tokens are GPT-2's own strings: the first 1000 ids of vocab.json.
        let gpt2 = try GPT2Tokenizer.load(directory: Fixtures.vocabDirectory)
        for id in [0, 32, 255, 256, 500, 999] { #expect(served.tokenizer.tokenString(id) == gpt2.tokenString(id)) }
    }

    @Test func servesGGUFFilesAndReportsTheirFormatAndWeightType() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config { c in
            c.models = [
                ModelSpec(name: "f32", directory: GGUFFixtures.fixture("tiny-f32").path),
                ModelSpec(name: "q4", directory: GGUFFixtures.fixture("tiny-q4_0").path),
            ]
        })
        defer { Task { await h.stop() } }
        let c = try await h.connect()
        let models = try #require(try await c.call("models")["models"]?.arrayValue)
        let info = Dictionary(uniqueKeysWithValues: models.map {
            ($0["name"]!.stringValue!, [$0["format"]?.stringValue, $0["weight_type"]?.stringValue])
        })
        #expect(info == ["f32": ["gguf", "float32"], "q4": ["gguf", "q4"]])

        // Greedy from the F32 file: its first token is the argmax of the expected last logits row.
        let expected = try SafeTensorsFile.open(path: GGUFFixtures.fixture("tiny-f32").expectedPath)
        let ids = try expected.int64s("input_ids").map { Int($0) }
        let logits = try expected.floats("logits"), vocab = logits.count / ids.count
        let last = Array(logits[((ids.count - 1) * vocab)...])
        let argmax = last.indices.max { last[$0] < last[$1] }!
        let r = try GenerateResponse(from: try await c.call("generate", id: "g", [
            "model": "f32", "tokens": ids.jsonArray, "max_new_tokens": 1,
        ]))
        #expect(r.tokens == [argmax])
        // Text in and out through the file's tokenizer.
        let g = try GenerateResponse(from: try await c.call("generate", id: "t", ["model": "q4", "prompt": "Hello world", "max_new_tokens": 3]))
        #expect((1...3).contains(g.tokens.count))  // fewer when it draws the eos id (999)
        let tokenizer = try GPT2Tokenizer.load(directory: GGUFFixtures.vocabTwin)
        #expect(g.text == tokenizer.decode(g.tokens))
    }
}
