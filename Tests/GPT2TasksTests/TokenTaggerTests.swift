import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import GPT2Tokenizer
import Testing

@Suite struct TokenTaggerTests {
    @Test("raw per-token logits equal transformers")
    func rawLogits() throws {
        let f = try TaskFixture("tokcls")
        let tagger = try TokenTagger(config: f.model.config, weights: f.model.weights)
        for input in f.inputs {
            let text = input["text"] as! String
            let p = try tagger.plan(text, tokenizer: f.tokenizer, aggregation: .none)
            #expect(p.ids == ints(input["ids"]) && p.offsets == offsets(input["offsets"]), "\(text)")
            let rows = tagger.logits(hidden: try f.runner.hiddenStates(p.requests)[0])
            let want = (input["logits"] as! [Any]).map(floats)
            #expect(rows.count == want.count)
            for (g, w) in zip(rows, want) { expectClose(g, w, 1e-4, "token logits of \(text.debugDescription)") }
        }
    }

    @Test("token-classification pipeline goldens (none/simple/first/average/max, ignore_labels, truncation, stride)")
    func pipeline() throws {
        let f = try TaskFixture("tokcls")
        let tagger = try TokenTagger(config: f.model.config, weights: f.model.weights)
        var strided = 0
        for c in f.cases {
            let text = c["text"] as! String
            let params = c["params"] as! [String: Any]
            let agg = AggregationStrategy(rawValue: params["aggregation_strategy"] as! String)!
            let ignore = params["ignore_labels"] as? [String] ?? ["O"]
            let maxLength = (params["model_max_length"] as? NSNumber)?.intValue
            let stride = (params["stride"] as? NSNumber)?.intValue
            if stride != nil { strided += 1 }
            let got = try tagger.run(text, tokenizer: f.tokenizer, runner: f.runner, aggregation: agg,
                                     ignoreLabels: ignore, maxLength: maxLength, stride: stride)
            let want = c["expected"] as! [[String: Any]]
            let what = "\(text.debugDescription) \(params)"
            let key = agg == .none ? "entity" : "entity_group"
            #expect(got.map(\.label) == want.map { $0[key] as! String }, "\(what)")
            #expect(got.map(\.word) == want.map { $0["word"] as! String }, "\(what)")
            #expect(got.map(\.start) == want.map { int($0["start"]) }, "\(what)")
            #expect(got.map(\.end) == want.map { int($0["end"]) }, "\(what)")
            #expect(got.map(\.index) == want.map { ($0["index"] as? NSNumber)?.intValue }, "\(what)")
            for (g, w) in zip(got, want) { expectClose(g.score, double(w["score"]), 1e-4, what) }
        }
        #expect(f.cases.count == 68 && strided == 8)
    }

    @Test func strideWindows() throws {
        let f = try TaskFixture("tokcls")
        let tagger = try TokenTagger(config: f.model.config, weights: f.model.weights)
        let text = String(repeating: "word ", count: 59) + "word"   // 60 tokens
        let p = try tagger.plan(text, tokenizer: f.tokenizer, aggregation: .simple, maxLength: 24, stride: 6)
        #expect(p.ids.count == 60)
        #expect(p.windows == [0..<24, 18..<42, 36..<60])
        #expect(throws: TaskError.self) { try tagger.plan(text, tokenizer: f.tokenizer, aggregation: .none, maxLength: 24, stride: 6) }
        #expect(throws: TaskError.self) { try tagger.plan(text, tokenizer: f.tokenizer, aggregation: .first, maxLength: 24, stride: 24) }
        let t = try tagger.plan(text, tokenizer: f.tokenizer, aggregation: .none, maxLength: 24)
        #expect(t.windows == [0..<24])
    }
}
