// gpt2ctl generate — continue a prompt, printing tokens as they arrive.

import ArgumentParser
import Dispatch
import GPT2Client
import GPT2Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt with a model, printing the text as it is generated.",
        discussion: """
        The prompt is the argument, or standard input when there is none (one trailing newline is \
        removed), or token ids with --tokens. Only the generated text is printed (not the prompt), \
        followed by a newline. Defaults follow transformers' generate(): greedy decoding, 20 new \
        tokens; --do-sample enables --temperature, --top-k and --top-p.

        With --logprobs each token's log-probability is printed after the text; --verbose prints the \
        finish reason, token counts and timings to standard error. With --json the raw response lines \
        are printed (a token line per token unless --no-stream, then the result line).

        Ctrl-C cancels the generation on the daemon and exits with status 130.

        Examples:
          echo "Hello, I'm a language model" |
            gpt2ctl generate --model gpt2 --max-new-tokens 40
          gpt2ctl generate --model gpt2 --do-sample --seed 42 --top-p 0.9 "Once"
          gpt2ctl generate --model gpt2 --tokens 50256 --stop "." --json
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("The prompt (default: read standard input).", valueName: "prompt"))
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp("Prompt token ids instead of text, e.g. 1,2,3.", valueName: "ids"))
    var tokens: String?

    @Option(name: .customLong("max-new-tokens"), help: "Most tokens to generate (daemon default 20).")
    var maxNewTokens: Int?

    @Flag(name: .customLong("do-sample"), help: "Sample instead of greedy decoding.")
    var doSample = false

    @Option(name: .long, help: "Sampling temperature, > 0 (default 1.0).")
    var temperature: Double?

    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens when sampling; 0 disables (default 50).")
    var topK: Int?

    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass in (0, 1] (default 1.0).")
    var topP: Double?

    @Option(name: .customLong("repetition-penalty"), help: "> 0; 1.0 disables (default 1.0).")
    var repetitionPenalty: Double?

    @Option(name: .long, help: "Random seed for sampling, 0 ... 2^63-1 (default: random).")
    var seed: UInt64?

    @Option(name: .long, help: ArgumentHelp("Stop when this text is generated (repeatable, up to 16).", valueName: "text"))
    var stop: [String] = []

    @Option(name: .long, help: ArgumentHelp("Continue this session: the prompt is appended to its history (see `gpt2ctl session`).", valueName: "id"))
    var session: String?

    @Flag(name: .long, help: "Also print each token's log-probability.")
    var logprobs = false

    @OptionGroup(title: "More generation options (transformers / vLLM names)")
    var more: AdvancedGenerateOptions

    @Flag(name: .customLong("no-stream"), help: "Wait for the whole result instead of streaming tokens.")
    var noStream = false

    @Flag(name: [.short, .long], help: "Print the finish reason, token counts and timings to standard error.")
    var verbose = false

    func validate() throws {
        if prompt != nil && tokens != nil { throw ValidationError("give either a prompt or --tokens, not both") }
        try more.validateValues()
        if let tokens, (try? parseTokenList([tokens], option: "--tokens"))?.isEmpty ?? true {
            throw ValidationError("--tokens needs a non-empty list of token ids, e.g. --tokens 50256 or --tokens 1,2,3")
        }
    }

    func run() async throws {
        let client = connection.makeClient()
        let input: PromptInput
        if let tokens {
            input = .tokens(try parseTokenList([tokens], option: "--tokens"))
        } else {
            let text = textArgumentOrStdin(prompt)
            guard !text.isEmpty else { throw ValidationError("the prompt is empty (give text, pipe it in, or use --tokens)") }
            input = .text(text)
        }
        let name = try await resolveModel(model, client)
        let defaults = GenerateRequest(model: name, input: input)
        let several = more.numReturnSequences > 1
        // Beams reorder until the end (not streamable); several sequences would interleave on a terminal.
        let streaming = !noStream && more.numBeams == 1 && (output.json || !several)
        var request = GenerateRequest(
            model: name, input: input, session: session, maxNewTokens: maxNewTokens, doSample: doSample,
            temperature: temperature ?? defaults.temperature, topK: topK ?? defaults.topK, topP: topP ?? defaults.topP,
            repetitionPenalty: repetitionPenalty ?? defaults.repetitionPenalty, seed: seed, stop: stop,
            stream: streaming, logprobs: logprobs)
        request.advanced = try more.advanced()

        let interrupt = Interrupt.install()
        defer { interrupt.remove() }
        let id: RequestID = 1
        let result: GenerateResponse
        if !streaming {
            result = try await client.generate(request, id: id)
            if output.json {
                Output.resultLine(id: id, result)
            } else if let sequences = result.sequences, sequences.count > 1 {
                for (i, q) in sequences.enumerated() {
                    let score = q.score.map { ", score \(Output.number($0))" } ?? ""
                    Output.line("--- sequence \(i) (\(q.finishReason.rawValue)\(score))")
                    Output.line(q.text)
                }
            } else {
                Output.line(result.text)
            }
        } else {
            var final: GenerateResponse?
            for try await update in client.generateStream(request, id: id) {
                switch update {
                case .token(let t):
                    if output.json { Output.tokenLine(id: id, t) } else { Output.write(t.text) }
                case .done(let r):
                    final = r
                    if output.json { Output.resultLine(id: id, r) } else { Output.line() }
                }
            }
            guard let final else { throw GPT2ClientError.connectionClosed }
            result = final
        }
        if !output.json {
            if logprobs, let lps = result.logprobs { try await printLogprobs(result.tokens, lps, name, client) }
            if verbose { printSummary(result) }
        }
    }

    private func printLogprobs(_ tokens: [Int], _ lps: [Double?], _ model: String, _ client: GPT2Client) async throws {
        let texts = try await detokenizeEach(tokens, model: model, client)
        Output.line()
        Output.table(["index", "token", "logprob", "text"], tokens.indices.map { i in
            [String(i), String(tokens[i]), Output.number(i < lps.count ? lps[i] : nil), Output.quoted(texts[i])]
        })
    }

    private func printSummary(_ r: GenerateResponse) {
        let u = r.usage, t = r.timing
        Output.error("finish_reason: \(r.finishReason.rawValue); prompt_tokens: \(u.promptTokens) "
            + "(cached \(u.cachedTokens)); completion_tokens: \(u.completionTokens); "
            + "ms: queue \(Output.number(t.queueMs, digits: 1)), prompt \(Output.number(t.promptMs, digits: 1)), "
            + "completion \(Output.number(t.completionMs, digits: 1)), total \(Output.number(t.totalMs, digits: 1))")
    }
}

/// `name` if given, else the daemon's only model (a usage error when it serves several or none).
func resolveModel(_ name: String?, _ client: GPT2Client) async throws -> String {
    if let name { return name }
    let models = try await client.models().models
    guard models.count == 1 else {
        let names = models.map(\.name).joined(separator: ", ")
        throw Failure(status: .usage, message: "--model is required (the daemon serves: \(names.isEmpty ? "no models" : names))")
    }
    return models[0].name
}

/// The text of each token, one `detokenize` per token, all in flight at once on the one connection.
func detokenizeEach(_ tokens: [Int], model: String, _ client: GPT2Client) async throws -> [String] {
    try await withThrowingTaskGroup(of: (Int, String).self) { group in
        for (i, t) in tokens.enumerated() {
            group.addTask { (i, try await client.detokenize(model: model, tokens: [t]).text) }
        }
        var out = [String](repeating: "", count: tokens.count)
        for try await (i, text) in group { out[i] = text }
        return out
    }
}

/// SIGINT while a request runs: end with status 130. Closing the connection (process exit) makes the
/// daemon cancel the request (PROTOCOL.md, `cancel`).
struct Interrupt {
    private let source: any DispatchSourceSignal

    static func install() -> Interrupt {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            Output.write("\n")
            terminate(.interrupted)
        }
        source.resume()
        return Interrupt(source: source)
    }

    func remove() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
