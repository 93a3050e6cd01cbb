// ModelReloadBinaryTests — the real gpt2d: a SIGHUP after the config file gained a model loads it, and
// one after the file lost it unloads it, while a stream on the other model runs through both reloads
// to its exact greedy result (what `systemctl reload gpt2d` does under systemd: ExecReload sends SIGHUP).

import Foundation
import GPT2JSON
import GPT2Wire
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ModelReloadBinaryTests {

    private func modelNames(_ c: TestClient, id: RequestID) async throws -> [String] {
        try ModelsResponse(from: try await c.call("models", id: id)).models.map(\.name)
    }

    @Test func sighupAddsAndRemovesAModelWhileAnotherServes() async throws {
        let conf = TestPaths.tempSocket("conf") + ".conf"
        defer { unlink(conf) }
        let base = "model = tiny=\(TestPaths.tinyModel)\nthreads = 1\nlog_level = info\n"
        try base.write(toFile: conf, atomically: true, encoding: .utf8)
        let sock = TestPaths.tempSocket("mr")
        defer { unlink(sock) }
        let p = try ChildProcess(TestPaths.gpt2dBinary, ["--config", conf, "--socket", sock])
        defer { p.killAndReap() }
        #expect(try await eventually(timeout: 30) { FileManager.default.fileExists(atPath: sock) })
        let c = try await TestClient.connect(sock), admin = try await TestClient.connect(sock)
        #expect(try await modelNames(admin, id: 1) == ["tiny"])

        // A stream on "tiny" runs through both reloads.
        let prompt = try Golden.ints("greedy.prompt")
        let expected = Array(try Golden.ints("greedy.output")[prompt.count...])
        try await c.send(#"{"id":"long","op":"generate","model":"tiny","tokens":\#(prompt.jsonArray.serialized()),"#
            + #""max_new_tokens":64,"stream":true}"#)

        try (base + "model = extra=\(TestPaths.tinyModel)\n").write(toFile: conf, atomically: true, encoding: .utf8)
        kill(p.pid, SIGHUP)
        var n: Int64 = 10
        #expect(try await eventually(timeout: 30) { n += 1; return try await modelNames(admin, id: .int(n)) == ["tiny", "extra"] })
        let onExtra = try GenerateResponse(from: try await admin.call("generate", id: "x", [
            "model": "extra", "tokens": prompt.jsonArray, "max_new_tokens": 64,
        ]))
        #expect(onExtra.tokens == expected)

        try base.write(toFile: conf, atomically: true, encoding: .utf8)
        kill(p.pid, SIGHUP)
        #expect(try await eventually(timeout: 30) { n += 1; return try await modelNames(admin, id: .int(n)) == ["tiny"] })
        // The listing changes when "extra" starts draining; until the drain finishes a request for it
        // is told `model_unavailable` ("being unloaded"), then `unknown_model` (a loaded CI machine
        // saw the former).
        var codes: [WireErrorCode] = []
        #expect(try await eventually(timeout: 30) {
            n += 1
            let code = try await admin.callError("generate", id: .int(n), ["model": "extra", "prompt": "x"]).code
            codes.append(code)
            return code == .unknownModel
        })
        #expect(codes.dropLast().allSatisfy { $0 == .modelUnavailable }, "\(codes)")

        let lines = try await c.readUntilFinal(id: "long")
        guard case .result(let body) = lines.last!.kind else { Issue.record("the stream did not finish: \(lines.last!)"); return }
        #expect(try GenerateResponse(from: body).tokens == expected)
        // The removed model drains in a background task, so its "unloaded" line follows the listing
        // change; stopping the daemon before it is written would lose it (a loaded CI machine did).
        #expect(try await eventually(timeout: 30) { p.output.1.contains("model unloaded (SIGHUP)") })
        kill(p.pid, SIGTERM)
        #expect(try await p.wait() == 0)
        let log = p.output.1
        #expect(log.contains("model loaded (SIGHUP)") && log.contains("model unloaded (SIGHUP)"))
        #expect(!log.contains("need a restart"))
    }
}
