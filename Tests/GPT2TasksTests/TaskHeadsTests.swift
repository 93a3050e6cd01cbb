import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import Testing

@Suite struct TaskHeadsTests {
    @Test func supportedTasksPerCheckpoint() throws {
        let expected: [(String, [String])] = [
            ("seqcls-pad-eos", ["classify", "embed"]), ("tokcls", ["tag", "embed"]), ("qa", ["qa", "embed"]),
            ("double-heads", ["choose", "embed"]),
        ]
        for (name, tasks) in expected {
            let m = try GPT2Model.load(directory: TaskFixture.directory(name))
            #expect(TaskHeads.supportedTasks(config: m.config, weights: m.weights) == tasks, "\(name)")
        }
        let lm = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
        #expect(TaskHeads.supportedTasks(config: lm.config, weights: lm.weights) == ["embed"])
    }

    @Test("a model without the head → unsupportedTask naming the missing tensor")
    func missingHeads() throws {
        let lm = try GPT2Model.load(directory: Fixtures.model("tiny-gpt2"))
        #expect(throws: TaskError.unsupportedTask(task: "classify", missing: "score.weight")) {
            try SequenceClassifier(config: lm.config, weights: lm.weights)
        }
        #expect(throws: TaskError.unsupportedTask(task: "tag", missing: "classifier.weight")) {
            try TokenTagger(config: lm.config, weights: lm.weights)
        }
        #expect(throws: TaskError.unsupportedTask(task: "qa", missing: "qa_outputs.weight")) {
            try QuestionAnswerer(config: lm.config, weights: lm.weights)
        }
        #expect(throws: TaskError.unsupportedTask(task: "choose", missing: "multiple_choice_head.summary.weight")) {
            try MultipleChoice(config: lm.config, weights: lm.weights)
        }
        // a token-classification checkpoint cannot classify sequences either
        let tok = try GPT2Model.load(directory: TaskFixture.directory("tokcls"))
        #expect(throws: TaskError.unsupportedTask(task: "classify", missing: "score.weight")) {
            try SequenceClassifier(config: tok.config, weights: tok.weights)
        }
        #expect("\(TaskError.unsupportedTask(task: "classify", missing: "score.weight"))".contains("does not support"))
    }
}
