// The task ops end to end over the socket: an in-process daemon serving the task fixtures answers
// classify / tag / qa / choose / embed exactly like transformers' pipelines (goldens in
// Tests/Fixtures/tasks/*/golden.json), refuses models without the head, and lists tasks and labels.
import Foundation
import GPT2Daemon
import GPT2JSON
import GPT2TestSupport
import GPT2Wire
import Testing

/// One daemon with every task fixture, shared by the task-op tests.
private actor TaskDaemon {
    static let instance = TaskDaemon()
    private var harness: DaemonHarness?
    func get() async throws -> DaemonHarness {
        if let harness { return harness }
        let h = try await DaemonHarness.start(DaemonHarness.config { c in
            c.models = [
                ModelSpec(name: "cls", directory: TaskGolden.directory("seqcls-pad-eos")),
                ModelSpec(name: "multi", directory: TaskGolden.directory("seqcls-multilabel")),
                ModelSpec(name: "tok", directory: TaskGolden.directory("tokcls")),
                ModelSpec(name: "qa", directory: TaskGolden.directory("qa")),
                ModelSpec(name: "mc", directory: TaskGolden.directory("double-heads")),
                ModelSpec(name: "lm", directory: TestPaths.tinyModel),
            ]
        })
        harness = h
        return h
    }
}

/// A fixture's golden.json, parsed with GPT2JSON (so params can be sent as they are).
struct TaskGolden {
    let golden: JSONObject

    static func directory(_ name: String) -> String { Fixtures.root + "/Tests/Fixtures/tasks/" + name }

    init(_ name: String) throws {
        let data = try #require(FileManager.default.contents(atPath: Self.directory(name) + "/golden.json"))
        golden = try #require(try JSON.parse(Array(data)).objectValue)
    }

    var cases: [JSONObject] { golden["cases"]!.arrayValue!.map { $0.objectValue! } }
    var embed: [JSONObject] { golden["embed"]!.arrayValue!.map { $0.objectValue! } }
}

private func num(_ v: JSON?) -> Double { v?.doubleValue ?? .nan }

private func close(_ a: Double, _ b: Double, _ tol: Double = 1e-4) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }

/// One label list against the pipeline's output (a single dict when top_k was not passed, else a list).
private func expectLabels(_ got: JSON?, _ want: JSON, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let wantList = want.arrayValue ?? [want]
    let gotList = got?.arrayValue ?? []
    #expect(gotList.count == wantList.count, "\(what): \(gotList.count) vs \(wantList.count) labels", sourceLocation: sourceLocation)
    for (g, w) in zip(gotList, wantList) {
        #expect(g["label"]?.stringValue == w["label"]?.stringValue, "\(what)", sourceLocation: sourceLocation)
        #expect(close(num(g["score"]), num(w["score"])), "\(what): \(num(g["score"])) vs \(num(w["score"]))", sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct TaskOpsTests {
    func client() async throws -> TestClient { try await TaskDaemon.instance.get().connect() }

    /// The pipeline's params → our request fields (top_k None → 0 = all labels).
    func classifyFields(_ params: JSONObject) -> JSONObject {
        var o = JSONObject()
        for (k, v) in params {
            if k == "top_k" { o["top_k"] = v.isNull ? .int(0) : v } else { o[k] = v }
        }
        return o
    }

    @Test("classify: every golden case, one text per request")
    func classifySingle() async throws {
        let c = try await client()
        for name in ["seqcls-pad-eos", "seqcls-multilabel"] {
            let g = try TaskGolden(name)
            let model = name == "seqcls-pad-eos" ? "cls" : "multi"
            var n = 0
            for k in g.cases where k["task"]?.stringValue == "classify" && k["text"] != nil {
                var f = classifyFields(k["params"]!.objectValue!)
                f["model"] = .string(model)
                f["text"] = k["text"]!
                let body = try await c.call("classify", f)
                let results = try #require(body["results"]?.arrayValue)
                #expect(results.count == 1)
                expectLabels(results.first, k["expected"]!, "\(model) \(k["text"]!.serialized()) \(k["params"]!.serialized())")
                n += 1
            }
            #expect(n >= 40, "\(name): \(n) cases")
        }
    }

    @Test("classify: a batch of texts answers one list per text, in order, for each parameter set")
    func classifyBatch() async throws {
        let c = try await client()
        let g = try TaskGolden("seqcls-pad-eos")
        var groups: [String: [JSONObject]] = [:]
        for k in g.cases where k["task"]?.stringValue == "classify" && k["text"] != nil {
            groups[k["params"]!.serialized(), default: []].append(k)
        }
        #expect(groups.count >= 5)
        // the pipeline's own batch goldens (a list of texts → one answer per text)
        var batches = 0
        for k in g.cases where k["task"]?.stringValue == "classify" && k["texts"] != nil {
            var f = classifyFields(k["params"]!.objectValue!)
            f["model"] = "cls"
            f["texts"] = k["texts"]!
            let results = try #require(try await c.call("classify", f)["results"]?.arrayValue)
            let want = k["expected"]!.arrayValue!
            #expect(results.count == want.count)
            for (r, w) in zip(results, want) { expectLabels(r, w, "pipeline batch \(k["params"]!.serialized())") }
            batches += 1
        }
        #expect(batches >= 1)
        for (params, cases) in groups {
            var f = classifyFields(cases[0]["params"]!.objectValue!)
            f["model"] = "cls"
            f["texts"] = .array(cases.map { $0["text"]! })
            let body = try await c.call("classify", f)
            let results = try #require(body["results"]?.arrayValue)
            #expect(results.count == cases.count)
            for (r, k) in zip(results, cases) { expectLabels(r, k["expected"]!, "batch \(params) \(k["text"]!.serialized())") }
        }
    }

    @Test("tag: none, simple, first, average, max, ignore_labels, truncation and stride goldens")
    func tag() async throws {
        let c = try await client()
        let g = try TaskGolden("tokcls")
        var seen: Set<String> = []
        var strided = 0
        for k in g.cases where k["task"]?.stringValue == "tag" {
            let params = k["params"]!.objectValue!
            var f: JSONObject = ["model": "tok", "text": k["text"]!]
            for (key, v) in params { f[key == "model_max_length" ? "max_length" : key] = v }
            if params["stride"] != nil { strided += 1 }
            let agg = params["aggregation_strategy"]!.stringValue!
            seen.insert(agg)
            let what = "\(k["text"]!.serialized()) \(k["params"]!.serialized())"
            let body = try await c.call("tag", f)
            let got = try #require(body["entities"]?.arrayValue)
            let want = k["expected"]!.arrayValue!
            #expect(got.count == want.count, "\(what): \(got.count) vs \(want.count) entities")
            for (e, w) in zip(got, want) {
                let keys = e.objectValue!.keys.sorted(), wantKeys = w.objectValue!.keys.sorted()
                #expect(keys == wantKeys, "\(what)")
                for key in ["entity", "entity_group", "word"] { #expect(e[key]?.stringValue == w[key]?.stringValue, "\(what) \(key)") }
                for key in ["index", "start", "end"] { #expect(e[key]?.intValue == w[key]?.intValue, "\(what) \(key)") }
                #expect(close(num(e["score"]), num(w["score"])), "\(what) score")
            }
        }
        #expect(seen == ["none", "simple", "first", "average", "max"])
        #expect(strided == 8)
    }

    @Test("qa: top_k 1 and 3, doc_stride chunking, max_answer_len, impossible answer, align_to_words goldens")
    func qa() async throws {
        let c = try await client()
        let g = try TaskGolden("qa")
        var chunked = 0
        for k in g.cases where k["task"]?.stringValue == "qa" {
            let params = k["params"]!.objectValue!
            var f: JSONObject = ["model": "qa", "question": k["question"]!, "context": k["context"]!]
            for (key, v) in params { f[key] = v }
            if params["doc_stride"] != nil { chunked += 1 }
            let what = "\(k["question"]!.serialized()) \(k["params"]!.serialized())"
            let body = try await c.call("qa", f)
            let got = try #require(body["answers"]?.arrayValue)
            let want = k["expected"]!.arrayValue ?? [k["expected"]!]
            #expect(got.count == want.count, "\(what): \(got.count) vs \(want.count) answers")
            for (a, w) in zip(got, want) {
                #expect(a["answer"]?.stringValue == w["answer"]?.stringValue, "\(what)")
                #expect(a["start"]?.intValue == w["start"]?.intValue && a["end"]?.intValue == w["end"]?.intValue, "\(what)")
                #expect(close(num(a["score"]), num(w["score"])), "\(what): \(num(a["score"])) vs \(num(w["score"]))")
            }
        }
        #expect(chunked >= 8)
    }

    @Test("choose: mc_logits and best, default and explicit mc token indices; prompt is prepended as text")
    func choose() async throws {
        let c = try await client()
        let g = try TaskGolden("double-heads")
        let cases = g.cases.filter { $0["task"]?.stringValue == "choose" }
        #expect(cases.count == 2)
        for k in cases {
            var f: JSONObject = ["model": "mc", "choices": k["choices"]!]
            if let ids = k["params"]?["mc_token_ids"] { f["mc_token_index"] = ids }
            let body = try await c.call("choose", f)
            let want = k["expected"]!
            let scores = try #require(body["scores"]?.arrayValue)
            let wantScores = want["scores"]!.arrayValue!
            #expect(scores.count == wantScores.count)
            for (s, w) in zip(scores, wantScores) { #expect(close(num(s), num(w)), "\(num(s)) vs \(num(w))") }
            #expect(body["best"]?.intValue == want["best"]?.intValue)
        }
        // "prompt" + choice is the same text as the choice written out
        let choices = cases[0]["choices"]!.arrayValue!.map { $0.stringValue! }
        let split = try await c.call("choose", ["model": "mc", "prompt": "The cat",
                                                "choices": .array(choices.map { .string($0.hasPrefix("The cat") ? String($0.dropFirst(7)) : "x") })])
        let whole = try await c.call("choose", ["model": "mc",
                                                "choices": .array(choices.map { .string($0.hasPrefix("The cat") ? $0 : "The catx") })])
        let a = try #require(split["scores"]?.arrayValue).map(num), b = try #require(whole["scores"]?.arrayValue).map(num)
        #expect(a.count == 3 && zip(a, b).allSatisfy { close($0, $1) } && split["best"] == whole["best"])
        let bad = try await c.callError("choose", ["model": "mc", "choices": ["a", "b"], "mc_token_index": [0, 5]])
        #expect(bad.code == .invalidField && bad.field == "mc_token_index")
    }

    @Test("embed: last / mean, raw and normalized, single and batched, on a task model and the LM")
    func embed() async throws {
        let c = try await client()
        let g = try TaskGolden("seqcls-pad-eos")
        let texts = g.embed.map { $0["text"]! }
        for pooling in ["last", "mean"] {
            for normalize in [false, true] {
                let body = try await c.call("embed", ["model": "cls", "texts": .array(texts), "pooling": .string(pooling),
                                                      "normalize": .bool(normalize)])
                #expect(body["dims"]?.intValue == 16)
                let rows = try #require(body["embeddings"]?.arrayValue)
                #expect(rows.count == texts.count)
                for (row, e) in zip(rows, g.embed) {
                    let want = e[normalize ? pooling + "_normalized" : pooling]!.arrayValue!
                    let got = row.arrayValue!
                    #expect(got.count == want.count)
                    let worst = zip(got, want).map { abs(num($0) - num($1)) / max(1, abs(num($1))) }.max() ?? 1
                    #expect(worst <= 1e-4, "\(pooling) normalize=\(normalize) \(e["text"]!.serialized()): \(worst)")
                }
            }
        }
        // default pooling is "last", unnormalized; "text" answers one embedding
        let one = try await c.call("embed", ["model": "cls", "text": texts[0]])
        let want = g.embed[0]["last"]!.arrayValue!
        let got = try #require(one["embeddings"]?.arrayValue?.first?.arrayValue)
        #expect(one["embeddings"]?.arrayValue?.count == 1)
        #expect(zip(got, want).allSatisfy { close(num($0), num($1)) })
        let lm = try await c.call("embed", ["model": "lm", "text": "Hello world", "normalize": true])
        let v = try #require(lm["embeddings"]?.arrayValue?.first?.arrayValue).map(num)
        #expect(lm["dims"]?.intValue == Int64(v.count) && v.count > 0)
        #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
    }

    @Test("a model without the head answers unsupported_task naming the task and the model")
    func unsupportedTask() async throws {
        let c = try await client()
        let asks: [(String, JSONObject)] = [
            ("classify", ["text": "hi"]), ("tag", ["text": "hi"]), ("qa", ["question": "q?", "context": "c."]),
            ("choose", ["choices": ["a", "b"]]),
        ]
        for (op, fields) in asks {
            var f = fields
            f["model"] = "lm"
            let e = try await c.callError(op, f)
            #expect(e.code == .unsupportedTask, "\(op): \(e)")
            #expect(e.message.contains(op) && e.message.contains("'lm'"), "\(e.message)")
        }
        var f: JSONObject = ["model": "tok", "text": "hi"]
        #expect(try await c.callError("classify", f).code == .unsupportedTask)
        f = ["model": "cls", "text": "hi"]
        #expect(try await c.callError("tag", f).code == .unsupportedTask)
        #expect(try await c.callError("embed", ["model": "nope", "text": "hi"]).code == .unknownModel)
    }

    @Test("too long inputs: context_overflow; qa chunks long contexts instead; field errors name the field")
    func limits() async throws {
        let c = try await client()
        let long = String(repeating: "word ", count: 300)   // 300 tokens > n_positions 256
        #expect(try await c.callError("classify", ["model": "cls", "texts": ["ok", .string(long)]]).code == .contextOverflow)
        #expect(try await c.callError("embed", ["model": "cls", "text": .string(long)]).code == .contextOverflow)
        #expect(try await c.callError("choose", ["model": "mc", "choices": ["a", .string(long)]]).code == .contextOverflow)
        let answers = try await c.call("qa", ["model": "qa", "question": "Which word?", "context": .string(long)])
        #expect(answers["answers"]?.arrayValue?.count == 1)
        let tagged = try await c.call("tag", ["model": "tok", "text": .string(long), "aggregation_strategy": "simple", "ignore_labels": []])
        #expect(tagged["entities"]?.arrayValue?.last?["end"]?.intValue == Int64(256 * 5 - 1))   // truncated to n_positions
        let strided = try await c.call("tag", ["model": "tok", "text": .string(long), "aggregation_strategy": "simple",
                                                "ignore_labels": [], "stride": 16])
        #expect(strided["entities"]?.arrayValue?.last?["end"]?.intValue == Int64(long.unicodeScalars.count))   // every window
        let question = String(repeating: "why ", count: 300)
        #expect(try await c.callError("qa", ["model": "qa", "question": .string(question), "context": "c"]).code == .contextOverflow)
        var e = try await c.callError("qa", ["model": "qa", "question": "q", "context": "c", "top_k": 0])
        #expect(e.code == .invalidField && e.field == "top_k")
        e = try await c.callError("tag", ["model": "tok", "text": "a", "stride": 2])
        #expect(e.code == .invalidField && e.field == "stride")
        e = try await c.callError("classify", ["model": "cls"])
        #expect(e.code == .missingField && e.field == "text")
        e = try await c.callError("embed", ["model": "cls", "text": "a", "pooling": "max"])
        #expect(e.code == .invalidField && e.field == "pooling")
    }

    @Test("pipelined task requests on one connection each get their own answer, equal to the one run alone")
    func pipelined() async throws {
        let c = try await client()
        let asks: [(String, JSONObject)] = [
            ("classify", ["model": "cls", "texts": ["I love this movie! 🤗", "a"], "top_k": 0]),
            ("embed", ["model": "cls", "text": "Hello world", "pooling": "mean"]),
            ("qa", ["model": "qa", "question": "Who?", "context": "Paris is nice.", "top_k": 3]),
            ("tag", ["model": "tok", "text": "My name is Wolfgang and I live in Berlin", "aggregation_strategy": "first"]),
            ("choose", ["model": "mc", "choices": ["The cat sat on the mat.", "  日本語  "]]),
            ("classify", ["model": "multi", "text": "The end.<|endoftext|>"]),
        ]
        var alone: [JSONObject] = []
        for (i, (op, f)) in asks.enumerated() { alone.append(try await c.call(op, id: .int(Int64(100 + i)), f)) }
        for (i, (op, f)) in asks.enumerated() {
            var o: JSONObject = ["id": .int(Int64(200 + i)), "op": .string(op)]
            for (k, v) in f { o[k] = v }
            try await c.send(JSON.object(o).serialized())
        }
        for i in asks.indices.reversed() {
            let lines = try await c.readUntilFinal(id: .int(Int64(200 + i)))
            guard case .result(let body) = lines.last!.kind else { Issue.record("\(asks[i].0): \(lines)"); continue }
            // same keys, labels, spans; numbers within float tolerance (batch composition may differ)
            #expect(body.keys.sorted() == alone[i].keys.sorted(), "\(asks[i].0)")
            func flat(_ j: JSON) -> [String] {
                switch j {
                case .array(let a): return a.flatMap(flat)
                case .object(let o): return o.keys.sorted().flatMap { [$0] + flat(o[$0]!) }
                case .double: return []
                default: return [j.serialized()]
                }
            }
            #expect(flat(.object(body)) == flat(.object(alone[i])), "\(asks[i].0)")
        }
    }

    @Test("models lists each model's tasks and labels")
    func models() async throws {
        let c = try await client()
        let body = try await c.call("models")
        let infos = try ModelsResponse(from: body).models
        let byName = Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0) })
        #expect(byName["cls"]?.tasks == ["generate", "score", "classify", "embed"])
        #expect(byName["cls"]?.labels == ["negative", "neutral", "positive"])
        #expect(byName["multi"]?.labels == ["sports", "politics", "tech", "food"])
        #expect(byName["tok"]?.tasks == ["generate", "score", "tag", "embed"])
        #expect(byName["tok"]?.labels == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "MISC"])
        #expect(byName["qa"]?.tasks == ["generate", "score", "qa", "embed"])
        #expect(byName["qa"]?.labels == [])
        #expect(byName["mc"]?.tasks == ["generate", "score", "choose", "embed"])
        #expect(byName["lm"]?.tasks == ["generate", "score", "embed"])
        #expect(byName["lm"]?.labels == [])
    }
}
