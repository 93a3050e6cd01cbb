// The clients' session-lifecycle and model-management ops against the real gpt2d (issue #15): GPT2Client's
// typed methods and gpt2ctl's subcommands for session.open's name / idle_timeout_s, session.fork,
// session.list's sizes and totals, models.load / models.unload and the models listing's loaded /
// keep_alive_s / last_used_at, and gpt2ctl's exit statuses for their errors. The tests run as root
// (the daemon's admin), so models.load and models.unload are allowed.
//
// (The suite's name ends in ModelLoadUnloadTests so the integration runs put it with the serial suites.)

import Foundation
import GPT2Client
import GPT2JSON
import GPT2Wire
import Testing

private let model = DaemonProcess.model

@Suite("GPT2Client and gpt2ctl: named sessions, forks, models.load / unload", .serialized)
struct ClientModelLoadUnloadTests {
    @Test func clientSessionsByNameForksAndModelAdmin() async throws {
        try await withDaemon { d in
            let c = d.client()
            let s = try await c.sessionOpen(model: model, name: "chat", idleTimeoutSeconds: 60)
            #expect(s.name == "chat" && s.created == true && s.idleTimeoutSeconds == 60)
            let again = try await c.sessionOpen(model: model, name: "chat")
            #expect(again.session == s.session && again.created == false)
            let gen = try await c.generate(GenerateRequest(model: model, input: .text("Hello there"), session: s.session, maxNewTokens: 3))
            let copy = try await c.sessionFork(s.session, name: "branch")
            #expect(copy.session != s.session && copy.name == "branch" && copy.model == model)
            #expect(copy.nTokens == gen.usage.promptTokens + gen.tokens.count && copy.created == true)

            let list = try await c.sessionList()
            let mine = try #require(list.sessions.first { $0.session == s.session })
            #expect(mine.bytes == 4 * mine.nTokens && mine.kvBytes != nil && mine.lastUsedAt >= mine.createdAt)
            let totals = try #require(list.totals)
            #expect(totals.sessions == 2 && totals.nTokens == 2 * mine.nTokens && totals.bytes == 2 * mine.bytes!)
            await expectDaemonError(.invalidField) { try await c.sessionOpen(model: model, idleTimeoutSeconds: 1e9) }

            // models.load with keep_alive, listed with loaded / keep_alive_s; the loaded model serves.
            let loaded = try await c.modelsLoad(name: "extra", directory: Paths.tinyModel, weightType: "bfloat16",
                                                keepAliveSeconds: 300)
            #expect(loaded.model.name == "extra" && loaded.model.weightType == "bfloat16" && loaded.loadSeconds > 0)
            let listed = try await c.models().models
            #expect(listed.map(\.name) == [model, "extra"])
            let extra = try #require(listed.last)
            #expect(extra.loaded == true && extra.keepAliveSeconds == 300 && extra.lastUsedAt != nil)
            #expect(listed.first?.keepAliveSeconds == nil)
            #expect(try await c.tokenize(model: "extra", text: "Hello world").tokens == [15496, 995])
            await expectDaemonError(.modelExists) { try await c.modelsLoad(name: "extra", directory: Paths.tinyModel) }
            let bad = await expectDaemonError(.modelLoadFailed) { try await c.modelsLoad(name: "x", directory: "/nonexistent/gpt2d-model") }
            #expect(bad?.field == "directory")

            let unloaded = try await c.modelsUnload("extra", drainTimeoutSeconds: 5)
            #expect(unloaded.name == "extra" && unloaded.unloaded && unloaded.stoppedRequests == 0)
            #expect(try await c.models().models.map(\.name) == [model])
            await expectDaemonError(.unknownModel) { try await c.modelsUnload("extra") }
            await expectDaemonError(.invalidField) { try await c.modelsUnload(model, drainTimeoutSeconds: -1) }
        }
    }

    @Test func gpt2ctlSessionAndModelSubcommands() async throws {
        try await withDaemon(extraArguments: ["--max-session-tokens-per-user", "64"]) { d in
            let s = ["--socket", d.socketPath]
            let open = try await runCtl(["session", "open", "--name", "notes", "--idle-timeout", "90"] + s)
            #expect(open.status == 0, "\(open.stderr)")
            let id = open.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let reopen = try await runCtl(["session", "open", "--name", "notes", "--json"] + s)
            let reopened = try SessionInfo(from: try ctlJSON(reopen.stdout))
            #expect(reopened.session == id && reopened.created == false && reopened.idleTimeoutSeconds == 90)
            #expect(try await runCtl(["generate", "--session", id, "--max-new-tokens", "2"] + s + ["Hi"]).status == 0)
            let fork = try await runCtl(["session", "fork", "--name", "copy"] + s + [id])
            #expect(fork.status == 0, "\(fork.stderr)")
            let forked = fork.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!forked.isEmpty && forked != id)

            let list = try await runCtl(["session", "list"] + s)
            #expect(list.status == 0)
            let lines = list.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true)
                == ["SESSION", "NAME", "MODEL", "TOKENS", "BYTES", "KV_BYTES", "BUSY", "IDLE_TIMEOUT", "CREATED", "LAST_USED"])
            let row = try #require(lines.first { $0.hasPrefix(id) }).split(separator: " ", omittingEmptySubsequences: true)
            #expect(row[1] == "notes" && row[2] == Substring(model) && Int(row[4]) == 4 * (Int(row[3]) ?? -1) && row[7] == "90")
            #expect(lines.contains { $0.hasPrefix(forked) && $0.contains(" copy ") })
            #expect(lines.last?.hasPrefix("total: 2/16 sessions, ") == true && lines.last?.contains("/64 tokens") == true)
            let quota = try await runCtl(["generate", "--session", id, "--max-new-tokens", "100"] + s + ["Hi"])
            #expect(quota.status == 5 && quota.stderr.contains("quota_exceeded"), "\(quota.stderr)")
            #expect(try await runCtl(["session", "fork"] + s + ["s-nope"]).status == 4)
            #expect(try await runCtl(["session", "open", "--idle-timeout", "0"] + s).status == 1)

            let load = try await runCtl(["models", "load", "--keep-alive", "120", "--weight-type", "float16"] + s + ["extra", Paths.tinyModel])
            #expect(load.status == 0, "\(load.stderr)")
            #expect(load.stdout.hasPrefix("loaded extra (GPT2LMHeadModel, float16, safetensors) in ") && load.stdout.contains("keep_alive 120 s"))
            for listing in [["models"], ["models", "list"]] {
                let models = try await runCtl(listing + s)
                #expect(models.status == 0, "\(models.stderr)")
                let rows = models.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
                #expect(Array(rows.first?.suffix(3) ?? []) == ["LOADED", "KEEP_ALIVE", "LAST_USED"])
                #expect(rows.first.map { Array($0[7...10]) } == ["DTYPE", "WEIGHTS", "MATMUL", "KV"])
                // DTYPE is what the checkpoint stores, WEIGHTS what is served
                #expect(rows.first { $0.first == "extra" }.map { Array($0[7...10]) } == ["float32", "float16", "highest", "float32"])
                #expect(rows.first { $0.first == "extra" }.map { Array($0.suffix(3).prefix(2)) } == ["yes", "120"])
                #expect(rows.first { $0.first == Substring(model) }.map { Array($0.suffix(3).prefix(2)) } == ["yes", "-"])
            }
            let json = try ModelsResponse(from: try ctlJSON(try await runCtl(["models", "--json"] + s).stdout))
            #expect(json.models.last?.keepAliveSeconds == 120)

            let dup = try await runCtl(["models", "load"] + s + ["extra", Paths.tinyModel])
            #expect(dup.status == 5 && dup.stderr.contains("model_exists"))
            let missing = try await runCtl(["models", "load"] + s + ["other", "/nonexistent/gpt2d-model"])
            #expect(missing.status == 5 && missing.stderr.contains("model_load_failed"))
            let badType = try await runCtl(["models", "load", "--weight-type", "int3"] + s + ["q", Paths.tinyModel])
            #expect(badType.status == 3 && badType.stderr.contains("weight_type"))

            let unload = try await runCtl(["models", "unload", "--drain-timeout", "5"] + s + ["extra"])
            #expect(unload.status == 0, "\(unload.stderr)")
            #expect(unload.stdout == "unloaded extra (0 requests stopped, 0 KV blocks freed)\n")
            let again = try await runCtl(["models", "unload", "--json"] + s + ["extra"])
            #expect(again.status == 4)
            #expect(try ctlJSON(again.stdout)["error"]?["code"] == "unknown_model")
            #expect(try await runCtl(["models", "unload", "--drain-timeout", "4000"] + s + [model]).status == 1)
        }
    }
}

/// The one JSON object gpt2ctl --json printed.
private func ctlJSON(_ text: String) throws -> JSONObject {
    guard case .object(let o) = try JSON.parse(Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)) else {
        throw HarnessError(description: "not a JSON object: \(text)")
    }
    return o
}
