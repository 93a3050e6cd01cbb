// The daemon serves bitsandbytes-saved checkpoints (issue #13 points 4, 8): Tests/Fixtures/bnb's nf4,
// fp4 and int8 models load through the normal model list, and `models` reports each one's format
// (safetensors), its served weight type (the checkpoint's own) and `quantization: bitsandbytes`,
// and each generates. (A float checkpoint's `models` entry has no `quantization`: ModelQuantizationFieldTests.)
import Foundation
import GPT2Daemon
import GPT2JSON
import GPT2TestSupport
import GPT2Wire
import Testing

@Suite(.serialized) struct BitsandbytesServingTests {
    static func directory(_ name: String) -> String { Fixtures.root + "/Tests/Fixtures/bnb/" + name }

    @Test func modelsReportsTheFormatWeightTypeAndQuantization() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config { c in
            c.models = ["nf4-double", "fp4", "int8"].map { ModelSpec(name: $0, directory: Self.directory($0)) }
        })
        defer { Task { await h.stop() } }
        let c = try await h.connect()
        let models = try #require(try await c.call("models")["models"]?.arrayValue)
        var seen: [String: [String?]] = [:]
        for m in models {
            seen[m["name"]!.stringValue!] = ["format", "weight_type", "quantization"].map { m[$0]?.stringValue }
        }
        #expect(seen == [
            "nf4-double": ["safetensors", "nf4", "bitsandbytes"], "fp4": ["safetensors", "fp4", "bitsandbytes"],
            "int8": ["safetensors", "int8", "bitsandbytes"],
        ])
        // Each one generates (token ids below the fixtures' 512-token vocabulary).
        for name in seen.keys.sorted() {
            let r = try GenerateResponse(from: try await c.call("generate", id: "g", [
                "model": .string(name), "tokens": [464, 318, 257].jsonArray, "max_new_tokens": 3,
            ]))
            #expect(r.tokens.count == 3 && r.tokens.allSatisfy { $0 < 512 }, "\(name): \(r.tokens)")
        }
    }
}
