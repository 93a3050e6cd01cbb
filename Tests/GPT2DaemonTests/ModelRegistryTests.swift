// ModelRegistryTests — the registry's states (ModelRegistry.swift: loading, serving, draining, gone)
// and the codes each answers, and the diff SIGHUP applies (ModelListChange.swift). No compute thread.

import Foundation
import GPT2Core
@testable import GPT2Daemon
import Testing

@Suite struct ModelRegistryTests {
    static func tinyModel(_ name: String) throws -> ServedModel {
        try ServedModel.load(name: name, directory: TestPaths.tinyModel, budget: KVMemoryBudget(limitBytes: 1 << 20), blockTokens: 16)
    }

    /// The code `body` throws (nil: it did not throw, or threw something else).
    private func code(_ body: () throws -> Void) -> EngineError.Code? {
        do { try body(); return nil } catch { return (error as? EngineError)?.code }
    }

    @Test func eachStateAnswersWithItsCode() throws {
        let a = try Self.tinyModel("a")
        let r = ModelRegistry(models: [a])
        #expect(r.serving.map(\.name) == ["a"] && r.model(named: "a") === a)
        #expect(code { _ = try r.lookup("b") } == .unknownModel)

        try r.reserve("b")
        #expect(code { _ = try r.lookup("b") } == .modelUnavailable)
        #expect(code { try r.reserve("b") } == .modelExists)
        #expect(code { try r.reserve("a") } == .modelExists)
        #expect(r.model(named: "b") == nil && r.serving.map(\.name) == ["a"])
        r.cancelReservation("b")
        #expect(code { _ = try r.lookup("b") } == .unknownModel)

        try r.reserve("b")
        let b = try Self.tinyModel("b")
        r.install(b)
        #expect(r.serving.map(\.name) == ["a", "b"] && r.sessionNames == ["a", "b"])
        #expect(try r.lookup("b") === b)

        #expect(try r.beginDrain("a") === a)
        #expect(code { _ = try r.lookup("a") } == .modelUnavailable)
        #expect(code { _ = try r.beginDrain("a") } == .modelUnavailable)
        #expect(code { try r.reserve("a") } == .modelExists)
        #expect(r.serving.map(\.name) == ["b"] && r.all.map(\.name) == ["a", "b"])
        r.remove(a)
        #expect(code { _ = try r.lookup("a") } == .unknownModel)
        #expect(code { _ = try r.beginDrain("a") } == .unknownModel)
        #expect(r.all.map(\.name) == ["b"])

        // Replacing: the new model takes the name at once, the old one is handed back to drain.
        let b2 = try Self.tinyModel("b")
        #expect(r.replace(with: b2) === b)
        #expect(try r.lookup("b") === b2)
        #expect(b2.serial > b.serial)
    }

    @Test func theModelListDiffIsByName() {
        let a = ModelSpec(name: "a", directory: "/m/a"), b = ModelSpec(name: "b", directory: "/m/b")
        let c = ModelSpec(name: "c", directory: "/m/c")
        #expect(ModelListChange(old: [a, b], new: [a, b]).isEmpty)
        let d = ModelListChange(old: [a, b], new: [c, a, ModelSpec(name: "b", directory: "/m/b2")])
        #expect(d.added == [c] && d.removed.isEmpty && d.changed == [ModelSpec(name: "b", directory: "/m/b2")])
        let t = ModelListChange(old: [a, b], new: [ModelSpec(name: "a", directory: "/m/a", weightType: .int8)])
        #expect(t.added.isEmpty && t.removed == [b] && t.changed.map(\.weightType) == [.int8])
        let k = ModelListChange(old: [a], new: [ModelSpec(name: "a", directory: "/m/a", keepAliveSeconds: 30)])
        #expect(k.changed.isEmpty && k.keepAliveChanged.map(\.keepAliveSeconds) == [30] && !k.isEmpty)
    }

    /// `NAME[:TYPE][@SECONDS]=DIR`: the keep_alive after the type; the text reads back the same.
    @Test func aModelEntryMayNameItsKeepAlive() throws {
        let spec = try #require(ModelSpec.parse("gpt2:int8@300=/m/gpt2"))
        #expect(spec == ModelSpec(name: "gpt2", directory: "/m/gpt2", weightType: .int8, keepAliveSeconds: 300))
        #expect(spec.text == "gpt2:int8@300=/m/gpt2" && ModelSpec.parse(spec.text) == spec)
        #expect(ModelSpec.parse("g@0.5=/m")?.keepAliveSeconds == 0.5)
        #expect(ModelSpec.parse("g@1.5=/m")?.text == "g@1.5=/m")
        for bad in ["g@0=/m", "g@-1=/m", "g@x=/m", "g@=/m", "@5=/m"] { #expect(ModelSpec.parse(bad) == nil, "\(bad)") }
        #expect(!ModelSpec.isValidName("a@b") && !ModelSpec.isValidName("a:b") && ModelSpec.isValidName("gpt2-medium"))
    }
}
