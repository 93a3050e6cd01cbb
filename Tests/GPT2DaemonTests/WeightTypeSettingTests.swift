// The `weight_type` / `kv_dtype` settings and the `NAME:TYPE=DIR` model entry (issue #11, point 1 and
// 5): parsing, precedence (a model's own type over the setting), what `models` and `stats` report,
// and a daemon serving the tiny model quantized with a 16-bit KV cache answering like its loader says.
import Foundation
import GPT2Core
import GPT2JSON
import GPT2Wire
import Testing
@testable import GPT2Daemon

@Suite struct WeightTypeSettingTests {
    @Test func modelEntryNamesItsOwnType() throws {
        #expect(ModelSpec.parse("a=/m") == ModelSpec(name: "a", directory: "/m"))
        #expect(ModelSpec.parse("a:int8=/m") == ModelSpec(name: "a", directory: "/m", weightType: .int8))
        #expect(ModelSpec.parse("a:NF4=/m")?.weightType == .nf4)
        #expect(ModelSpec.parse("a:checkpoint=/m") == ModelSpec(name: "a", directory: "/m"))
        #expect(ModelSpec.parse("a:int3=/m") == nil)
        #expect(ModelSpec.parse(":int8=/m") == nil)
        for text in ["a=/m", "a:q4=/m", "b:bfloat16=/x/y"] { #expect(ModelSpec.parse(text)?.text == text) }
    }

    @Test func modelTypeOverridesTheSetting() throws {
        var c = DaemonConfig()
        c.weightType = .bfloat16
        #expect(c.loadOptions(for: ModelSpec(name: "a", directory: "/m")).weightType == .bfloat16)
        #expect(c.loadOptions(for: ModelSpec(name: "a", directory: "/m", weightType: .q4)).weightType == .q4)
        c.weightType = nil
        #expect(c.loadOptions(for: ModelSpec(name: "a", directory: "/m")).weightType == nil)
    }

    @Test func settingsParseFromTheFileAndTheCommandLine() throws {
        #expect(DaemonSettings.weightType.defaultValue == nil)
        #expect(DaemonSettings.kvDType.defaultValue == .float32)
        #expect(DaemonSettings.setting(forKey: "weight_type") != nil)
        #expect(DaemonSettings.setting(forKey: "kv_dtype") != nil)
        #expect(DaemonSettings.matmulPrecision.defaultValue == .highest)
        #expect(DaemonSettings.setting(forKey: "matmul_precision") != nil)
    }

    /// The tiny model served as int8 ("tiny"), as bfloat16 and nf4 at matmul_precision medium ("bf",
    /// "nf") and as
    /// its checkpoint's own F32 ("ref") with a float16 KV
    /// cache: `models` says so, `stats` reports the 16-bit cache's bytes per position (2 layers × keys
    /// and values × 32 channels × 2 B), and greedy generation runs on both.
    @Test func daemonServesTheConfiguredTypes() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config {
            $0.models = [ModelSpec(name: "tiny", directory: TestPaths.tinyModel, weightType: .int8),
                         ModelSpec(name: "ref", directory: TestPaths.tinyModel),
                         ModelSpec(name: "bf", directory: TestPaths.tinyModel, weightType: .bfloat16),
                         ModelSpec(name: "nf", directory: TestPaths.tinyModel, weightType: .nf4)]
            $0.kvDType = .float16
            $0.matmulPrecision = .medium
        })
        defer { Task { await h.stop() } }
        let c = try await h.connect()
        let models = try ModelsResponse(from: try await c.call("models"))
        let byName = Dictionary(uniqueKeysWithValues: models.models.map { ($0.name, $0) })
        #expect(byName["tiny"]?.weightType == "int8")
        #expect(byName["ref"]?.weightType == "float32")
        #expect(byName["tiny"]?.kvDType == "float16")
        #expect(byName["tiny"]?.dtype == "float32")  // what the checkpoint stores
        #expect(byName["bf"]?.matmulPrecision == "medium")    // matmul_precision applies to bfloat16,
        #expect(byName["nf"]?.matmulPrecision == "medium")    // nf4 (and fp4) …
        #expect(byName["tiny"]?.matmulPrecision == "highest") // … and to nothing else
        #expect(byName["ref"]?.matmulPrecision == "highest")
        let stats = try StatsResponse(from: try await c.call("stats"))
        #expect(stats.engine?.kvBytesPerToken == 2 * 2 * 32 * 2)
        for model in ["tiny", "ref", "bf", "nf"] {
            let g = try GenerateResponse(from: try await c.call("generate", id: .string(model), [
                "model": .string(model), "tokens": [464, 3290].jsonArray, "max_new_tokens": 8,
            ]))
            #expect(g.tokens.count == 8)
        }
    }
}
