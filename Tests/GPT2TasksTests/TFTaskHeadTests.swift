// Task heads read from tf_model.h5 (Tests/Fixtures/tfflax/tf-seqcls and tf-double-heads, written by
// TFGPT2ForSequenceClassification / TFGPT2DoubleHeadsModel.save_pretrained; tf-seqcls-sharded, the
// same classifier saved in shards) give exactly their safetensors twin's outputs and what
// transformers' TF classes computed (tf-seqcls's golden.json) within 1e-4.
import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import Testing

/// Hidden states of `requests` from the model in `directory`.
private func hidden(_ model: GPT2Model, _ requests: [HiddenRequest]) throws -> [[Float]] {
    try TaskRunner(model: model).hiddenStates(requests)
}

@Suite struct TFTaskHeadTests {
    @Test(arguments: ["tf-seqcls", "tf-seqcls-sharded"])
    func sequenceClassifierFromTensorflowEqualsTwinAndTransformers(_ name: String) throws {
        let fixture = TFFlaxFixtures.fixture(name)
        let tf = try GPT2Model.load(directory: fixture.directory), st = try GPT2Model.load(directory: fixture.twinDirectory)
        #expect(tf.weights.format == .tensorflow)
        let a = try SequenceClassifier(config: tf.config, weights: tf.weights)
        let b = try SequenceClassifier(config: st.config, weights: st.weights)
        let cases = try TFFlaxFixtures.golden("tf-seqcls")
        #expect(cases.count >= 4 && cases.contains { ($0["ids"] as! [Int]).last == 998 })  // pad-terminated ones too
        for c in cases {
            let ids = c["ids"] as! [Int]
            let x = a.logits(pooledHidden: try hidden(tf, [try a.request(ids: ids)])[0])
            let y = b.logits(pooledHidden: try hidden(st, [try b.request(ids: ids)])[0])
            #expect(x == y, "\(ids)")
            expectClose(x, (c["logits"] as! [Double]).map(Float.init), 1e-4, "logits of \(ids)")
        }
    }

    @Test func multipleChoiceFromTensorflowEqualsTwinAndTransformers() throws {
        let fixture = TFFlaxFixtures.fixture("tf-double-heads")
        let tf = try GPT2Model.load(directory: fixture.directory), st = try GPT2Model.load(directory: fixture.twinDirectory)
        let a = try MultipleChoice(config: tf.config, weights: tf.weights)
        let b = try MultipleChoice(config: st.config, weights: st.weights)
        let cases = try TFFlaxFixtures.golden("tf-double-heads")
        #expect(!cases.isEmpty)
        for c in cases {
            let choices = c["choices"] as! [[Int]], mc = c["mc_token_ids"] as! [Int]
            let x = a.finish(hidden: try hidden(tf, try a.requests(choices: choices, mcTokenIndex: mc)))
            let y = b.finish(hidden: try hidden(st, try b.requests(choices: choices, mcTokenIndex: mc)))
            #expect(x == y)
            expectClose(x.scores, (c["mc_logits"] as! [Double]).map(Float.init), 1e-4, "mc_logits of \(choices)")
        }
    }
}
