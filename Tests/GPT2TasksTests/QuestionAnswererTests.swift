import Foundation
import GPT2Core
import GPT2Tasks
import GPT2TestSupport
import GPT2Tokenizer
import Testing

@Suite struct QuestionAnswererTests {
    @Test("start/end logits equal transformers")
    func rawLogits() throws {
        let f = try TaskFixture("qa")
        let qa = try QuestionAnswerer(config: f.model.config, weights: f.model.weights)
        for input in f.inputs {
            let q = input["question"] as! String, c = input["context"] as! String
            let p = try qa.plan(question: q, context: c, tokenizer: f.tokenizer, options: QAOptions(maxSequenceLength: 256))
            #expect(p.questionIDs == ints(input["question_ids"]) && p.contextIDs == ints(input["context_ids"]))
            #expect(p.contextOffsets == offsets(input["context_offsets"]))
            #expect(p.windows.count == 1)
            let (s, e) = qa.logits(hidden: try f.runner.hiddenStates(p.requests)[0])
            expectClose(s, floats(input["start_logits"]), 1e-4, "start logits \(q)")
            expectClose(e, floats(input["end_logits"]), 1e-4, "end logits \(q)")
        }
    }

    @Test("question-answering pipeline goldens (transformers 4.57.1)")
    func pipeline() throws {
        let f = try TaskFixture("qa")
        let qa = try QuestionAnswerer(config: f.model.config, weights: f.model.weights)
        var chunked = 0
        for c in f.cases {
            let q = c["question"] as! String, ctx = c["context"] as! String
            let params = c["params"] as! [String: Any]
            let o = QAOptions(topK: (params["top_k"] as? NSNumber)?.intValue ?? 1,
                              docStride: (params["doc_stride"] as? NSNumber)?.intValue,
                              maxAnswerLength: (params["max_answer_len"] as? NSNumber)?.intValue ?? 15,
                              maxSequenceLength: (params["max_seq_len"] as? NSNumber)?.intValue,
                              handleImpossibleAnswer: (params["handle_impossible_answer"] as? Bool) ?? false,
                              alignToWords: (params["align_to_words"] as? Bool) ?? true)
            let p = try qa.plan(question: q, context: ctx, tokenizer: f.tokenizer, options: o)
            if p.windows.count > 1 { chunked += 1 }
            let got = qa.finish(plan: p, hidden: try f.runner.hiddenStates(p.requests))
            let want = c["expected"] as! [[String: Any]]
            let what = "\(q.debugDescription) \(params)"
            #expect(got.map(\.answer) == want.map { $0["answer"] as! String }, "\(what)")
            #expect(got.map(\.start) == want.map { int($0["start"]) }, "\(what)")
            #expect(got.map(\.end) == want.map { int($0["end"]) }, "\(what)")
            for (g, w) in zip(got, want) { expectClose(g.score, double(w["score"]), 1e-4, what) }
        }
        #expect(f.cases.count == 48 && chunked == 5, "chunked cases: \(chunked)")
    }

    @Test func chunking() throws {
        let f = try TaskFixture("qa")
        let qa = try QuestionAnswerer(config: f.model.config, weights: f.model.weights)
        let ctx = String(repeating: "word ", count: 49) + "word"   // 50 tokens
        let p = try qa.plan(question: "Why?", context: ctx, tokenizer: f.tokenizer,      // question: 2 tokens
                            options: QAOptions(docStride: 4, maxSequenceLength: 22))
        #expect(p.questionIDs.count == 2)
        #expect(p.windows == [0..<20, 16..<36, 32..<50])
        #expect(p.requests.allSatisfy { $0.tokens.count <= 22 && Array($0.tokens.prefix(2)) == p.questionIDs.map(Int32.init) })
        #expect(throws: TaskError.self) {
            try qa.plan(question: "Why?", context: ctx, tokenizer: f.tokenizer, options: QAOptions(docStride: 30, maxSequenceLength: 22))
        }
        #expect(throws: TaskError.emptyInput(what: "context")) {
            try qa.plan(question: "Why?", context: "", tokenizer: f.tokenizer)
        }
    }
}
