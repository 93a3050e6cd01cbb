// ModelLoadUnloadTests — models.load / models.unload on an in-process daemon (Engine+Models.swift):
// only root and admin_group may use them; a loaded model serves the fixture's greedy golden; the
// errors have their codes; loading and unloading while another model serves loses or changes none of
// its replies; an unload waits for running requests (or ends them with model_unavailable at the drain
// time) and gives back the model's KV blocks and its weights; a session of an unloaded model works
// again once the model is loaded again; under keep_alive, tokenize / detokenize / task ops / HTTP wait for the
// reload as generate does. The compute thread is held still (a chore that waits on a
// semaphore) where a test needs a request to be in flight at a given moment.

import Foundation
import GPT2Core
@testable import GPT2Daemon
import GPT2JSON
import GPT2Systemd
import GPT2Wire
import GPT2TestSupport
import Testing

@Suite struct ModelLoadUnloadTests {
    static let tiny: JSON = .string(TestPaths.tinyModel)


    /// The fixture's greedy prompt and the 64 tokens transformers generates after it.
    private func golden() throws -> (prompt: [Int], expected: [Int]) {
        let prompt = try Golden.ints("greedy.prompt")
        return (prompt, Array(try Golden.ints("greedy.output")[prompt.count...]))
    }

    private func greedy(_ c: TestClient, _ model: String, id: RequestID) async throws -> [Int] {
        let (prompt, _) = try golden()
        return try GenerateResponse(from: try await c.call("generate", id: id, [
            "model": .string(model), "tokens": prompt.jsonArray, "max_new_tokens": 64,
        ])).tokens
    }

    /// A line of `{"id":…,"op":"generate",…}` for the golden prompt on `model`.
    private func generateLine(_ id: String, model: String) throws -> String {
        let tokens = try golden().prompt.jsonArray.serialized()
        return #"{"id":"\#(id)","op":"generate","model":"\#(model)","tokens":\#(tokens),"max_new_tokens":64}"#
    }

    @Test func onlyRootAndTheAdminGroupMayLoadOrUnload() async throws {
        // While `stranger` is set, a new connection is uid 4242 (neither root nor in admin_group).
        let stranger = Locked(false)
        let h = try await DaemonHarness.start(credentialsFilter: { real in
            stranger.current ? PeerCredentials(pid: real.pid, uid: 4242, gid: 4242) : real
        })
        stranger.withLock { $0 = true }
        let other = try await h.connect()
        let load = try await other.callError("models.load", ["name": "extra", "directory": Self.tiny])
        stranger.withLock { $0 = false }
        #expect(load.code == .forbidden)
        #expect(load.message == ModelAdmin.forbiddenMessage)
        #expect(try await other.callError("models.unload", ["name": "tiny"]).code == .forbidden)
        #expect(h.daemon.engine.models.map(\.name) == ["tiny"])
        #expect(try await greedy(other, "tiny", id: 1) == (try golden().expected))
        await h.stop()
    }

    @Test func aLoadedModelServesAndAnUnloadedOneIsGone() async throws {
        let h = try await DaemonHarness.start()
        let c = try await h.connect()
        let expected = try golden().expected
        let loaded = try ModelLoadResponse(from: try await c.call("models.load", ["name": "extra", "directory": Self.tiny]))
        #expect(loaded.model.name == "extra" && loaded.model.vocabSize == 50257 && loaded.model.weightType == "float32")
        #expect(loaded.loadSeconds > 0)
        #expect(try ModelsResponse(from: try await c.call("models")).models.map(\.name) == ["tiny", "extra"])
        #expect(try await greedy(c, "extra", id: 1) == expected)

        // Stable codes; a failed load leaves nothing behind.
        #expect(try await c.callError("models.load", ["name": "extra", "directory": Self.tiny]).code == .modelExists)
        #expect(try await c.callError("models.load", ["name": "tiny", "directory": Self.tiny]).code == .modelExists)
        let bad = try await c.callError("models.load", ["name": "nowhere", "directory": "/nonexistent/gpt2d-model"])
        #expect(bad.code == .modelLoadFailed && bad.field == "directory")
        #expect(bad.message.contains("/nonexistent/gpt2d-model"))
        #expect(try await c.callError("models.load", ["name": "a b", "directory": Self.tiny]).field == "name")
        let type = try await c.callError("models.load", ["name": "q", "directory": Self.tiny, "weight_type": "int3"])
        #expect(type.code == .invalidField && type.field == "weight_type")
        #expect(try await c.callError("models.load", ["name": "q"]).code == .missingField)
        #expect(try await c.callError("models.unload", ["name": "tiny", "drain_timeout_s": -1]).code == .invalidField)
        #expect(h.daemon.engine.models.map(\.name) == ["tiny", "extra"])
        #expect(try await c.callError("generate", ["model": "nowhere", "prompt": "x"]).code == .unknownModel)

        // The answer comes once the model (and with it its weights) is gone, not only the engine's references.
        weak let extraModel: ServedModel? = h.daemon.engine.models.first { $0.name == "extra" }
        #expect(extraModel != nil)
        let u = try ModelUnloadResponse(from: try await c.call("models.unload", ["name": "extra"]))
        #expect(u.name == "extra" && u.unloaded && u.stoppedRequests == 0)
        #expect(extraModel == nil, "models.unload answered while the model was still referenced")
        #expect(try await c.callError("generate", ["model": "extra", "prompt": "x"]).code == .unknownModel)
        #expect(try await c.callError("models.unload", ["name": "extra"]).code == .unknownModel)
        #expect(try ModelsResponse(from: try await c.call("models")).models.map(\.name) == ["tiny"])
        #expect(try await greedy(c, "tiny", id: 2) == expected)

        // The name is free again; weight_type applies to the new load.
        let again = try ModelLoadResponse(from: try await c.call("models.load", [
            "name": "extra", "directory": Self.tiny, "weight_type": "bfloat16",
        ]))
        #expect(again.model.weightType == "bfloat16")
        await h.stop()
    }

    /// Three clients keep the fixture busy while a fourth loads, uses and unloads a second model twice:
    /// every reply of both models is the greedy golden.
    @Test func loadingAndUnloadingLoseNoReplyOfTheOtherModel() async throws {
        let h = try await DaemonHarness.start()
        let expected = try golden().expected
        try await withThrowingTaskGroup(of: [[Int]].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let c = try await h.connect()
                    var out: [[Int]] = []
                    for i in 0..<4 { out.append(try await greedy(c, "tiny", id: .int(Int64(i)))) }
                    return out
                }
            }
            group.addTask {
                let admin = try await h.connect()
                var out: [[Int]] = []
                for round in 0..<2 {
                    _ = try await admin.call("models.load", id: .int(Int64(10 * round)), ["name": "extra", "directory": Self.tiny])
                    out.append(try await greedy(admin, "extra", id: .int(Int64(10 * round + 1))))
                    _ = try await admin.call("models.unload", id: .int(Int64(10 * round + 2)), ["name": "extra"])
                }
                return out
            }
            var replies = 0
            for try await results in group {
                for r in results { #expect(r == expected) }
                replies += results.count
            }
            #expect(replies == 14)
        }
        #expect(h.daemon.engine.models.map(\.name) == ["tiny"])
        await h.stop()
    }

    /// A generous drain lets the running request finish (new ones get model_unavailable meanwhile); a
    /// drain of 0 ends it with model_unavailable. Either way the model's KV blocks go back, and its
    /// ServedModel (weights, tokenizer, pool) is freed.
    @Test func unloadDrainsThenFreesTheModel() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config {
            $0.models.append(ModelSpec(name: "extra", directory: TestPaths.tinyModel))
        })
        let engine = h.daemon.engine
        let expected = try golden().expected
        let c = try await h.connect(), admin = try await h.connect()
        // A finished request on "extra" leaves its cache in the prefix cache: blocks of its pool.
        #expect(try await greedy(c, "extra", id: 1) == expected)
        let pool = try #require(engine.model(named: "extra")).pool
        #expect(pool.blocksInUse > 0)
        weak let served = engine.model(named: "extra")
        #expect(served != nil)

        let gate = DispatchSemaphore(value: 0)
        engine.runOnComputeThread { gate.wait() }  // the compute thread stops until signalled
        try await c.send(try generateLine("a", model: "extra"))
        #expect(try await eventually(timeout: 10) { engine.withLock { engine.liveJobs.count } > 0 })  // "a" is in flight
        try await admin.send(#"{"id":"u","op":"models.unload","name":"extra","drain_timeout_s":60}"#)
        #expect(try await eventually(timeout: 10) { engine.model(named: "extra") == nil })
        let refused = try await admin.callError("generate", id: "late", ["model": "extra", "prompt": "x"])
        #expect(refused.code == .modelUnavailable)
        gate.signal()
        guard case .result(let body) = try await c.readUntilFinal(id: "a").last!.kind else {
            Issue.record("the running request did not finish"); return
        }
        #expect(try GenerateResponse(from: body).tokens == expected)
        guard case .result(let ub) = try await admin.readUntilFinal(id: "u").last!.kind else {
            Issue.record("the unload failed"); return
        }
        let report = try ModelUnloadResponse(from: ub)
        #expect(report.stoppedRequests == 0 && report.freedKVBlocks > 0)
        #expect(pool.blocksInUse == 0)
        #expect(try await eventually(timeout: 10) { served == nil })

        // Drain 0: the request in flight ends with model_unavailable.
        _ = try await admin.call("models.load", id: "l2", ["name": "extra", "directory": Self.tiny])
        engine.runOnComputeThread { gate.wait() }
        try await c.send(try generateLine("b", model: "extra"))
        #expect(try await eventually(timeout: 10) { engine.withLock { engine.liveJobs.count } > 0 })
        try await admin.send(#"{"id":"u2","op":"models.unload","name":"extra","drain_timeout_s":0}"#)
        #expect(try await eventually(timeout: 10) { engine.model(named: "extra") == nil })
        gate.signal()
        guard case .error(let e) = try await c.readUntilFinal(id: "b").last!.kind else {
            Issue.record("the request in flight was not stopped"); return
        }
        #expect(e.code == .modelUnavailable)
        guard case .result(let ub2) = try await admin.readUntilFinal(id: "u2").last!.kind else {
            Issue.record("the second unload failed"); return
        }
        #expect(try ModelUnloadResponse(from: ub2).stoppedRequests == 1)
        #expect(try await greedy(c, "tiny", id: 3) == expected)
        await h.stop()
    }

    /// A session keeps its history while its model is unloaded and continues, recomputed, once a model
    /// of that name is loaded again: exactly as a request over the whole history.
    @Test func aSessionWorksAgainAfterItsModelIsLoadedAgain() async throws {
        let h = try await DaemonHarness.start(DaemonHarness.config {
            $0.models.append(ModelSpec(name: "extra", directory: TestPaths.tinyModel))
        })
        let c = try await h.connect()
        let prompt = try golden().prompt
        let s = try SessionInfo(from: try await c.call("session.open", id: 1, ["model": "extra"])).session
        let first = try GenerateResponse(from: try await c.call("generate", id: 2, [
            "model": "extra", "session": .string(s), "tokens": prompt.jsonArray, "max_new_tokens": 8,
        ]))
        _ = try await c.call("models.unload", id: 3, ["name": "extra"])
        let kept = try SessionInfo(from: try await c.call("session.info", id: 4, ["session": .string(s)]))
        #expect(kept.model == "extra" && kept.nTokens == prompt.count + 8)
        #expect(try await c.callError("generate", id: 5, ["model": "extra", "session": .string(s), "tokens": [13]]).code == .unknownModel)
        #expect(try await c.callError("session.open", id: 6, ["model": "extra"]).code == .unknownModel)

        _ = try await c.call("models.load", id: 7, ["name": "extra", "directory": Self.tiny])
        let cont = try GenerateResponse(from: try await c.call("generate", id: 8, [
            "model": "extra", "session": .string(s), "tokens": [13], "max_new_tokens": 4,
        ]))
        let plain = try GenerateResponse(from: try await c.call("generate", id: 9, [
            "model": "tiny", "tokens": (prompt + first.tokens + [13]).jsonArray, "max_new_tokens": 4,
        ]))
        #expect(cont.tokens == plain.tokens)
        #expect(cont.usage.cachedTokens == 0)  // its cache went with the old model: recomputed
        await h.stop()
    }

    /// `reload` (what SIGHUP does) applies the model list: added → loaded, changed type → replaced,
    /// removed → unloaded in the background, a broken entry → logged and left out of the settings.
    @Test func reloadAppliesTheModelList() async throws {
        let h = try await DaemonHarness.start()
        let engine = h.daemon.engine
        let c = try await h.connect()
        var added = h.daemon.config
        added.models.append(ModelSpec(name: "extra", directory: TestPaths.tinyModel))
        #expect(h.daemon.reload(added).isEmpty)
        #expect(engine.models.map(\.name) == ["tiny", "extra"])
        #expect(h.daemon.config.models == added.models)
        #expect(try await greedy(c, "extra", id: 1) == (try golden().expected))

        // keep_alive alone: set on the model as it serves (no new load).
        var kept = added
        kept.models[1].keepAliveSeconds = 3600
        let before = engine.model(named: "extra")
        #expect(h.daemon.reload(kept).isEmpty)
        #expect(engine.model(named: "extra") === before && engine.withLock { before?.keepAliveSeconds } == 3600)
        #expect(h.daemon.config.models == kept.models)

        var changed = added
        changed.models[1].weightType = .bfloat16
        #expect(h.daemon.reload(changed).isEmpty)
        #expect(engine.model(named: "extra")?.info.weightType == "bfloat16")
        _ = try await c.call("generate", id: 2, ["model": "extra", "prompt": "Hello", "max_new_tokens": 2])

        var broken = changed
        broken.models.append(ModelSpec(name: "broken", directory: "/nonexistent/gpt2d-model"))
        #expect(h.daemon.reload(broken).isEmpty)
        #expect(h.daemon.config.models == changed.models)
        #expect(engine.model(named: "broken") == nil)

        var removed = changed
        removed.models.removeLast()
        #expect(h.daemon.reload(removed).isEmpty)
        #expect(try await eventually(timeout: 10) { engine.models.map(\.name) == ["tiny"] })
        // Gone from the served list first; the registry forgets the name once its drain has ended
        // (until then a request gets model_unavailable), which under load can take a moment longer.
        #expect(try await eventually(timeout: 20) {
            try await c.callError("generate", id: 3, ["model": "extra", "prompt": "x"]).code == .unknownModel
        })
        #expect(h.daemon.config.models == removed.models)
        await h.stop()
    }

    /// keep_alive: a model unused that long is unloaded (`models`: loaded false; its ServedModel freed)
    /// while the other serves; its next request waits for it to load again and gets the golden.
    @Test func keepAliveUnloadsAnUnusedModelAndTheNextRequestLoadsItAgain() async throws {
        let h = try await DaemonHarness.start()
        let engine = h.daemon.engine
        let c = try await h.connect()
        let expected = try golden().expected
        var n: Int64 = 0
        func extra() async throws -> ModelInfo? {
            n += 1
            return try ModelsResponse(from: try await c.call("models", id: .int(n))).models.first { $0.name == "extra" }
        }
        let loaded = try ModelLoadResponse(from: try await c.call("models.load", id: "l", [
            "name": "extra", "directory": Self.tiny, "keep_alive_s": 5,
        ]))
        weak let first = engine.model(named: "extra")
        #expect(first != nil)
        #expect(loaded.model.loaded == true && loaded.model.keepAliveSeconds == 5)
        #expect(try await greedy(c, "extra", id: "g1") == expected)
        #expect(try await eventually(timeout: 40) { try await extra()?.loaded == false })
        let idle = try #require(try await extra())
        #expect(idle.keepAliveSeconds == 5 && (idle.lastUsedAt ?? 0) > 0)
        #expect(try await eventually(timeout: 10) { first == nil })
        #expect(try await greedy(c, "tiny", id: "t1") == expected)
        #expect(try await greedy(c, "extra", id: "g2") == expected)  // waits for the load
        #expect((try await extra()?.lastUsedAt ?? 0) > idle.lastUsedAt!)  // used again (it may be idle again already)
        #expect(try await c.callError("models.load", id: "dup", ["name": "extra", "directory": Self.tiny]).code == .modelExists)
        #expect(try await c.callError("models.load", id: "k0", ["name": "k", "directory": Self.tiny, "keep_alive_s": 0]).code == .invalidField)
        // An idle model can be unloaded; the name is then gone.
        #expect(try await eventually(timeout: 40) { try await extra()?.loaded == false })
        _ = try await c.call("models.unload", id: "u", ["name": "extra"])
        #expect(try await extra() == nil)
        #expect(try await c.callError("generate", id: "gone", ["model": "extra", "prompt": "x"]).code == .unknownModel)
        await h.stop()
    }

    /// keep_alive: the ops that need the model before they submit — tokenize, detokenize, a task op's
    /// tokenizing, the HTTP endpoints — wait for a model keep_alive unloaded to load again (all of them
    /// for the one load), as generate does, instead of answering model_unavailable; the HTTP model list
    /// shows it meanwhile, `loaded: false`.
    @Test func tokenizingOpsAndHTTPWaitForAKeepAliveModel() async throws {
        let h = try await DaemonHarness.start(httpRequestTimeout: DaemonHarness.httpTestTimeout)
        let engine = h.daemon.engine
        let c = try await h.connect()
        _ = try await c.call("models.load", id: "l", ["name": "extra", "directory": Self.tiny, "keep_alive_s": 0.5])
        func idle() -> Bool { engine.modelListing().first { $0.name == "extra" }?.loaded == false }
        // HTTP connections are opened after each wait for the model to go idle: one left unused past the
        // listener's request timeout (5 s here; the wait may be longer on a loaded machine) is closed.
        let httpPath = try #require(h.httpPath)
        var http: [HTTPTestClient] = []

        #expect(try await eventually(timeout: 40) { idle() })
        http.append(try await HTTPTestClient.connect(httpPath))
        let listed = try await http[0].call("GET", "/v1/models").json()
        let extra = try #require(listed["data"]?.arrayValue?.first { $0["id"] == "extra" })
        #expect(extra["loaded"] == .bool(false) && extra["max_model_len"] == .int(128))
        #expect(try await http[0].call("GET", "/v1/models/extra").json()["loaded"] == .bool(false))
        #expect(try await http[0].call("GET", "/v1/models/tiny").json()["loaded"] == .bool(true))
        // Three JSON-lines requests sent at once, all waiting for the same load.
        try await c.send(#"{"id":"t","op":"tokenize","model":"extra","text":"Hello world"}"#)
        try await c.send(#"{"id":"d","op":"detokenize","model":"extra","tokens":[15496,995]}"#)
        try await c.send(#"{"id":"e","op":"embed","model":"extra","text":"Hello world"}"#)
        func body(_ id: RequestID) async throws -> JSONObject {
            let last = try #require(try await c.readUntilFinal(id: id).last)
            guard case .result(let b) = last.kind else { throw TestError.protocolViolation("\(id): \(last.kind)") }
            return b
        }
        #expect(try await body("t")["tokens"] == [15496, 995])
        #expect(try await body("d")["text"] == "Hello world")
        #expect(try await body("e")["embeddings"]?[0]?.arrayValue?.count == 32)

        #expect(try await eventually(timeout: 40) { idle() })
        for _ in 0..<3 { http.append(try await HTTPTestClient.connect(httpPath)) }
        let clients = http
        let answers = try await withThrowingTaskGroup(of: (Int, HTTPTestResponse).self) { group in
            let calls = [
                ("/v1/completions", #"{"model":"extra","prompt":"Hello","max_tokens":2}"#),
                ("/v1/embeddings", #"{"model":"extra","input":"Hello"}"#),
                ("/tokenize", #"{"model":"extra","text":"Hello world"}"#),
            ]
            for (i, (path, json)) in calls.enumerated() {
                group.addTask { (i, try await clients[i + 1].call("POST", path, body: json)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for i in 0..<3 { #expect(answers[i]?.status == 200, "\(answers[i]?.text ?? "")") }
        #expect(try answers[0]?.json()["choices"]?[0]?["text"]?.stringValue != nil)
        #expect(try answers[2]?.json()["tokens"] == [15496, 995])
        for client in http { client.close() }
        await h.stop()
    }

    /// The watchdog's health check: false while the compute thread makes no pass (here held by a
    /// chore past a shortened stall limit), true again once it steps.
    @Test func aStalledComputeThreadIsUnhealthy() async throws {
        let h = try await DaemonHarness.start()
        let engine = h.daemon.engine
        #expect(engine.isHealthy)
        engine.withLock { engine.stallLimitSeconds = 0.3 }
        let gate = DispatchSemaphore(value: 0)
        engine.runOnComputeThread { gate.wait() }
        #expect(try await eventually(timeout: 10) { !engine.isHealthy })
        gate.signal()
        #expect(try await eventually(timeout: 10) { engine.isHealthy })
        engine.withLock { engine.stallLimitSeconds = 60 }
        await h.stop()
    }
}
