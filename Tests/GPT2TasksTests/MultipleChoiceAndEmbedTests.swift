import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import GPT2Tokenizer
import Testing

@Suite struct MultipleChoiceAndEmbedTests {
    @Test("double-heads mc_logits equal transformers (default last token and explicit mc_token_ids)")
    func multipleChoice() throws {
        let f = try TaskFixture("double-heads")
        #expect(f.model.config.summaryActivation == "tanh")
        let mc = try MultipleChoice(config: f.model.config, weights: f.model.weights)
        for input in f.inputs {
            let r = try mc.run([input["text"] as! String], tokenizer: f.tokenizer, runner: f.runner)
            expectClose(r.scores, [Float(double(input["mc_logit"]))], 1e-4, "mc_logit \(input["text"]!)")
        }
        #expect(f.cases.count == 2)
        for c in f.cases {
            let choices = c["choices"] as! [String]
            let params = c["params"] as! [String: Any]
            let idx = params["mc_token_ids"].map(ints)
            let r = try mc.run(choices, tokenizer: f.tokenizer, runner: f.runner, mcTokenIndex: idx)
            let want = c["expected"] as! [String: Any]
            expectClose(r.scores, floats(want["scores"]), 1e-4, "mc scores \(params)")
            #expect(r.best == int(want["best"]))
        }
        #expect(throws: TaskError.self) { try mc.requests(choices: [[1, 2]], mcTokenIndex: [2]) }
    }

    @Test("embeddings (last/mean, raw/normalised) equal transformers", arguments: [
        "seqcls-pad-eos", "seqcls-no-pad", "seqcls-multilabel", "seqcls-regression", "tokcls", "qa", "double-heads",
    ])
    func embeddings(name: String) throws {
        let f = try TaskFixture(name)
        let e = Embedder(config: f.model.config)
        for row in f.embed {
            let text = row["text"] as! String
            #expect(f.tokenizer.encode(text) == ints(row["ids"]))
            for pooling in EmbeddingPooling.allCases {
                for normalize in [false, true] {
                    let got = try e.run([text], tokenizer: f.tokenizer, runner: f.runner, pooling: pooling, normalize: normalize)[0]
                    let key = pooling.rawValue + (normalize ? "_normalized" : "")
                    expectClose(got, floats(row[key]), 1e-4, "\(name) \(key) \(text.debugDescription)")
                }
            }
        }
    }
}
