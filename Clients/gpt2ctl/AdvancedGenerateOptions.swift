// The generate() knobs beyond the basic ones (GPT2Wire.GenerateAdvanced), as gpt2ctl options.

import ArgumentParser
import GPT2Wire

struct AdvancedGenerateOptions: ParsableArguments {
    @Option(name: .customLong("min-new-tokens"), help: "Forbid <|endoftext|> before this many new tokens.")
    var minNewTokens: Int?

    @Option(name: .customLong("no-repeat-ngram-size"), help: "Never repeat an n-gram of this size (0 = off).")
    var noRepeatNGramSize: Int?

    @Option(name: .customLong("bad-words"), help: ArgumentHelp("A token sequence that may not be generated, e.g. 11,314 (repeatable).", valueName: "ids"))
    var badWords: [String] = []

    @Option(name: .customLong("suppress-tokens"), help: ArgumentHelp("Token ids never generated, e.g. 13,30.", valueName: "ids"))
    var suppressTokens: String?

    @Option(name: .customLong("logit-bias"), help: ArgumentHelp("Add BIAS (-100 ... 100) to token ID's logit (repeatable).", valueName: "id=bias"))
    var logitBias: [String] = []

    @Option(name: .customLong("min-p"), help: "Min-p sampling threshold in [0, 1] (0 = off).")
    var minP: Double?

    @Option(name: .customLong("typical-p"), help: "Typical-p sampling mass in (0, 1] (1 = off).")
    var typicalP: Double?

    @Option(name: .customLong("presence-penalty"), help: "OpenAI-style presence penalty in [-2, 2].")
    var presencePenalty: Double?

    @Option(name: .customLong("frequency-penalty"), help: "OpenAI-style frequency penalty in [-2, 2].")
    var frequencyPenalty: Double?

    @Option(name: [.short, .customLong("num-return-sequences")], help: "Return this many sequences (1 ... 16; needs --do-sample or --num-beams).")
    var numReturnSequences: Int = 1

    @Option(name: .customLong("num-beams"), help: "Beam search with this many beams (> 1; not streamed).")
    var numBeams: Int = 1

    @Option(name: .customLong("length-penalty"), help: "Beam search length penalty (default 1.0).")
    var lengthPenalty: Double?

    @Option(name: .customLong("early-stopping"), help: ArgumentHelp("Beam search stopping rule: true, false or never.", valueName: "rule"))
    var earlyStopping: String?

    @Option(name: .customLong("top-logprobs"), help: "Also return the N most likely alternatives per step (0 ... 20).")
    var topLogprobs: Int?

    @Option(name: .customLong("logprobs-mode"), help: ArgumentHelp("Log-probabilities before (raw) or after (processed) the logits processors.", valueName: "mode"))
    var logprobsMode: String?

    @Flag(name: .customLong("include-stop-str-in-output"), help: "Keep a matched stop string in the text.")
    var includeStopStrInOutput = false

    @Flag(name: .customLong("ignore-eos"), help: "Keep generating after <|endoftext|>.")
    var ignoreEOS = false

    func validateValues() throws {
        _ = try advanced()
    }

    /// The wire form; range checks are the daemon's (its errors name the field).
    func advanced() throws -> GenerateAdvanced {
        var a = GenerateAdvanced()
        if let minNewTokens { a.minNewTokens = minNewTokens }
        if let noRepeatNGramSize { a.noRepeatNGramSize = noRepeatNGramSize }
        a.badWordsIDs = try badWords.map { try parseTokenList([$0], option: "--bad-words") }
        if let suppressTokens { a.suppressTokens = try parseTokenList([suppressTokens], option: "--suppress-tokens") }
        for item in logitBias {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let id = Int(parts[0]), id >= 0, let bias = Double(parts[1]) else {
                throw ValidationError("--logit-bias: '\(item)' is not ID=BIAS (e.g. 50256=-100)")
            }
            a.logitBias[id] = bias
        }
        if let minP { a.minP = minP }
        if let typicalP { a.typicalP = typicalP }
        if let presencePenalty { a.presencePenalty = presencePenalty }
        if let frequencyPenalty { a.frequencyPenalty = frequencyPenalty }
        a.numReturnSequences = numReturnSequences
        a.numBeams = numBeams
        if let lengthPenalty { a.lengthPenalty = lengthPenalty }
        if let earlyStopping {
            guard let rule = GenerateAdvanced.EarlyStopping(rawValue: earlyStopping) else {
                throw ValidationError("--early-stopping must be true, false or never")
            }
            a.earlyStopping = rule
        }
        if let topLogprobs { a.topLogprobs = topLogprobs }
        if let logprobsMode {
            guard let mode = GenerateAdvanced.LogprobsMode(rawValue: logprobsMode) else {
                throw ValidationError("--logprobs-mode must be raw or processed")
            }
            a.logprobsMode = mode
        }
        a.includeStopStrInOutput = includeStopStrInOutput
        a.ignoreEOS = ignoreEOS
        return a
    }
}
