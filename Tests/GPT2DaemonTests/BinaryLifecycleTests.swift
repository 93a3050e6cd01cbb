// BinaryLifecycleTests — the real gpt2d process under its service group: a SIGHUP re-reads the config
// file, applies the live settings and names the changed ones that need a restart; a SIGTERM lets an
// in-flight stream run to its result, then the process unlinks the socket it bound and exits 0.

import Foundation
import GPT2Wire
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BinaryLifecycleTests {

    @Test func sighupReloadsAndSigtermDrainsTheRealBinary() async throws {
        let conf = TestPaths.tempSocket("conf") + ".conf"
        defer { unlink(conf) }
        let base = "model = tiny=\(TestPaths.tinyModel)\nthreads = 1\ndrain_timeout_s = 120\n"
        try (base + "log_level = info\n").write(toFile: conf, atomically: true, encoding: .utf8)
        let sock = TestPaths.tempSocket("b")
        defer { unlink(sock) }
        let p = try ChildProcess(TestPaths.gpt2dBinary, ["--config", conf, "--socket", sock])
        defer { p.killAndReap() }
        #expect(try await eventually(timeout: 30) { FileManager.default.fileExists(atPath: sock) })
        let c = try await TestClient.connect(sock)
        #expect(try await c.call("health", id: 1).string("status") == "ok")

        // threads needs a restart; log_level applies at once (so the warning is the last info shown).
        try (base.replacingOccurrences(of: "threads = 1", with: "threads = 2") + "log_level = warning\n")
            .write(toFile: conf, atomically: true, encoding: .utf8)
        kill(p.pid, SIGHUP)
        #expect(try await eventually(timeout: 10) {
            p.output.1.split(separator: "\n").contains {
                $0.contains("changed settings that need a restart were not applied") && $0.contains("threads")
            }
        })
        #expect(try await c.call("health", id: 2).string("status") == "ok")

        try await c.send(#"{"id":"long","op":"generate","model":"tiny","prompt":"Once upon a time","#
            + #""max_new_tokens":100,"stream":true}"#)
        let first = try await c.readResponse()
        guard case .token = first.kind else { Issue.record("expected a token line, got \(first)"); return }
        kill(p.pid, SIGTERM)
        let rest = try await c.readUntilFinal(id: "long")
        guard case .result(let body) = rest.last!.kind else { Issue.record("not finished: \(rest.last!)"); return }
        #expect(try GenerateResponse(from: body).tokens.count == rest.count)
        #expect(try await p.wait() == 0)
        #expect(!FileManager.default.fileExists(atPath: sock))
        // A log line at info level was filtered after the reload set warning.
        #expect(!p.output.1.contains("stopping: draining"))
    }
}
