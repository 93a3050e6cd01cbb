// GPT2Client's task-op methods (classify, tag, qa, choose, embed) against the real gpt2d serving the
// task fixtures; answers are checked against the fixtures' golden.json (transformers' pipelines).

import Foundation
import GPT2Client
import GPT2TestSupport
import GPT2Wire
import Testing

/// Tests/Fixtures/tasks/<name>.
func taskFixture(_ name: String) -> String { Fixtures.root + "/Tests/Fixtures/tasks/" + name }

/// The `--model` arguments serving the task fixtures next to the LM-only "tiny" (DaemonProcess.model).
let taskModelArguments: [String] = [
    "--model", "cls=" + taskFixture("seqcls-pad-eos"),
    "--model", "tok=" + taskFixture("tokcls"),
    "--model", "qa=" + taskFixture("qa"),
    "--model", "mc=" + taskFixture("double-heads"),
]

/// A fixture's golden.json (Foundation values: [String: Any], [Any], NSNumber, String).
struct TaskGoldenFile {
    let root: [String: Any]

    init(_ name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: taskFixture(name) + "/golden.json"))
        root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// cases[i] as a dictionary.
    func testCase(_ i: Int) -> [String: Any] { (root["cases"] as! [Any])[i] as! [String: Any] }
    func embed(_ i: Int) -> [String: Any] { (root["embed"] as! [Any])[i] as! [String: Any] }
    /// A case's `expected` as a list of objects (a single object becomes a one-element list).
    func expectedList(_ i: Int) -> [[String: Any]] {
        let e = testCase(i)["expected"]!
        if let list = e as? [[String: Any]] { return list }
        return [e as! [String: Any]]
    }
}

func goldenDouble(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? .nan }

func near(_ a: Double?, _ b: Double, _ tol: Double = 1e-4) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= tol * max(1, abs(b))
}

@Suite("GPT2Client task ops against gpt2d", .serialized)
struct GPT2ClientTaskTests {
    @Test func classifyMatchesGoldens() async throws {
        let g = try TaskGoldenFile("seqcls-pad-eos")
        try await withDaemon(extraArguments: taskModelArguments) { d in
            let c = d.client()
            // case 0: no params — the best label only (single-text convenience).
            let k0 = g.testCase(0)
            let one = try await c.classify(model: "cls", text: k0["text"] as! String)
            let w0 = g.expectedList(0)
            #expect(one.map(\.label) == w0.map { $0["label"] as! String })
            #expect(near(one.first?.score, goldenDouble(w0[0]["score"])))

            // case 9: top_k None → every label, sorted.
            let k9 = g.testCase(9)
            let all = try await c.classify(model: "cls", text: k9["text"] as! String, topK: 0)
            let w9 = g.expectedList(9)
            #expect(all.map(\.label) == w9.map { $0["label"] as! String })
            for (got, want) in zip(all, w9) { #expect(near(got.score, goldenDouble(want["score"]))) }

            // case 36: raw logits.
            let k36 = g.testCase(36)
            let raw = try await c.classify(model: "cls", text: k36["text"] as! String, functionToApply: ClassifyRequest.Function.none)
            let w36 = g.expectedList(36)
            #expect(raw.first?.label == w36[0]["label"] as? String)
            #expect(near(raw.first?.score, goldenDouble(w36[0]["score"])))

            // A batch: one list per text, in order (cases 0…3 share the default params).
            let texts = (0..<4).map { g.testCase($0)["text"] as! String }
            let batch = try await c.classify(model: "cls", texts: texts, topK: 2)
            #expect(batch.results.count == 4)
            for (i, list) in batch.results.enumerated() {
                #expect(list.count == 2)
                #expect(list.first?.label == g.expectedList(i)[0]["label"] as? String)
                #expect(near(list.first?.score, goldenDouble(g.expectedList(i)[0]["score"])))
            }
            await c.close()
        }
    }

    @Test func tagQAChooseEmbedMatchGoldens() async throws {
        try await withDaemon(extraArguments: taskModelArguments) { d in
            let c = d.client()

            // tag, aggregation none (case 0) and simple (case 12): labels, words, offsets exact.
            let tok = try TaskGoldenFile("tokcls")
            for (i, strategy) in [(0, TagRequest.Aggregation.none), (12, .simple)] {
                let k = tok.testCase(i)
                let got = try await c.tag(model: "tok", text: k["text"] as! String, aggregationStrategy: strategy)
                let want = tok.expectedList(i)
                #expect(got.count == want.count, "tag case \(i)")
                for (e, w) in zip(got, want) {
                    #expect(e.label == (w["entity"] ?? w["entity_group"]) as? String)
                    #expect(e.word == w["word"] as? String)
                    #expect(e.start == (w["start"] as? NSNumber)?.intValue)
                    #expect(e.end == (w["end"] as? NSNumber)?.intValue)
                    #expect(e.index == (w["index"] as? NSNumber)?.intValue)
                    #expect(near(e.score, goldenDouble(w["score"])), "tag case \(i): \(String(describing: e.score))")
                }
            }
            // ignore_labels [] keeps the O tokens too (case 6).
            let k6 = tok.testCase(6)
            let kept = try await c.tag(model: "tok", text: k6["text"] as! String, ignoreLabels: [])
            #expect(kept.count == tok.expectedList(6).count)

            // qa: case 0 (max_seq_len 256) and case 4 (top_k 3).
            let qa = try TaskGoldenFile("qa")
            for (i, topK) in [(0, 1), (4, 3)] {
                let k = qa.testCase(i)
                let got = try await c.qa(model: "qa", question: k["question"] as! String, context: k["context"] as! String,
                                         topK: topK, maxSeqLen: 256)
                let want = qa.expectedList(i)
                #expect(got.count == want.count, "qa case \(i)")
                for (a, w) in zip(got, want) {
                    #expect(a.answer == w["answer"] as? String)
                    #expect(a.start == (w["start"] as? NSNumber)?.intValue && a.end == (w["end"] as? NSNumber)?.intValue)
                    #expect(near(a.score, goldenDouble(w["score"])), "qa case \(i)")
                }
            }

            // choose: default token (case 0) and explicit mc_token_ids (case 1).
            let mc = try TaskGoldenFile("double-heads")
            for i in [0, 1] {
                let k = mc.testCase(i)
                let params = k["params"] as! [String: Any]
                let idx = (params["mc_token_ids"] as? [NSNumber])?.map(\.intValue)
                let got = try await c.choose(model: "mc", choices: k["choices"] as! [String], mcTokenIndex: idx)
                let want = k["expected"] as! [String: Any]
                #expect(got.best == (want["best"] as? NSNumber)?.intValue)
                let scores = (want["scores"] as! [NSNumber]).map(\.doubleValue)
                #expect(got.scores.count == scores.count)
                for (s, w) in zip(got.scores, scores) { #expect(near(s, w)) }
            }

            // embed: "Hello world" last / mean / normalized on the classifier's checkpoint.
            let cls = try TaskGoldenFile("seqcls-pad-eos")
            let e = cls.embed(0)
            let text = e["text"] as! String
            for (pooling, normalize, key) in [(EmbedRequest.Pooling.last, false, "last"), (.mean, false, "mean"),
                                              (.mean, true, "mean_normalized")] {
                let v = try await c.embed(model: "cls", text: text, pooling: pooling, normalize: normalize)
                let want = (e[key] as! [NSNumber]).map(\.doubleValue)
                #expect(v.count == want.count, "embed \(key)")
                #expect(zip(v, want).allSatisfy { near(Double($0), $1) }, "embed \(key)")
            }
            let batch = try await c.embed(model: "cls", texts: [text, "Goodbye"])
            #expect(batch.embeddings.count == 2)
            #expect(batch.dims == batch.embeddings[0].count)
            // every model can embed, the LM-only one too
            let lm = try await c.embed(model: DaemonProcess.model, text: text)
            #expect(lm.count == 32)
            await c.close()
        }
    }

    @Test func unsupportedTaskIsTyped() async throws {
        try await withDaemon(extraArguments: taskModelArguments) { d in
            let c = d.client()
            let lm = DaemonProcess.model
            let calls: [(String, () async throws -> Void)] = [
                ("classify", { _ = try await c.classify(model: lm, text: "hi") }),
                ("tag", { _ = try await c.tag(model: lm, text: "hi") }),
                ("qa", { _ = try await c.qa(model: lm, question: "who?", context: "me") }),
                ("choose", { _ = try await c.choose(model: lm, choices: ["a", "b"]) }),
                ("classify on the tagger", { _ = try await c.classify(model: "tok", text: "hi") }),
            ]
            for (what, call) in calls {
                do {
                    try await call()
                    Issue.record("\(what): expected unsupported_task, got a result")
                } catch let GPT2ClientError.daemon(e) {
                    #expect(e.code == .unsupportedTask, "\(what): \(e)")
                } catch {
                    Issue.record("\(what): expected unsupported_task, got \(error)")
                }
            }
            // the connection stays usable
            let h = try await c.health()
            #expect(h.status == "ok")
            await c.close()
        }
    }
}
