// The daemon serves tf_model.h5 and flax_model.msgpack directories end to end (issue #13 points 2,
// 3, 8): `models` reports each model's format, and greedy generation from each equals transformers'
// greedy output for their safetensors twin (models/tiny-hub's golden.safetensors).
import Foundation
import GPT2Core
import GPT2Daemon
import GPT2JSON
import GPT2TestSupport
import GPT2Wire
import Testing

@Suite(.serialized) struct TFFlaxServingTests {
    @Test func servesTensorflowAndFlaxDirectoriesAndReportsTheirFormats() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config { c in
            c.models = [
                ModelSpec(name: "tf", directory: TFFlaxFixtures.directory("tf-lm")),
                ModelSpec(name: "flax", directory: TFFlaxFixtures.directory("flax-lm")),
            ]
        })
        defer { Task { await h.stop() } }
        let c = try await h.connect()
        let models = try #require(try await c.call("models")["models"]?.arrayValue)
        let formats = Dictionary(uniqueKeysWithValues: models.map { ($0["name"]!.stringValue!, $0["format"]?.stringValue) })
        #expect(formats == ["tf": "tensorflow", "flax": "flax"])

        let golden = try SafeTensorsFile.open(path: Fixtures.model("tiny-hub") + "/golden.safetensors")
        let prompt = try golden.int64s("greedy.prompt").map { Int($0) }
        let output = try golden.int64s("greedy.output").map { Int($0) }
        for model in ["tf", "flax"] {
            let r = try GenerateResponse(from: try await c.call("generate", id: "g", [
                "model": .string(model), "tokens": prompt.jsonArray, "max_new_tokens": 16,
            ]))
            #expect(r.tokens == Array(output[prompt.count..<(prompt.count + 16)]), "\(model)")
        }
    }
}
