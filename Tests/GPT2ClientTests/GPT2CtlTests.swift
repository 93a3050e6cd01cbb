// gpt2ctl — the built binary run as a user would: stdin prompts, --json, exit statuses, help text.

import Foundation
import GPT2JSON
import GPT2Wire
import Testing

private let model = DaemonProcess.model

/// The JSON objects of `--json` output, one per line.
private func jsonLines(_ text: String) throws -> [JSONObject] {
    try text.split(separator: "\n").map { line in
        guard case .object(let o) = try JSON.parse(Array(line.utf8)) else {
            throw HarnessError(description: "not a JSON object: \(line)")
        }
        return o
    }
}

@Suite("gpt2ctl against gpt2d", .serialized)
struct GPT2CtlDaemonTests {
    @Test func generateReadsThePromptFromStdin() async throws {
        try await withDaemon { d in
            let prompt = "Hello, I'm a language model"
            let r = try await runCtl(["generate", "--socket", d.socketPath, "--model", model, "--max-new-tokens", "12"],
                                     stdin: prompt + "\n")
            #expect(r.status == 0, "\(r.stderr)")
            // Exactly the text the library gets for the same request (the newline from echo removed).
            let c = d.client()
            let expected = try await c.generate(GenerateRequest(model: model, input: .text(prompt), maxNewTokens: 12))
            #expect(r.stdout == expected.text + "\n")

            // The argument form and GPT2D_SOCKET give the same; the only model is the default.
            let r2 = try await runCtl(["generate", "--max-new-tokens", "12", prompt], environment: ["GPT2D_SOCKET": d.socketPath])
            #expect(r2.status == 0, "\(r2.stderr)")
            #expect(r2.stdout == r.stdout)
        }
    }

    @Test func generateJSONStreamsTokenLinesThenTheResult() async throws {
        try await withDaemon { d in
            let r = try await runCtl(["generate", "--socket", d.socketPath, "--model", model, "--max-new-tokens", "6",
                                      "--logprobs", "--json", "The cat"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = try jsonLines(r.stdout)
            try #require(lines.count == 7)
            for (i, line) in lines.dropLast().enumerated() {
                #expect(line["type"] == .string("token"))
                #expect(line["index"] == .int(Int64(i)))
                #expect(line["logprob"]?.doubleValue != nil)
            }
            let result = try #require(lines.last)
            #expect(result["type"] == .string("result"))
            let response = try GenerateResponse(from: result)
            #expect(response.tokens.count == 6)
            #expect(response.tokens.map { JSON.int(Int64($0)) } == lines.dropLast().map { $0["token"]! })

            let one = try await runCtl(["generate", "--socket", d.socketPath, "--model", model, "--max-new-tokens", "3",
                                        "--no-stream", "--json", "--tokens", "464,3797"])
            #expect(one.status == 0, "\(one.stderr)")
            let single = try jsonLines(one.stdout)
            #expect(single.count == 1)
            #expect(single.first?["type"] == .string("result"))
        }
    }

    @Test func generateSeveralSequencesAndBeams() async throws {
        try await withDaemon { d in
            let s = ["--socket", d.socketPath, "--max-new-tokens", "4"]
            let sampled = try await runCtl(["generate", "--do-sample", "--seed", "7", "-n", "3"] + s + ["Hello"])
            #expect(sampled.status == 0, "\(sampled.stderr)")
            #expect(sampled.stdout.components(separatedBy: "--- sequence ").count == 4)
            let beams = try await runCtl(["generate", "--num-beams", "3", "--num-return-sequences", "2", "--json"] + s + ["Hello"])
            #expect(beams.status == 0, "\(beams.stderr)")
            let lines = try jsonLines(beams.stdout)
            #expect(lines.count == 1)  // beam search is not streamed
            let r = try GenerateResponse(from: try #require(lines.first))
            #expect(r.sequences?.count == 2)
            #expect(r.sequences?.allSatisfy { $0.score != nil } == true)
            let bias = try await runCtl(["generate", "--logit-bias", "x=1"] + s + ["Hello"])
            #expect(bias.status == 1)
        }
    }

    @Test func otherSubcommands() async throws {
        try await withDaemon { d in
            let s = ["--socket", d.socketPath]
            let health = try await runCtl(["health"] + s)
            #expect(health.status == 0)
            #expect(health.stdout.hasPrefix("ok (protocol v1"))

            let models = try await runCtl(["models"] + s)
            #expect(models.status == 0)
            #expect(models.stdout.contains("NAME") && models.stdout.contains("FORMAT"))
            #expect(models.stdout.contains(model) && models.stdout.contains("safetensors"))

            let tok = try await runCtl(["tokenize", "--ids"] + s + ["Hello world"])
            #expect(tok.stdout == "15496,995\n")
            let tokTable = try await runCtl(["tokenize"] + s + ["Hello world"])
            #expect(tokTable.stdout.contains("[5,11)"))
            #expect(tokTable.stdout.contains("\" world\""))
            let detok = try await runCtl(["detokenize"] + s + ["15496,995"])
            #expect(detok.stdout == "Hello world\n")
            let detokJSON = try jsonLines(try await runCtl(["detokenize", "--json"] + s + ["15496", "995"]).stdout)
            #expect(detokJSON.first?["text"] == .string("Hello world"))

            let score = try await runCtl(["score"] + s + ["The cat sat"])
            #expect(score.status == 0, "\(score.stderr)")
            #expect(score.stdout.contains("perplexity: "))
            #expect(score.stdout.contains("\" cat\""))

            let stats = try await runCtl(["stats", "--json"] + s)
            let statsLine = try #require(try jsonLines(stats.stdout).first)
            #expect(try StatsResponse(from: statsLine).requestsTotal > 0)

            let open = try await runCtl(["session", "open"] + s)
            #expect(open.status == 0)
            let id = open.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!id.isEmpty)
            let gen = try await runCtl(["generate", "--session", id, "--max-new-tokens", "2"] + s + ["Hi"])
            #expect(gen.status == 0, "\(gen.stderr)")
            let list = try await runCtl(["session", "list"] + s)
            #expect(list.stdout.contains(id))
            let info = try await runCtl(["session", "info", "--json"] + s + [id])
            let infoLine = try #require(try jsonLines(info.stdout).first)
            #expect(try SessionInfo(from: infoLine).nTokens > 0)
            let close = try await runCtl(["session", "close"] + s + [id])
            #expect(close.status == 0)
            let gone = try await runCtl(["session", "info"] + s + [id])
            #expect(gone.status == 4)
            #expect(gone.stderr.contains("unknown_session"))
        }
    }

    @Test func exitStatusesForDaemonErrors() async throws {
        try await withDaemon { d in
            let s = ["--socket", d.socketPath]
            let unknownModel = try await runCtl(["generate", "--model", "nope"] + s + ["x"])
            #expect(unknownModel.status == 4)
            #expect(unknownModel.stderr.contains("unknown_model"))

            let badField = try await runCtl(["generate", "--top-p", "1.5", "--do-sample"] + s + ["x"])
            #expect(badField.status == 3)
            #expect(badField.stderr.contains("invalid_field"))
            #expect(badField.stderr.contains("top_p"))

            let badToken = try await runCtl(["detokenize"] + s + ["99999"])
            #expect(badToken.status == 3)
            let badTokenJSON = try await runCtl(["detokenize", "--json"] + s + ["99999"])
            #expect(badTokenJSON.status == 3)
            let errorLine = try #require(try jsonLines(badTokenJSON.stdout).first)
            #expect(errorLine["type"] == .string("error"))
            #expect(errorLine["error"]?["code"] == .string("invalid_field"))

            let overflow = try await runCtl(["generate", "--max-new-tokens", "100000"] + s + ["x"])
            #expect(overflow.status == 5)
            #expect(overflow.stderr.contains("context_overflow"))
        }
    }
}

@Suite("gpt2ctl without a daemon")
struct GPT2CtlTests {
    @Test func unreachableDaemonIsStatus2() async throws {
        let missing = try await runCtl(["health", "--socket", Paths.tempSocket()])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot connect"))
        let viaEnv = try await runCtl(["models"], environment: ["GPT2D_SOCKET": Paths.tempSocket()])
        #expect(viaEnv.status == 2)
    }

    @Test func usageErrorsAreStatus1() async throws {
        let unknownOption = try await runCtl(["generate", "--bogus"])
        #expect(unknownOption.status == 1)
        #expect(unknownOption.stderr.contains("Unknown option '--bogus'"))
        let badNumber = try await runCtl(["generate", "--max-new-tokens", "lots", "x"])
        #expect(badNumber.status == 1)
        let badTokens = try await runCtl(["generate", "--tokens", "1,x"])
        #expect(badTokens.status == 1)
        let both = try await runCtl(["generate", "--tokens", "1", "prompt"])
        #expect(both.status == 1)
        let noSubcommand = try await runCtl(["frobnicate"])
        #expect(noSubcommand.status == 1)
        let missingArgument = try await runCtl(["session", "close"])
        #expect(missingArgument.status == 1)
    }

    @Test func helpTextDocumentsEverySubcommandAndTheExitStatuses() async throws {
        let root = try await runCtl(["--help"])
        #expect(root.status == 0)
        for sub in ["generate", "score", "tokenize", "detokenize", "models", "health", "stats", "session"] {
            #expect(root.stdout.contains("  \(sub) "), "\(sub) missing from gpt2ctl --help")
        }
        #expect(root.stdout.contains("EXIT STATUS:"))
        #expect(root.stdout.contains("2    daemon unreachable: socket missing"))
        #expect(root.stdout.contains("GPT2D_SOCKET"))

        let generate = try await runCtl(["generate", "--help"])
        #expect(generate.status == 0)
        for option in ["--max-new-tokens", "--do-sample", "--temperature", "--top-k", "--top-p", "--repetition-penalty",
                       "--seed", "--stop", "--session", "--logprobs", "--tokens", "--json", "--socket"] {
            #expect(generate.stdout.contains(option), "\(option) missing from gpt2ctl generate --help")
        }
        #expect(generate.stdout.contains("standard input"))

        for sub in [["score"], ["tokenize"], ["detokenize"], ["models"], ["health"], ["stats"], ["session"],
                    ["session", "open"], ["session", "close"], ["session", "list"], ["session", "info"],
                    ["session", "fork"], ["models", "list"], ["models", "load"], ["models", "unload"]] {
            let h = try await runCtl(sub + ["--help"])
            #expect(h.status == 0)
            #expect(h.stdout.hasPrefix("OVERVIEW: "), "\(sub) has no abstract")
        }
        let sessionOpen = try await runCtl(["session", "open", "--help"])
        #expect(sessionOpen.stdout.contains("--name") && sessionOpen.stdout.contains("--idle-timeout"))
        let load = try await runCtl(["models", "load", "--help"])
        #expect(load.stdout.contains("--weight-type") && load.stdout.contains("--keep-alive"))
        #expect(try await runCtl(["models", "unload", "--help"]).stdout.contains("--drain-timeout"))
        let version = try await runCtl(["--version"])
        #expect(version.stdout.hasPrefix("gpt2ctl "))
    }

    @Test func committedCompletionScriptsAreCurrent() async throws {
        for shell in ["bash", "zsh", "fish"] {
            let generated = try await runCtl(["--generate-completion-script", shell])
            #expect(generated.status == 0)
            let path = Paths.repoRoot + "/Clients/gpt2ctl/completions/gpt2ctl.\(shell)"
            let committed = try String(contentsOfFile: path, encoding: .utf8)
            #expect(generated.stdout == committed, "regenerate \(path) (see Clients/gpt2ctl/completions/README.md)")
        }
    }
}
