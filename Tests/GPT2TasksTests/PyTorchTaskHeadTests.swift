// A task head read from pytorch_model.bin (Tests/Fixtures/pytorch/seqcls-zip, torch.save of the
// seqcls-pad-eos fixture's tensors) classifies exactly like its safetensors twin and like
// transformers (the twin's golden raw logits and pipeline scores).
import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import GPT2Tokenizer
import Testing

@Suite struct PyTorchTaskHeadTests {
    @Test func sequenceClassifierFromPytorchEqualsTwin() throws {
        let twin = try TaskFixture("seqcls-pad-eos")
        let dir = PyTorchFixtures.directory("seqcls-zip")
        let model = try GPT2Model.load(directory: dir)
        #expect(model.weights.format == .pytorch)
        let tokenizer = try GPT2Tokenizer.load(directory: dir)
        let runner = TaskRunner(model: model)
        let pt = try SequenceClassifier(config: model.config, weights: model.weights)
        let st = try SequenceClassifier(config: twin.model.config, weights: twin.model.weights)
        #expect(!twin.inputs.isEmpty)
        for input in twin.inputs {
            let text = input["text"] as! String
            let a = try pt.logits([text], tokenizer: tokenizer, runner: runner)[0]
            let b = try st.logits([text], tokenizer: twin.tokenizer, runner: twin.runner)[0]
            #expect(a == b, "\(text.debugDescription)")
            expectClose(a, floats(input["logits"]), 1e-4, "logits of \(text.debugDescription)")
        }
        let texts = twin.inputs.prefix(4).map { $0["text"] as! String }
        let got = try pt.run(texts, tokenizer: tokenizer, runner: runner, function: nil, topK: nil)
        let want = try st.run(texts, tokenizer: twin.tokenizer, runner: twin.runner, function: nil, topK: nil)
        #expect(got.map { $0.map(\.label) } == want.map { $0.map(\.label) })
        #expect(got.map { $0.map(\.score) } == want.map { $0.map(\.score) })
    }
}
