// gpt2ctl tokenize / detokenize — the model's tokenizer.

import ArgumentParser
import GPT2Client
import GPT2Wire

struct Tokenize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split a text into the model's token ids.",
        discussion: """
        The text is the argument, or standard input when there is none (one trailing newline is \
        removed). Prints one row per token: its id, its [start, end) span in Unicode code points of the \
        text (GPT-2 tokens carry their leading space), and the text of that span. --ids prints only the \
        ids, comma-separated (input for --tokens of other subcommands).

        Example:
          gpt2ctl tokenize --model gpt2 "Hello world"
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model whose tokenizer to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("The text (default: read standard input).", valueName: "text"))
    var text: String?

    @Flag(name: .long, help: "Print only the ids, comma-separated.")
    var ids = false

    func run() async throws {
        let client = connection.makeClient()
        let t = textArgumentOrStdin(text)
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(TokenizeRequest(model: name, text: t), id: id)
        if output.json {
            Output.resultLine(id: id, r)
        } else if ids {
            Output.line(r.tokens.map(String.init).joined(separator: ","))
        } else {
            let scalars = Array(t.unicodeScalars)
            Output.table(["token", "span", "text"], zip(r.tokens, r.offsets).map { tok, span in
                let lo = max(0, min(span.start, scalars.count)), hi = max(lo, min(span.end, scalars.count))
                var piece = String.UnicodeScalarView()
                piece.append(contentsOf: scalars[lo..<hi])
                return [String(tok), "[\(span.start),\(span.end))", Output.quoted(String(piece))]
            })
        }
    }
}

struct Detokenize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn token ids back into text.",
        discussion: """
        Token ids are given as arguments, separated by commas or spaces (or on standard input when \
        there are none). Prints the text; byte sequences that are not UTF-8 become U+FFFD.

        Example:
          gpt2ctl detokenize --model gpt2 15496,995
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model whose tokenizer to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("Token ids, e.g. 15496,995 (default: read standard input).", valueName: "ids"))
    var tokens: [String] = []

    @Flag(name: .customLong("skip-special-tokens"), help: "Leave out <|endoftext|>.")
    var skipSpecialTokens = false

    func run() async throws {
        let client = connection.makeClient()
        let ids = try parseTokenList(tokens.isEmpty ? [textArgumentOrStdin(nil)] : tokens, option: "ids")
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(DetokenizeRequest(model: name, tokens: ids, skipSpecialTokens: skipSpecialTokens), id: id)
        if output.json { Output.resultLine(id: id, r) } else { Output.line(r.text) }
    }
}
