// The daemon serves a pytorch_model.bin directory end to end (issue #13 point 1): the
// sequence-classification fixture written by torch.save (Tests/Fixtures/pytorch/seqcls-zip) answers
// classify like transformers' pipeline (its twin's goldens), `models` reports each model's format.
import Foundation
import GPT2Daemon
import GPT2JSON
import GPT2TestSupport
import GPT2Wire
import Testing

@Suite(.serialized) struct PyTorchServingTests {
    @Test func servesAPytorchDirectoryAndReportsItsFormat() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config { c in
            c.models = [
                ModelSpec(name: "pt", directory: PyTorchFixtures.directory("seqcls-zip")),
                ModelSpec(name: "st", directory: TaskGolden.directory("seqcls-pad-eos")),
            ]
        })
        defer { Task { await h.stop() } }
        let c = try await h.connect()
        let models = try #require(try await c.call("models")["models"]?.arrayValue)
        let formats = Dictionary(uniqueKeysWithValues: models.map { ($0["name"]!.stringValue!, $0["format"]?.stringValue) })
        #expect(formats == ["pt": "pytorch", "st": "safetensors"])

        let g = try TaskGolden("seqcls-pad-eos")
        var n = 0
        for k in g.cases where k["task"]?.stringValue == "classify" && k["text"] != nil && n < 10 {
            var f = JSONObject()
            for (key, v) in k["params"]!.objectValue! { f[key] = key == "top_k" && v.isNull ? .int(0) : v }
            f["text"] = k["text"]!
            f["model"] = "pt"
            let pt = try #require(try await c.call("classify", f)["results"]?.arrayValue?.first)
            f["model"] = "st"
            let st = try #require(try await c.call("classify", f)["results"]?.arrayValue?.first)
            #expect(pt == st, "\(k["text"]!.serialized())")
            let want = k["expected"]!.arrayValue ?? [k["expected"]!]
            let got = pt.arrayValue ?? []
            #expect(got.map { $0["label"]?.stringValue } == want.map { $0["label"]?.stringValue })
            for (a, b) in zip(got, want) {
                let x = a["score"]?.doubleValue ?? .nan, y = b["score"]?.doubleValue ?? .nan
                #expect(abs(x - y) <= 1e-4 * max(1, abs(y)), "\(x) vs \(y)")
            }
            n += 1
        }
        #expect(n == 10)
    }
}
