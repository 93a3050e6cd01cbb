// gpt2ctl classify / tag / qa / choose / embed — the task ops (PROTOCOL.md §4, "Task ops").

import ArgumentParser
import GPT2Client
import GPT2Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses a string option against an enum's raw values (a usage error names the choices).
private func choice<E: RawRepresentable & CaseIterable>(_ value: String?, _ option: String, _: E.Type) throws -> E?
where E.RawValue == String {
    guard let value else { return nil }
    guard let e = E(rawValue: value) else {
        let names = E.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("\(option) must be one of \(names), got '\(value)'")
    }
    return e
}

/// The text arguments, or (when there are none) all of standard input as one text.
private func textsOrStdin(_ texts: [String]) throws -> [String] {
    let all = texts.isEmpty ? [textArgumentOrStdin(nil)] : texts
    if all.contains(where: \.isEmpty) { throw ValidationError("the text is empty") }
    return all
}

struct Classify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify texts with a sequence-classification model (text-classification pipeline).",
        discussion: """
        The texts are the arguments (classified together, one table each), or standard input when \
        there are none (one trailing newline is removed). Prints the labels and their scores, best \
        first: only the best label unless --top-k is given (--top-k 0: every label). The model must \
        have a classification head (its tasks include classify); otherwise the daemon answers \
        unsupported_task (status 5).

        Examples:
          gpt2ctl classify --model sentiment "I love this movie!"
          gpt2ctl classify --model sentiment --top-k 0 "I love this movie!" "The end."
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("The texts to classify (default: read standard input).", valueName: "text"))
    var texts: [String] = []

    @Option(name: .customLong("top-k"), help: "Show the k best labels; 0 shows every label (default: the best only).")
    var topK: Int?

    @Option(name: .customLong("function-to-apply"),
            help: ArgumentHelp("softmax, sigmoid or none (raw logits); default: the model's.", valueName: "function"),
            completion: .list(ClassifyRequest.Function.allCases.map(\.rawValue)))
    var functionToApply: String?

    func validate() throws {
        if let topK, topK < 0 { throw ValidationError("--top-k must be ≥ 0") }
        if texts.count > 256 { throw ValidationError("at most 256 texts per request") }
        _ = try choice(functionToApply, "--function-to-apply", ClassifyRequest.Function.self)
    }

    func run() async throws {
        let client = connection.makeClient()
        let all = try textsOrStdin(texts)
        let function = try choice(functionToApply, "--function-to-apply", ClassifyRequest.Function.self)
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(ClassifyRequest(model: name, texts: all, batch: all.count > 1, topK: topK,
                                                      function: function), id: id)
        if output.json { return Output.resultLine(id: id, r) }
        for (i, labels) in r.results.enumerated() {
            if r.results.count > 1 {
                if i > 0 { Output.line() }
                Output.line("text \(i): \(Output.quoted(i < all.count ? all[i] : ""))")
            }
            Output.table(["label", "score"], labels.map { [$0.label, Output.number($0.score)] })
        }
    }
}

struct Tag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tag the tokens of a text (named entities; token-classification pipeline).",
        discussion: """
        The text is the argument, or standard input when there is none (one trailing newline is \
        removed). Prints one row per entity: its label, score, the word and its [start, end) span in \
        code points. --aggregation-strategy none (the default) tags each token; simple, first, average \
        and max group tokens into words and entities. Labels given with --ignore-label (repeatable; \
        default O) are dropped; --keep-all drops none. A text longer than --max-length tokens is \
        truncated, unless --stride splits it into overlapping windows (needs an aggregation strategy).

        Examples:
          gpt2ctl tag --model ner "My name is Wolfgang and I live in Berlin"
          gpt2ctl tag --model ner --aggregation-strategy simple --ignore-label O --ignore-label MISC "..."
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("The text to tag (default: read standard input).", valueName: "text"))
    var text: String?

    @Option(name: .customLong("aggregation-strategy"),
            help: ArgumentHelp("none, simple, first, average or max (default: none).", valueName: "strategy"),
            completion: .list(TagRequest.Aggregation.allCases.map(\.rawValue)))
    var aggregationStrategy: String?

    @Option(name: .customLong("ignore-label"), help: ArgumentHelp("Drop entities with this label (repeatable; default: O).", valueName: "label"))
    var ignoreLabels: [String] = []

    @Flag(name: .customLong("keep-all"), help: "Drop no label (ignore_labels []).")
    var keepAll = false

    @Option(name: .customLong("max-length"), help: "Tokens per window (default: the model's n_positions).")
    var maxLength: Int?

    @Option(name: .long, help: "Overlap in tokens between windows of a long text (needs --aggregation-strategy other than none).")
    var stride: Int?

    func validate() throws {
        _ = try choice(aggregationStrategy, "--aggregation-strategy", TagRequest.Aggregation.self)
        if keepAll && !ignoreLabels.isEmpty { throw ValidationError("give either --keep-all or --ignore-label, not both") }
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be ≥ 1") }
        if let stride, stride < 0 { throw ValidationError("--stride must be ≥ 0") }
    }

    func run() async throws {
        let client = connection.makeClient()
        let t = textArgumentOrStdin(text)
        guard !t.isEmpty else { throw ValidationError("the text is empty") }
        let aggregation = try choice(aggregationStrategy, "--aggregation-strategy", TagRequest.Aggregation.self) ?? .none
        let ignore = keepAll ? [] : (ignoreLabels.isEmpty ? ["O"] : ignoreLabels)
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(TagRequest(model: name, text: t, aggregation: aggregation, ignoreLabels: ignore,
                                                 maxLength: maxLength, stride: stride), id: id)
        if output.json { return Output.resultLine(id: id, r) }
        if r.entities.isEmpty { return Output.line("(no entities)") }
        let grouped = aggregation != .none
        var header = ["entity", "score", "word", "start", "end"]
        if !grouped { header.append("index") }
        Output.table(header, r.entities.map { e in
            var row = [e.label, Output.number(e.score), Output.quoted(e.word), String(e.start), String(e.end)]
            if !grouped { row.append(e.index.map(String.init) ?? "-") }
            return row
        })
    }
}

struct QA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa",
        abstract: "Answer a question from a context (extractive question-answering pipeline).",
        discussion: """
        The context is the argument, or standard input when there is none (one trailing newline is \
        removed); --question is required. Prints the answers, best first (--top-k of them), with \
        their scores and [start, end) spans in code points of the context. Long contexts are split \
        into overlapping chunks (--max-seq-len tokens, overlapping by --doc-stride).

        Example:
          gpt2ctl qa --model squad --question "Where do I live?" "My name is Wolfgang and I live in Berlin."
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model to use (default: the daemon's only model).")
    var model: String?

    @Option(name: .long, help: "The question.")
    var question: String

    @Argument(help: ArgumentHelp("The context (default: read standard input).", valueName: "context"))
    var context: String?

    @Option(name: .customLong("top-k"), help: "Answers to show, ≥ 1 (default 1).")
    var topK: Int = 1

    @Option(name: .customLong("doc-stride"), help: "Overlap in tokens between context chunks (default: min(max-seq-len/2, 128)).")
    var docStride: Int?

    @Option(name: .customLong("max-answer-len"), help: "Longest answer in tokens, ≥ 1 (default 15).")
    var maxAnswerLen: Int = 15

    @Option(name: .customLong("max-seq-len"), help: "Tokens per chunk, question included (default: min(384, n_positions)).")
    var maxSeqLen: Int?

    @Option(name: .customLong("max-question-len"), help: "Accepted and ignored, like the pipeline's (default 64).")
    var maxQuestionLen: Int = 64

    @Flag(name: .customLong("handle-impossible-answer"), help: "Also offer the empty answer.")
    var handleImpossibleAnswer = false

    @Flag(name: .customLong("no-align-to-words"), help: "Do not widen answers to whole words.")
    var noAlignToWords = false

    func validate() throws {
        if question.isEmpty { throw ValidationError("--question is empty") }
        if topK < 1 { throw ValidationError("--top-k must be ≥ 1") }
        if maxAnswerLen < 1 { throw ValidationError("--max-answer-len must be ≥ 1") }
        if let docStride, docStride < 0 { throw ValidationError("--doc-stride must be ≥ 0") }
        if let maxSeqLen, maxSeqLen < 2 { throw ValidationError("--max-seq-len must be ≥ 2") }
        if maxQuestionLen < 1 { throw ValidationError("--max-question-len must be ≥ 1") }
    }

    func run() async throws {
        let client = connection.makeClient()
        let ctx = textArgumentOrStdin(context)
        guard !ctx.isEmpty else { throw ValidationError("the context is empty") }
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(QARequest(
            model: name, question: question, context: ctx, topK: topK, docStride: docStride, maxAnswerLen: maxAnswerLen,
            maxSeqLen: maxSeqLen, maxQuestionLen: maxQuestionLen, handleImpossibleAnswer: handleImpossibleAnswer,
            alignToWords: !noAlignToWords), id: id)
        if output.json { return Output.resultLine(id: id, r) }
        if r.answers.isEmpty { return Output.line("(no answer)") }
        Output.table(["answer", "score", "span"], r.answers.map { a in
            [Output.quoted(a.answer), Output.number(a.score), "[\(a.start),\(a.end))"]
        })
    }
}

struct Choose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score multiple choices with a double-heads model's multiple-choice head.",
        discussion: """
        The prompt is the argument, or standard input when there is none and standard input is not a \
        terminal (one trailing newline is removed); it is prepended as text to every --choice \
        (repeatable, at least 2). Prints each choice's score (mc_logit), the best marked with *.

        Example:
          gpt2ctl choose --model mc --choice " mat." --choice " moon." "The cat sat on the"
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("Text prepended to every choice (default: standard input, or none).", valueName: "prompt"))
    var prompt: String?

    @Option(name: .customLong("choice"), help: ArgumentHelp("A choice (repeatable, 2 … 64).", valueName: "text"))
    var choices: [String] = []

    @Option(name: .customLong("mc-token-index"),
            help: ArgumentHelp("Per choice, the token index (into prompt + choice) to score, e.g. 2,3,1 (default: each last token).", valueName: "indices"))
    var mcTokenIndex: String?

    func validate() throws {
        if choices.count < 2 || choices.count > ChooseRequest.maxChoices {
            throw ValidationError("give 2 … \(ChooseRequest.maxChoices) --choice options")
        }
        if let mcTokenIndex {
            let ids = try parseTokenList([mcTokenIndex], option: "--mc-token-index")
            if ids.count != choices.count {
                throw ValidationError("--mc-token-index needs one index per choice (\(choices.count)), got \(ids.count)")
            }
        }
    }

    func run() async throws {
        let client = connection.makeClient()
        let p: String? = prompt ?? (isatty(0) != 0 ? nil : textArgumentOrStdin(nil))
        let indices = try mcTokenIndex.map { try parseTokenList([$0], option: "--mc-token-index") }
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(ChooseRequest(model: name, prompt: (p?.isEmpty ?? true) ? nil : p, choices: choices,
                                                    mcTokenIndex: indices), id: id)
        if output.json { return Output.resultLine(id: id, r) }
        Output.table(["", "index", "score", "choice"], choices.indices.map { i in
            [i == r.best ? "*" : "", String(i), Output.number(i < r.scores.count ? r.scores[i] : nil), Output.quoted(choices[i])]
        })
    }
}

struct Embed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed texts: pooled final hidden states (any model).",
        discussion: """
        The texts are the arguments (embedded together), or standard input when there are none (one \
        trailing newline is removed). Prints, per text, the number of dimensions, the L2 norm and the \
        first --show values; --json prints the whole vectors. --pooling last (default) takes the last \
        token's hidden state, mean the mean over all tokens; --normalize divides by the L2 norm.

        Example:
          gpt2ctl embed --model gpt2 --pooling mean --normalize "Hello world" "Goodbye"
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The model to use (default: the daemon's only model).")
    var model: String?

    @Argument(help: ArgumentHelp("The texts to embed (default: read standard input).", valueName: "text"))
    var texts: [String] = []

    @Option(name: .long, help: ArgumentHelp("last or mean (default: last).", valueName: "pooling"),
            completion: .list(EmbedRequest.Pooling.allCases.map(\.rawValue)))
    var pooling: String?

    @Flag(name: .long, help: "L2-normalize each embedding.")
    var normalize = false

    @Option(name: .long, help: "How many leading values to print per text (default 8).")
    var show: Int = 8

    func validate() throws {
        _ = try choice(pooling, "--pooling", EmbedRequest.Pooling.self)
        if show < 0 { throw ValidationError("--show must be ≥ 0") }
        if texts.count > 256 { throw ValidationError("at most 256 texts per request") }
    }

    func run() async throws {
        let client = connection.makeClient()
        let all = try textsOrStdin(texts)
        let p = try choice(pooling, "--pooling", EmbedRequest.Pooling.self) ?? .last
        let name = try await resolveModel(model, client)
        let id: RequestID = 1
        let r = try await client.send(EmbedRequest(model: name, texts: all, batch: all.count > 1, pooling: p,
                                                   normalize: normalize), id: id)
        if output.json { return Output.resultLine(id: id, r) }
        Output.table(["text", "dims", "norm", "values"], r.embeddings.enumerated().map { i, v in
            let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            var values = v.prefix(show).map { Output.number(Double($0)) }.joined(separator: " ")
            if v.count > show { values += " …" }
            return [Output.quoted(i < all.count ? all[i] : ""), String(v.count), Output.number(norm), "[\(values)]"]
        })
    }
}
