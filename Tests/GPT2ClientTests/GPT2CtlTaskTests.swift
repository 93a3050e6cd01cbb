// gpt2ctl classify / tag / qa / choose / embed: the built binary against gpt2d serving the task fixtures.

import Foundation
import GPT2JSON
import GPT2Wire
import Testing

/// The one JSON object of a `--json` run's output.
private func onlyJSONLine(_ r: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONObject {
    let lines = r.stdout.split(separator: "\n")
    try #require(lines.count == 1, "stdout: \(r.stdout) stderr: \(r.stderr)", sourceLocation: sourceLocation)
    guard case .object(let o) = try JSON.parse(Array(lines[0].utf8)) else {
        throw HarnessError(description: "not a JSON object: \(lines[0])")
    }
    return o
}

@Suite("gpt2ctl task subcommands against gpt2d", .serialized)
struct GPT2CtlTaskTests {
    @Test func taskSubcommandsJSONAndHumanOutput() async throws {
        try await withDaemon(extraArguments: taskModelArguments) { d in
            let s = ["--socket", d.socketPath]

            // classify: --json result equals the golden (case 9: every label); stdin input; human table.
            let cls = try TaskGoldenFile("seqcls-pad-eos")
            let text9 = cls.testCase(9)["text"] as! String
            let r1 = try await runCtl(["classify"] + s + ["--model", "cls", "--top-k", "0", "--json", text9])
            #expect(r1.status == 0, "\(r1.stderr)")
            let line1 = try onlyJSONLine(r1)
            #expect(line1["type"] == .string("result") && line1["id"] == .int(1))
            let c1 = try ClassifyResponse(from: line1)
            let want9 = cls.expectedList(9)
            #expect(c1.results.count == 1)
            #expect(c1.results[0].map(\.label) == want9.map { $0["label"] as! String })
            for (g, w) in zip(c1.results[0], want9) { #expect(near(g.score, goldenDouble(w["score"]))) }

            let h1 = try await runCtl(["classify"] + s + ["--model", "cls", "--function-to-apply", "none"], stdin: text9 + "\n")
            #expect(h1.status == 0, "\(h1.stderr)")
            let rows1 = h1.stdout.split(separator: "\n")
            #expect(rows1.count == 2 && rows1[0].hasPrefix("label") && rows1[1].hasPrefix("negative"), "\(h1.stdout)")
            let two = try await runCtl(["classify"] + s + ["--model", "cls", "a", "The end."])
            #expect(two.status == 0 && two.stdout.contains("text 0:") && two.stdout.contains("text 1:"), "\(two.stdout)")

            // tag: --json equals the golden (case 12, simple aggregation); human table.
            let tok = try TaskGoldenFile("tokcls")
            let text12 = tok.testCase(12)["text"] as! String
            let r2 = try await runCtl(["tag"] + s + ["--model", "tok", "--aggregation-strategy", "simple", "--json", text12])
            #expect(r2.status == 0, "\(r2.stderr)")
            let t2 = try TagResponse(from: try onlyJSONLine(r2))
            let want12 = tok.expectedList(12)
            #expect(t2.entities.map(\.label) == want12.map { $0["entity_group"] as! String })
            #expect(t2.entities.map(\.word) == want12.map { $0["word"] as! String })
            #expect(t2.entities.map(\.start) == want12.map { ($0["start"] as! NSNumber).intValue })
            #expect(t2.entities.map(\.end) == want12.map { ($0["end"] as! NSNumber).intValue })
            let h2 = try await runCtl(["tag"] + s + ["--model", "tok", "--ignore-label", "O", "--ignore-label", "MISC", text12])
            #expect(h2.status == 0, "\(h2.stderr)")
            #expect(h2.stdout.hasPrefix("entity") && h2.stdout.contains("\"My\""), "\(h2.stdout)")
            let keep = try await runCtl(["tag"] + s + ["--model", "tok", "--keep-all", "--json", text12])
            #expect(try TagResponse(from: try onlyJSONLine(keep)).entities.count == tok.expectedList(6).count)

            // qa: --json equals the golden (case 4: top_k 3, max_seq_len 256); context from stdin; human table.
            let qa = try TaskGoldenFile("qa")
            let k4 = qa.testCase(4)
            let r3 = try await runCtl(["qa"] + s + ["--model", "qa", "--question", k4["question"] as! String,
                                                   "--top-k", "3", "--max-seq-len", "256", "--json"],
                                      stdin: (k4["context"] as! String) + "\n")
            #expect(r3.status == 0, "\(r3.stderr)")
            let q3 = try QAResponse(from: try onlyJSONLine(r3))
            let want4 = qa.expectedList(4)
            #expect(q3.answers.map(\.answer) == want4.map { $0["answer"] as! String })
            #expect(q3.answers.map(\.start) == want4.map { ($0["start"] as! NSNumber).intValue })
            for (a, w) in zip(q3.answers, want4) { #expect(near(a.score, goldenDouble(w["score"]))) }
            let h3 = try await runCtl(["qa"] + s + ["--model", "qa", "--question", "Who?", "--max-seq-len", "256",
                                                   "--handle-impossible-answer", "--doc-stride", "16", "--max-answer-len", "3",
                                                   qa.testCase(2)["context"] as! String])
            #expect(h3.status == 0, "\(h3.stderr)")
            #expect(h3.stdout.hasPrefix("answer") && h3.stdout.contains("[5,13)"), "\(h3.stdout)")

            // choose: --json equals the golden (case 1, explicit token indices); human output marks the best.
            let mc = try TaskGoldenFile("double-heads")
            let choices = mc.testCase(1)["choices"] as! [String]
            let choiceArgs = choices.flatMap { ["--choice", $0] }
            let r4 = try await runCtl(["choose"] + s + ["--model", "mc", "--mc-token-index", "2,3,1", "--json"] + choiceArgs)
            #expect(r4.status == 0, "\(r4.stderr)")
            let ch = try ChooseResponse(from: try onlyJSONLine(r4))
            let want1 = mc.testCase(1)["expected"] as! [String: Any]
            #expect(ch.best == (want1["best"] as! NSNumber).intValue)
            for (g, w) in zip(ch.scores, want1["scores"] as! [NSNumber]) { #expect(near(g, w.doubleValue)) }
            let h4 = try await runCtl(["choose"] + s + ["--model", "mc"] + choiceArgs)
            #expect(h4.status == 0, "\(h4.stderr)")
            let best = h4.stdout.split(separator: "\n").filter { $0.hasPrefix("*") }
            #expect(best.count == 1 && best.first?.contains("2") == true, "\(h4.stdout)")  // golden case 0: best 2

            // embed: --json equals the golden vectors; human output shows dims.
            let e = cls.embed(0)
            let r5 = try await runCtl(["embed"] + s + ["--model", "cls", "--pooling", "mean", "--json", e["text"] as! String])
            #expect(r5.status == 0, "\(r5.stderr)")
            let em = try EmbedResponse(from: try onlyJSONLine(r5))
            let wantMean = (e["mean"] as! [NSNumber]).map(\.doubleValue)
            #expect(em.dims == wantMean.count && em.embeddings.count == 1)
            #expect(zip(em.embeddings[0], wantMean).allSatisfy { near(Double($0), $1) })
            let h5 = try await runCtl(["embed"] + s + ["--model", "cls", "--normalize", "--show", "3", "Hello world", "Goodbye"])
            #expect(h5.status == 0, "\(h5.stderr)")
            let rows5 = h5.stdout.split(separator: "\n")
            #expect(rows5.count == 3 && rows5[1].contains(" \(wantMean.count) ") && rows5[1].contains(" 1 "), "\(h5.stdout)")
        }
    }

    @Test func taskErrorsMapToExitStatuses() async throws {
        try await withDaemon(extraArguments: taskModelArguments) { d in
            let s = ["--socket", d.socketPath]
            let lm = DaemonProcess.model
            let cases: [[String]] = [
                ["classify", "--model", lm, "hi"],
                ["tag", "--model", lm, "hi"],
                ["qa", "--model", lm, "--question", "who?", "me"],
                ["choose", "--model", lm, "--choice", "a", "--choice", "b", "x"],
            ]
            for args in cases {
                let r = try await runCtl([args[0]] + s + Array(args.dropFirst()))
                #expect(r.status == 5, "\(args): \(r.status) \(r.stderr)")
                #expect(r.stderr.contains("unsupported_task") || r.stderr.contains("does not support"), "\(r.stderr)")
            }
            // --json also prints the error line
            let j = try await runCtl(["classify"] + s + ["--model", lm, "--json", "hi"])
            #expect(j.status == 5)
            let line = try onlyJSONLine(j)
            #expect(line["type"] == .string("error"))
            #expect(line["error"]?["code"] == .string("unsupported_task"))
            // unknown model → 4; bad option value → 1; daemon-side invalid field → 3
            let unknown = try await runCtl(["embed"] + s + ["--model", "nope", "hi"])
            #expect(unknown.status == 4, "\(unknown.stderr)")
            let bad = try await runCtl(["embed"] + s + ["--model", "cls", "--pooling", "max", "hi"])
            #expect(bad.status == 1, "\(bad.stderr)")
            let oneChoice = try await runCtl(["choose"] + s + ["--model", "mc", "--choice", "a"])
            #expect(oneChoice.status == 1, "\(oneChoice.stderr)")
            let stride = try await runCtl(["tag"] + s + ["--model", "tok", "--stride", "4", "hi there"])
            #expect(stride.status == 3, "\(stride.stderr)")
        }
    }
}
