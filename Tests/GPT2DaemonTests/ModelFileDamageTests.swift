// ModelFileDamageTests — the real gpt2d serving a copy of the tiny fixture beside the fixture itself:
// the copy's model.safetensors truncated in place (while a stream runs, and after) never kills the
// daemon (it used to die of SIGBUS, status 135); requests on that model answer `model_unavailable`,
// the other model keeps serving, and once the file is restored in place the model serves again.
// Run with and without --mlock. In process: a read that faulted (the damage flag alone, the file's size
// and mtime as before) also makes the model unavailable, and SIGHUP's reload restores it exactly.

import Foundation
@testable import GPT2Daemon
import GPT2JSON
import GPT2Wire
import GPT2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ModelFileDamageTests {

    /// A fresh directory with real copies of the tiny checkpoint's files.
    private func copyOfTinyModel() throws -> String {
        let dir = TestPaths.tempSocket("model")
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: false)
        for name in ["config.json", "model.safetensors", "vocab.json", "merges.txt"] {
            let source = URL(fileURLWithPath: TestPaths.tinyModel + "/" + name).resolvingSymlinksInPath().path
            try fm.copyItem(atPath: source, toPath: dir + "/" + name)
        }
        return dir
    }

    /// Rewrites `path` in place (same inode: O_TRUNC then write), as `cp` over an existing file does.
    private func overwriteInPlace(_ path: String, with data: Data) throws {
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw TestError.io("open \(path): errno \(errno)") }
        defer { close(fd) }
        let n = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == data.count else { throw TestError.io("write \(path): \(n)") }
    }

    private func generate(_ c: TestClient, _ model: String, id: RequestID) async throws -> Result<JSONObject, WireError> {
        do {
            return .success(try await c.call("generate", id: id, ["model": .string(model), "prompt": "Hello",
                                                                 "max_new_tokens": 3, "do_sample": false]))
        } catch let e as WireError {
            return .failure(e)
        }
    }

    @Test(arguments: [false, true])
    func truncatedInPlaceMakesOnlyThatModelUnavailableUntilRestored(mlock: Bool) async throws {
        let dir = try copyOfTinyModel()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let weights = dir + "/model.safetensors"
        let original = try Data(contentsOf: URL(fileURLWithPath: weights))
        let sock = TestPaths.tempSocket("dmg")
        defer { unlink(sock) }
        var args = ["--model", "tiny=\(TestPaths.tinyModel)", "--model", "copy=\(dir)", "--threads", "1", "--socket", sock]
        if mlock { args += ["--mlock", "true"] }
        let p = try ChildProcess(TestPaths.gpt2dBinary, args)
        defer { p.killAndReap() }
        #expect(try await eventually(timeout: 60, interval: 0.05) { FileManager.default.fileExists(atPath: sock) })
        let c = try await TestClient.connect(sock)
        guard case .success = try await generate(c, "copy", id: 1) else {
            Issue.record("the copy does not serve: \(p.output.1)"); return
        }

        // Truncate while a stream on the copy runs: it ends with model_unavailable (or had already
        // finished with its result), and the daemon stays up.
        try await c.send(#"{"id":"long","op":"generate","model":"copy","prompt":"Once upon a time","#
            + #""max_new_tokens":120,"stream":true,"do_sample":false}"#)
        let first = try await c.readResponse()
        guard case .token = first.kind else { Issue.record("expected a token line, got \(first)"); return }
        #expect(truncate(weights, 4096) == 0)
        let rest = try await c.readUntilFinal(id: "long")
        switch rest.last!.kind {
        case .error(let e): #expect(e.code == .modelUnavailable)
        case .result: break
        case .token: Issue.record("stream ended with a token line")
        }

        // After: the copy answers model_unavailable, the fixture keeps serving, the process lives.
        guard case .failure(let e) = try await generate(c, "copy", id: 2) else {
            Issue.record("the truncated model still served"); return
        }
        #expect(e.code == .modelUnavailable)
        #expect(e.message.contains("rename"))
        guard case .success = try await generate(c, "tiny", id: 3) else { Issue.record("the other model stopped"); return }
        #expect(kill(p.pid, 0) == 0)
        #expect(try await c.call("health", id: 4).string("status") == "ok")

        // Restored in place (same size and header): the copy serves again at a later request.
        try overwriteInPlace(weights, with: original)
        var n = 10
        #expect(try await eventually(timeout: 20, interval: 0.05) {
            n += 1
            if case .success = try await generate(c, "copy", id: RequestID(integerLiteral: Int64(n))) { return true }
            return false
        })
        guard case .success = try await generate(c, "tiny", id: 5) else { Issue.record("the other model stopped"); return }

        kill(p.pid, SIGTERM)
        #expect(try await p.wait() == 0)
        #expect(p.output.1.contains("model unavailable"))
    }

    @Test func aFaultedReadAloneMakesTheModelUnavailableAndSighupRestoresIt() async throws {
        let dir = try copyOfTinyModel()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let weights = dir + "/model.safetensors"
        let original = try Data(contentsOf: URL(fileURLWithPath: weights))
        let h = try await DaemonHarness.start(DaemonHarness.config {
            $0.models = [ModelSpec(name: "tiny", directory: TestPaths.tinyModel), ModelSpec(name: "copy", directory: dir)]
        })
        let c = try await h.connect()
        guard case .success(let before) = try await generate(c, "copy", id: 1) else { Issue.record("copy does not serve"); return }

        // Truncate, fault on a read past the new end (zero pages, damage flag), then put the same
        // bytes and the same mtime back: only the flag tells.
        var st = stat()
        #expect(stat(weights, &st) == 0)
        let mapping = try #require(h.daemon.engine.model(named: "copy")?.model.weights.mappedFiles.first)
        #expect(truncate(weights, 4096) == 0)
        #expect(mapping.bytes[mapping.size - 1] == 0)
        #expect(mapping.isDamaged)
        try overwriteInPlace(weights, with: original)
        var times = [st.st_atim, st.st_mtim]
        #expect(utimensat(AT_FDCWD, weights, &times, 0) == 0)
        #expect(!mapping.fileChanged())

        guard case .failure(let e) = try await generate(c, "copy", id: 2) else { Issue.record("a damaged model served"); return }
        #expect(e.code == .modelUnavailable)
        guard case .success = try await generate(c, "tiny", id: 3) else { Issue.record("the other model stopped"); return }

        h.daemon.reload(h.daemon.config)   // what SIGHUP does
        #expect(!mapping.isDamaged)
        guard case .success(let after) = try await generate(c, "copy", id: 4) else { Issue.record("not restored"); return }
        #expect(try GenerateResponse(from: after).tokens == GenerateResponse(from: before).tokens)
        await h.stop()
    }
}
