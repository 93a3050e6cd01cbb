// QuestionAnswerer — GPT2ForQuestionAnswering + transformers 4.57.1's question-answering pipeline (fast
// tokenizer path; the pipeline was removed in transformers 5).
//
//   input per chunk = question ids ++ context ids[window]  (no separator; only input_ids are fed — GPT-2
//     gets no token_type_ids). Windows (truncation "only_second", stride = doc_stride): the context gets
//     w = max_seq_len − len(question) tokens per chunk, chunks start at 0, w−doc_stride, … until one
//     reaches the end. max_seq_len default min(384, n_positions); doc_stride default min(max_seq_len/2, 128);
//     max_question_len is ignored by the fast path.
//   start|end logits = qa_outputs · h[t] (+ bias)      qa_outputs.weight (2, C): row 0 start, row 1 end
//   per chunk: question positions set to −10000, softmax over the chunk (Float);
//     min_null = min over chunks of p_start[0]·p_end[0] (position 0 is a question token → 0 for GPT-2);
//     p[0] := 0; score(s, e) = p_start[s]·p_end[e] for context s ≤ e < s + max_answer_len;
//     the best `top_k` spans (2·top_k + 10 when align_to_words) by score.
//   span → chars: align_to_words → (start of s's word, end of e's word) — words are pre-tokenizer pieces,
//     so answers carry their leading space; else (offset[s].start, offset[e].end). Code points.
//   answers whose lower-cased text equals an earlier answer's add their score to it (first one kept);
//   handle_impossible_answer appends {"", 0, 0, min_null}; stable sort by score, first top_k.
// Deviation: when a chunk has fewer valid spans than the pre-fetch count, numpy's argpartition also returns
// zero-score (invalid) spans; those are dropped here (they can only surface when fewer than top_k real
// answers exist).
import Foundation
import GPT2Core
import GPT2Tokenizer

public struct Answer: Sendable, Equatable {
    public var answer: String
    public var score: Double
    public var start: Int
    public var end: Int
}

public struct QAOptions: Sendable {
    public var topK: Int = 1
    public var docStride: Int? = nil
    public var maxAnswerLength: Int = 15
    public var maxSequenceLength: Int? = nil
    public var handleImpossibleAnswer: Bool = false
    public var alignToWords: Bool = true
    public init(topK: Int = 1, docStride: Int? = nil, maxAnswerLength: Int = 15, maxSequenceLength: Int? = nil,
                handleImpossibleAnswer: Bool = false, alignToWords: Bool = true) {
        self.topK = topK; self.docStride = docStride; self.maxAnswerLength = maxAnswerLength
        self.maxSequenceLength = maxSequenceLength; self.handleImpossibleAnswer = handleImpossibleAnswer
        self.alignToWords = alignToWords
    }
}

public struct QAPlan: Sendable {
    public var context: String
    public var questionIDs: [Int]
    public var contextIDs: [Int]
    public var contextOffsets: [Range<Int>]
    /// Context token ranges, one chunk each.
    public var windows: [Range<Int>]
    public var options: QAOptions
    public var requests: [HiddenRequest] {
        windows.map { HiddenRequest(ids: questionIDs + contextIDs[$0], rows: .all) }
    }
}

public struct QuestionAnswerer: Sendable {
    public let config: GPT2Config
    public let head: LinearHead

    public init(config: GPT2Config, weights: GPT2Weights) throws {
        self.config = config
        head = try TaskHeads.linear(weights, config: config, prefix: "qa_outputs", task: .qa, withBias: true, outputs: 2)
    }

    /// (a) Tokenize question and context and cut the context into chunks.
    public func plan(question: String, context: String, tokenizer: GPT2Tokenizer, options: QAOptions = .init()) throws -> QAPlan {
        guard options.topK >= 1 else { throw TaskError.invalidArgument("top_k parameter should be >= 1 (got \(options.topK))") }
        guard options.maxAnswerLength >= 1 else {
            throw TaskError.invalidArgument("max_answer_len parameter should be >= 1 (got \(options.maxAnswerLength))")
        }
        let maxSeq = min(options.maxSequenceLength ?? min(384, config.nPositions), config.nPositions)
        let stride = options.docStride ?? min(maxSeq / 2, 128)
        guard stride <= maxSeq else {
            throw TaskError.invalidArgument("`doc_stride` (\(stride)) is larger than `max_seq_len` (\(maxSeq))")
        }
        let q = tokenizer.encode(question)
        let (c, offs) = tokenizer.encodeWithOffsets(context)
        guard !q.isEmpty else { throw TaskError.emptyInput(what: "question") }
        guard !c.isEmpty else { throw TaskError.emptyInput(what: "context") }
        let w = maxSeq - q.count
        guard w > 0 else { throw TaskError.inputTooLong(what: "question", tokens: q.count, limit: maxSeq - 1) }
        var windows: [Range<Int>] = []
        if c.count <= w {
            windows = [0..<c.count]
        } else {
            guard stride < w else {
                throw TaskError.invalidArgument("doc_stride (\(stride)) must be smaller than the context room per chunk (\(w) = max_seq_len − question tokens)")
            }
            var start = 0
            while true {
                let stop = min(start + w, c.count)
                windows.append(start..<stop)
                if stop == c.count { break }
                start += w - stride
            }
        }
        return QAPlan(context: context, questionIDs: q, contextIDs: c, contextOffsets: offs, windows: windows, options: options)
    }

    /// Start and end logits of one chunk's rows (rows × C).
    public func logits(hidden: [Float]) -> (start: [Float], end: [Float]) {
        let C = config.nEmbd
        var s: [Float] = [], e: [Float] = []
        for r in 0..<(hidden.count / C) {
            let y = head.apply(hidden[(r * C)..<((r + 1) * C)])
            s.append(y[0]); e.append(y[1])
        }
        return (s, e)
    }

    /// (b) From each chunk's hidden rows to the answers.
    public func finish(plan: QAPlan, hidden: [[Float]]) -> [Answer] {
        finish(plan: plan, logits: hidden.map { logits(hidden: $0) })
    }

    /// (b) From each chunk's start/end logits to the answers (best first, at most top_k).
    public func finish(plan: QAPlan, logits: [(start: [Float], end: [Float])]) -> [Answer] {
        let o = plan.options
        let text = CodePoints(plan.context)
        let words = PreTokenWords.split(text.scalars)
        let wordOf = PreTokenWords.wordIDs(offsets: plan.contextOffsets, words: words)
        let qn = plan.questionIDs.count
        // word → its first and last context token (word ids are non-decreasing over the tokens), so
        // aligning a span to its words inside a chunk is O(1): the chunk's first token of word w is
        // max(chunk start, first[w]), its last one min(chunk end − 1, last[w]).
        var firstToken = [Int](repeating: -1, count: words.count), lastToken = firstToken
        for (t, w) in wordOf.enumerated() {
            if firstToken[w] < 0 { firstToken[w] = t }
            lastToken[w] = t
        }
        var minNull: Float = 1_000_000
        var answers: [Answer] = []
        // lower-cased answer text → its index in `answers` (the first answer with that text is kept)
        var answerIndex: [String: Int] = [:]
        for (k, window) in plan.windows.enumerated() {
            let T = qn + window.count
            var ls = logits[k].start, le = logits[k].end
            for t in 0..<qn { ls[t] = -10000; le[t] = -10000 }
            var ps = Activations.softmax(ls), pe = Activations.softmax(le)
            if o.handleImpossibleAnswer { minNull = min(minNull, ps[0] * pe[0]) }
            ps[0] = 0; pe[0] = 0
            // every valid span, best first (ties: row-major order, as numpy's argmax)
            var spans: [(s: Int, e: Int, score: Float)] = []
            for s in max(qn, 1)..<T {
                for e in s..<min(s + o.maxAnswerLength, T) { spans.append((s, e, ps[s] * pe[e])) }
            }
            let want = o.alignToWords ? o.topK * 2 + 10 : o.topK
            spans.sort { $0.score != $1.score ? $0.score > $1.score : ($0.s != $1.s ? $0.s < $1.s : $0.e < $1.e) }
            for span in spans.prefix(want) {
                // context token indices (whole context)
                let cs = window.lowerBound + span.s - qn, ce = window.lowerBound + span.e - qn
                let startIndex: Int, endIndex: Int
                if o.alignToWords {
                    // word_to_chars on this chunk's encoding: first/last token of the word inside the chunk
                    let firstOfWs = max(window.lowerBound, firstToken[wordOf[cs]])
                    let lastOfWe = min(window.upperBound - 1, lastToken[wordOf[ce]])
                    startIndex = plan.contextOffsets[firstOfWs].lowerBound
                    endIndex = plan.contextOffsets[lastOfWe].upperBound
                } else {
                    startIndex = plan.contextOffsets[cs].lowerBound
                    endIndex = plan.contextOffsets[ce].upperBound
                }
                let target = text.slice(startIndex, endIndex)
                let key = target.lowercased()
                if let i = answerIndex[key] {
                    answers[i].score += Double(span.score)
                } else {
                    answerIndex[key] = answers.count
                    answers.append(Answer(answer: target, score: Double(span.score), start: startIndex, end: endIndex))
                }
            }
        }
        if o.handleImpossibleAnswer { answers.append(Answer(answer: "", score: Double(minNull), start: 0, end: 0)) }
        let sorted = answers.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
        return Array(sorted.prefix(o.topK).map(\.element))
    }

    /// Convenience: plan, run, finish.
    public func run(question: String, context: String, tokenizer: GPT2Tokenizer, runner: TaskRunner,
                    options: QAOptions = .init()) throws -> [Answer] {
        let p = try plan(question: question, context: context, tokenizer: tokenizer, options: options)
        return finish(plan: p, hidden: try runner.hiddenStates(p.requests))
    }
}
