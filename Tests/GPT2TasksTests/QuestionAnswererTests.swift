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

    /// Thousands of chunks whose answers repeat: the duplicates merge into the first answer with that
    /// lower-cased text and their scores add up (checked against a sum taken here), and the work stays
    /// linear in the chunks (each chunk is post-processed without looking at the others).
    @Test func manyChunksMergeRepeatedAnswers() throws {
        let f = try TaskFixture("qa")
        let qa = try QuestionAnswerer(config: f.model.config, weights: f.model.weights)
        let ctx = String(repeating: " A", count: 3999) + " a"                 // 4,000 context tokens
        let o = QAOptions(topK: 5, docStride: 0, maxSequenceLength: 3)       // 1 question + 2 context tokens
        let p = try qa.plan(question: "Why", context: ctx, tokenizer: f.tokenizer, options: o)
        try #require(p.questionIDs.count == 1 && p.windows.count == 2000)
        var rng = SplitMix64(seed: 7)
        let logits = p.windows.map { _ in
            (start: (0..<3).map { _ in rng.float(scale: 3) }, end: (0..<3).map { _ in rng.float(scale: 3) })
        }
        let got = qa.finish(plan: p, logits: logits)
        // Per chunk: position 0 is the question; the context spans are (1,1) " A", (2,2) " A" (" a" in the
        // last chunk) and (1,2) " A A" (" A a"); all three are within the 2·5+10 kept per chunk.
        var single = 0.0, double = 0.0, firstStart = 0
        for (k, l) in logits.enumerated() {
            var s = l.start, e = l.end
            s[0] = -10000; e[0] = -10000
            let ps = softmax(s), pe = softmax(e)
            single += Double(ps[1] * pe[1]) + Double(ps[2] * pe[2]); double += Double(ps[1] * pe[2])
            // chunk 0's better single-token span is the first " A" answer (ties: the earlier span)
            if k == 0 { firstStart = ps[1] * pe[1] >= ps[2] * pe[2] ? 0 : 2 }
        }
        #expect(got.count == 2)
        let byText = Dictionary(uniqueKeysWithValues: got.map { ($0.answer.lowercased(), $0) })
        let a = try #require(byText[" a"]), aa = try #require(byText[" a a"])
        #expect(a.answer == " A" && a.start == firstStart && a.end == firstStart + 2, "the first answer with the text is kept")
        expectClose(a.score, single, 1e-6 * single, "summed single-token answers")
        expectClose(aa.score, double, 1e-6 * double, "summed two-token answers")
    }
}

/// numpy-style softmax in Float (the pipeline's).
private func softmax(_ x: [Float]) -> [Float] {
    let m = x.max()!
    let e = x.map { expf($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}
