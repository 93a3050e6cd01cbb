// The task ops' wire types: round trips through a request line, defaults, and field errors that name
// the field.
import Testing
import GPT2JSON
@testable import GPT2Wire

@Suite struct TaskRequestTests {
    func error<R: WireRequest>(_ type: R.Type, _ body: String) -> WireError? {
        guard case .object(let o)? = try? JSON.parse(body) else { Issue.record("bad test JSON"); return nil }
        do { _ = try R(from: o); return nil } catch { return error }
    }

    func expectError<R: WireRequest>(_ type: R.Type, _ body: String, _ code: WireErrorCode, _ field: String,
                                     sourceLocation: SourceLocation = #_sourceLocation) {
        let e = error(type, body)
        #expect(e?.code == code, "\(body): \(String(describing: e))", sourceLocation: sourceLocation)
        #expect(e?.field == field, "\(body): \(String(describing: e))", sourceLocation: sourceLocation)
    }

    func decode<R: WireRequest>(_ type: R.Type, _ body: String) throws -> R {
        guard case .object(let o) = try JSON.parse(body) else { throw WireError(.invalidRequest, "not an object") }
        return try R(from: o)
    }

    @Test func taskOpsAreV1Ops() {
        for op in ["classify", "tag", "qa", "choose", "embed"] { #expect(WireOps.requestType(for: op) != nil, "\(op)") }
    }

    @Test func classifyRoundTripAndDefaults() throws {
        let one = ClassifyRequest(model: "cls", texts: ["I love it"])
        #expect(try wireRoundTrip(one) == one)
        #expect(!one.batch)
        let many = ClassifyRequest(model: "cls", texts: ["a", "b 🤗"], topK: 0, function: .sigmoid)
        #expect(try wireRoundTrip(many, id: "c") == many)
        let single = ClassifyRequest(model: "cls", texts: ["x"], batch: true, topK: 2, function: ClassifyRequest.Function.none)
        let back = try wireRoundTrip(single)
        #expect(back == single && back.batch && back.texts == ["x"])
        let d = try decode(ClassifyRequest.self, #"{"model":"m","text":"hi","top_k":null}"#)
        #expect(d.topK == nil && d.function == nil && d.texts == ["hi"] && !d.batch)
        let all = try decode(ClassifyRequest.self, #"{"model":"m","texts":["a","b"],"top_k":0}"#)
        #expect(all.topK == 0 && all.texts == ["a", "b"] && all.batch)
    }

    @Test func classifyFieldErrors() {
        expectError(ClassifyRequest.self, #"{"text":"a"}"#, .missingField, "model")
        expectError(ClassifyRequest.self, #"{"model":"m"}"#, .missingField, "text")
        expectError(ClassifyRequest.self, #"{"model":"m","text":"a","texts":["b"]}"#, .invalidField, "texts")
        expectError(ClassifyRequest.self, #"{"model":"m","text":""}"#, .invalidField, "text")
        expectError(ClassifyRequest.self, #"{"model":"m","texts":[]}"#, .invalidField, "texts")
        expectError(ClassifyRequest.self, #"{"model":"m","texts":"a"}"#, .invalidField, "texts")
        expectError(ClassifyRequest.self, #"{"model":"m","texts":["a",""]}"#, .invalidField, "texts[1]")
        expectError(ClassifyRequest.self, #"{"model":"m","texts":["a",3]}"#, .invalidField, "texts[1]")
        expectError(ClassifyRequest.self, #"{"model":"m","text":"a","top_k":-1}"#, .invalidField, "top_k")
        expectError(ClassifyRequest.self, #"{"model":"m","text":"a","top_k":1.0}"#, .invalidField, "top_k")
        expectError(ClassifyRequest.self, #"{"model":"m","text":"a","function_to_apply":"relu"}"#, .invalidField, "function_to_apply")
        expectError(ClassifyRequest.self, #"{"model":"m","text":"a","function_to_apply":1}"#, .invalidField, "function_to_apply")
    }

    @Test func tagRoundTripAndDefaults() throws {
        let t = TagRequest(model: "tok", text: "Angela Merkel")
        #expect(try wireRoundTrip(t) == t)
        let t2 = TagRequest(model: "tok", text: "x y", aggregation: .first, ignoreLabels: [], maxLength: 24, stride: 6)
        #expect(try wireRoundTrip(t2) == t2)
        let d = try decode(TagRequest.self, #"{"model":"m","text":"hi"}"#)
        #expect(d.aggregation == .none && d.ignoreLabels == ["O"] && d.stride == nil && d.maxLength == nil)
    }

    @Test func tagFieldErrors() {
        expectError(TagRequest.self, #"{"model":"m"}"#, .missingField, "text")
        expectError(TagRequest.self, #"{"model":"m","text":""}"#, .invalidField, "text")
        expectError(TagRequest.self, #"{"model":"m","text":"a","aggregation_strategy":"mean"}"#, .invalidField, "aggregation_strategy")
        expectError(TagRequest.self, #"{"model":"m","text":"a","ignore_labels":"O"}"#, .invalidField, "ignore_labels")
        expectError(TagRequest.self, #"{"model":"m","text":"a","ignore_labels":[1]}"#, .invalidField, "ignore_labels")
        expectError(TagRequest.self, #"{"model":"m","text":"a","stride":2}"#, .invalidField, "stride")
        expectError(TagRequest.self, #"{"model":"m","text":"a","aggregation_strategy":"simple","stride":-1}"#, .invalidField, "stride")
        expectError(TagRequest.self, #"{"model":"m","text":"a","aggregation_strategy":"simple","stride":8,"max_length":8}"#, .invalidField, "stride")
        expectError(TagRequest.self, #"{"model":"m","text":"a","max_length":0}"#, .invalidField, "max_length")
    }

    @Test func qaRoundTripAndDefaults() throws {
        let q = QARequest(model: "qa", question: "Where?", context: "In Berlin.")
        #expect(try wireRoundTrip(q) == q)
        let q2 = QARequest(model: "qa", question: "Who?", context: "Paris is nice.", topK: 3, docStride: 16, maxAnswerLen: 3,
                           maxSeqLen: 48, maxQuestionLen: 10, handleImpossibleAnswer: true, alignToWords: false)
        #expect(try wireRoundTrip(q2) == q2)
        let d = try decode(QARequest.self, #"{"model":"m","question":"q","context":"c"}"#)
        #expect(d.topK == 1 && d.docStride == nil && d.maxAnswerLen == 15 && d.maxSeqLen == nil && d.maxQuestionLen == 64)
        #expect(!d.handleImpossibleAnswer && d.alignToWords)
    }

    @Test func qaFieldErrors() {
        expectError(QARequest.self, #"{"model":"m","context":"c"}"#, .missingField, "question")
        expectError(QARequest.self, #"{"model":"m","question":"q"}"#, .missingField, "context")
        expectError(QARequest.self, #"{"model":"m","question":"","context":"c"}"#, .invalidField, "question")
        expectError(QARequest.self, #"{"model":"m","question":"q","context":"c","top_k":0}"#, .invalidField, "top_k")
        expectError(QARequest.self, #"{"model":"m","question":"q","context":"c","max_answer_len":0}"#, .invalidField, "max_answer_len")
        expectError(QARequest.self, #"{"model":"m","question":"q","context":"c","doc_stride":-1}"#, .invalidField, "doc_stride")
        expectError(QARequest.self, #"{"model":"m","question":"q","context":"c","doc_stride":50,"max_seq_len":48}"#, .invalidField, "doc_stride")
        expectError(QARequest.self, #"{"model":"m","question":"q","context":"c","max_seq_len":1}"#, .invalidField, "max_seq_len")
        expectError(QARequest.self, #"{"model":"m","question":"q","context":"c","handle_impossible_answer":"yes"}"#, .invalidField, "handle_impossible_answer")
        expectError(QARequest.self, #"{"model":"m","question":"q","context":"c","align_to_words":1}"#, .invalidField, "align_to_words")
    }

    @Test func chooseRoundTripAndErrors() throws {
        let c = ChooseRequest(model: "mc", choices: ["a", "b", "c"])
        #expect(try wireRoundTrip(c) == c)
        let c2 = ChooseRequest(model: "mc", prompt: "Q: ", choices: ["yes", "no"], mcTokenIndex: [2, 1])
        #expect(try wireRoundTrip(c2) == c2)
        expectError(ChooseRequest.self, #"{"model":"m"}"#, .missingField, "choices")
        expectError(ChooseRequest.self, #"{"model":"m","choices":["only"]}"#, .invalidField, "choices")
        expectError(ChooseRequest.self, #"{"model":"m","choices":"ab"}"#, .invalidField, "choices")
        expectError(ChooseRequest.self, #"{"model":"m","choices":["a",2]}"#, .invalidField, "choices[1]")
        expectError(ChooseRequest.self, #"{"model":"m","prompt":3,"choices":["a","b"]}"#, .invalidField, "prompt")
        expectError(ChooseRequest.self, #"{"model":"m","choices":["a","b"],"mc_token_index":[0]}"#, .invalidField, "mc_token_index")
        expectError(ChooseRequest.self, #"{"model":"m","choices":["a","b"],"mc_token_index":[0,-1]}"#, .invalidField, "mc_token_index")
    }

    @Test func embedRoundTripAndErrors() throws {
        let e = EmbedRequest(model: "lm", texts: ["Hello world"])
        #expect(try wireRoundTrip(e) == e)
        let e2 = EmbedRequest(model: "lm", texts: ["a", "b"], pooling: .mean, normalize: true)
        #expect(try wireRoundTrip(e2) == e2)
        let d = try decode(EmbedRequest.self, #"{"model":"m","text":"hi"}"#)
        #expect(d.pooling == .last && !d.normalize)
        expectError(EmbedRequest.self, #"{"model":"m"}"#, .missingField, "text")
        expectError(EmbedRequest.self, #"{"model":"m","text":"a","pooling":"max"}"#, .invalidField, "pooling")
        expectError(EmbedRequest.self, #"{"model":"m","text":"a","normalize":"true"}"#, .invalidField, "normalize")
        expectError(EmbedRequest.self, #"{"model":"","text":"a"}"#, .invalidField, "model")
    }

    @Test func responsesRoundTrip() throws {
        func back<R: WireResponse>(_ r: R) throws -> R {
            let text = JSON.object(r.json()).serialized()
            guard case .object(let o) = try JSON.parse(text) else { throw WireError(.invalidRequest, "not an object") }
            return try R(from: o)
        }
        let c = ClassifyResponse(results: [[ClassifyLabel(label: "negative", score: 0.9387829899787903)],
                                           [ClassifyLabel(label: "a", score: 0.5), ClassifyLabel(label: "b", score: nil)]])
        let cb = try back(c)
        #expect(cb.results.count == 2 && cb.results[1][1].score == nil && cb.results[1][0] == c.results[1][0])
        #expect(abs(cb.results[0][0].score! - 0.9387829899787903) < 1e-7)
        let t = TagResponse(entities: [TagEntity(label: "B-LOC", score: 0.5, index: 0, word: "Ang", start: 0, end: 3),
                                       TagEntity(label: "LOC", score: 0.25, index: nil, word: " Berlin", start: 3, end: 10)])
        #expect(try back(t) == t)
        let tj = JSON.object(t.json()).serialized()
        #expect(tj == #"{"entities":[{"entity":"B-LOC","score":0.5,"index":0,"word":"Ang","start":0,"end":3},{"entity_group":"LOC","score":0.25,"word":" Berlin","start":3,"end":10}]}"#)
        let q = QAResponse(answers: [QAAnswer(answer: " Berlin", score: 0.125, start: 33, end: 40), QAAnswer(answer: "", score: 0, start: 0, end: 0)])
        #expect(try back(q) == q)
        let ch = ChooseResponse(scores: [-0.5, 0.75, nil], best: 1)
        #expect(try back(ch) == ch)
        let em = EmbedResponse(embeddings: [[0.5, -1.25], [0, 2]], dims: 2)
        #expect(try back(em) == em)
    }
}
