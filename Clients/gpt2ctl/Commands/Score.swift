// gpt2ctl score — per-token log-probabilities and perplexity of a text.

import ArgumentParser
import GPT2Client
import GPT2Wire

struct Score: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a text: each token's log-probability under the model, and the perplexity.",
        discussion: """
        The text is the argument, or standard input when there is none (one trailing newline is \
        removed), or token ids with --tokens. Prints one row per token (index, id, log-probability, \
        text; the first token has no log-probability since nothing conditions it) and then the \
        perplexity, exp(-mean(logprobs[1...])). --top-logprobs N adds the N most likely tokens at each \
        position. Fails with context_overflow (status 5) when the input is longer than the model's \
        n_positions.

        Example:
          gpt2ctl score --model gpt2 "The cat sat on the mat."
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("The text to score (default: read standard input).", valueName: "text"))
    var text: String?

    @Option(name: .long, help: ArgumentHelp("Token ids instead of text, e.g. 1,2,3.", valueName: "ids"))
    var tokens: String?

    @Option(name: .long, help: ArgumentHelp("Score the text as a continuation of this session's history.", valueName: "id"))
    var session: String?

    @Option(name: .customLong("top-logprobs"), help: "Also show the N most likely tokens per position, 0 ... 20.")
    var topLogprobs: Int = 0

    func validate() throws {
        if text != nil && tokens != nil { throw ValidationError("give either a text or --tokens, not both") }
    }

    func run() async throws {
        let client = connection.makeClient()
        let input: PromptInput
        if let tokens {
            let ids = try parseTokenList([tokens], option: "--tokens")
            guard !ids.isEmpty else { throw ValidationError("--tokens needs at least one token id") }
            input = .tokens(ids)
        } else {
            let t = textArgumentOrStdin(text)
            guard !t.isEmpty else { throw ValidationError("the text is empty") }
            input = .text(t)
        }
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(ScoreRequest(model: name, input: input, session: session, topLogprobs: topLogprobs), id: id)
        if output.json {
            Output.resultLine(id: id, r)
            return
        }
        let candidates = Set((r.topLogprobs ?? []).flatMap { ($0 ?? []).map(\.token) })
        let all = Array(Set(r.tokens).union(candidates)).sorted()
        let texts = Dictionary(uniqueKeysWithValues: zip(all, try await detokenizeEach(all, model: name, client)))
        var header = ["index", "token", "logprob", "text"]
        if r.topLogprobs != nil { header.append("top") }
        Output.table(header, r.tokens.indices.map { i in
            var row = [String(i), String(r.tokens[i]), Output.number(r.logprobs[i]), Output.quoted(texts[r.tokens[i]] ?? "")]
            if let top = r.topLogprobs {
                let list = (i < top.count ? top[i] : nil) ?? []
                row.append(list.map { "\(Output.quoted(texts[$0.token] ?? ""))=\(Output.number($0.logprob, digits: 2))" }
                    .joined(separator: " "))
            }
            return row
        })
        Output.line("perplexity: \(Output.number(r.perplexity))")
    }
}
