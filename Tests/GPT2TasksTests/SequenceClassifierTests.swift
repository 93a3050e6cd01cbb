import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import GPT2Tokenizer
import Testing

@Suite struct SequenceClassifierTests {
    static let fixtures = ["seqcls-pad-eos", "seqcls-no-pad", "seqcls-multilabel", "seqcls-regression"]

    @Test("tokens, pool index and raw logits equal transformers", arguments: fixtures)
    func rawLogits(name: String) throws {
        let f = try TaskFixture(name)
        let clf = try SequenceClassifier(config: f.model.config, weights: f.model.weights)
        for input in f.inputs {
            let text = input["text"] as! String
            let (ids, offs) = f.tokenizer.encodeWithOffsets(text)
            #expect(ids == ints(input["ids"]), "\(text)")
            #expect(offs == offsets(input["offsets"]), "\(text)")
            #expect(clf.poolIndex(ids) == int(input["pool_index"]), "\(text)")
            let logits = try clf.logits([text], tokenizer: f.tokenizer, runner: f.runner)[0]
            expectClose(logits, floats(input["logits"]), 1e-4, "\(name) logits of \(text.debugDescription)")
        }
    }

    @Test("text-classification pipeline goldens", arguments: fixtures)
    func pipeline(name: String) throws {
        let f = try TaskFixture(name)
        let clf = try SequenceClassifier(config: f.model.config, weights: f.model.weights)
        var checked = 0
        for c in f.cases {
            let params = c["params"] as! [String: Any]
            // absent top_k → the pipeline's legacy default (single best); null → every label
            let topK: Int? = params.keys.contains("top_k") ? (params["top_k"] as? NSNumber)?.intValue : 1
            let function = (params["function_to_apply"] as? String).map { ClassificationFunction(rawValue: $0)! }
            let texts = c["texts"] as? [String] ?? [c["text"] as! String]
            let got = try clf.run(texts, tokenizer: f.tokenizer, runner: f.runner, function: function, topK: topK)
            let want: [[[String: Any]]]
            if c["texts"] != nil {
                want = (c["expected"] as! [[String: Any]]).map { [$0] }
            } else if let one = c["expected"] as? [String: Any] {
                want = [[one]]
            } else {
                want = [c["expected"] as! [[String: Any]]]
            }
            #expect(got.count == want.count)
            for (g, w) in zip(got, want) {
                let what = "\(name) \(texts) \(params)"
                #expect(g.map(\.label) == w.map { $0["label"] as! String }, "\(what)")
                for (x, y) in zip(g, w) { expectClose(x.score, double(y["score"]), 1e-4, what) }
            }
            checked += 1
        }
        #expect(checked == f.cases.count && checked > 80)
    }

    @Test func poolingWithPadEqualsEOS() throws {
        let f = try TaskFixture("seqcls-pad-eos")
        let clf = try SequenceClassifier(config: f.model.config, weights: f.model.weights)
        #expect(f.model.config.padTokenId == 50256)
        // trailing pads are skipped; a pad in the middle is not; all-pad → 0
        #expect(clf.poolIndex([464, 886, 13, 50256]) == 2)
        #expect(clf.poolIndex([87, 50256, 50256]) == 0)
        #expect(clf.poolIndex([7, 50256, 8, 9]) == 3)
        #expect(clf.poolIndex([50256]) == 0)
        // the request stops at the pooled token (causal: same hidden state)
        let r = try clf.request(ids: [464, 886, 13, 50256])
        #expect(r.tokens == [464, 886, 13] && r.rows == .last)
        // a trailing <|endoftext|> does not change the result
        let a = try clf.logits(["The end.", "The end.<|endoftext|>"], tokenizer: f.tokenizer, runner: f.runner)
        expectClose(a[0], a[1], 1e-6, "trailing eos")
    }

    @Test func poolingWithoutPad() throws {
        let f = try TaskFixture("seqcls-no-pad")
        let clf = try SequenceClassifier(config: f.model.config, weights: f.model.weights)
        #expect(f.model.config.padTokenId == nil)
        #expect(clf.poolIndex([464, 886, 13, 50256]) == 3)
        #expect(clf.poolIndex([50256]) == 0)
        let a = try clf.logits(["The end.", "The end.<|endoftext|>"], tokenizer: f.tokenizer, runner: f.runner)
        #expect(a[0] != a[1])
    }

    @Test func defaultFunctionRule() throws {
        let fns = try Self.fixtures.map { name -> ClassificationFunction in
            let m = try GPT2Model.load(directory: TaskFixture.directory(name))
            return try SequenceClassifier(config: m.config, weights: m.weights).defaultFunction
        }
        #expect(fns == [.softmax, .softmax, .sigmoid, .none])
    }

    @Test func emptyAndTooLongInputs() throws {
        let f = try TaskFixture("seqcls-no-pad")
        let clf = try SequenceClassifier(config: f.model.config, weights: f.model.weights)
        #expect(throws: TaskError.emptyInput(what: "text")) { try clf.request(ids: []) }
        #expect(throws: TaskError.inputTooLong(what: "text", tokens: 257, limit: 256)) {
            try clf.request(ids: Array(repeating: 5, count: 257))
        }
    }
}
