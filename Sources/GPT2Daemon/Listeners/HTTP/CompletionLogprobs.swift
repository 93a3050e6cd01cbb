// CompletionLogprobs — OpenAI's completions-style `logprobs` object of one choice: parallel arrays
// `tokens` (each token decoded alone), `token_logprobs` (null where the engine has none: the first
// echoed prompt token, -inf), `top_logprobs` (per token an object token → logprob of the k most likely
// alternatives; null for the first echoed prompt token) and `text_offset` (where each token's text
// starts in the choice's text, counted in Unicode scalars — Python's str indices).
import GPT2JSON
import GPT2Tokenizer

struct CompletionLogprobs: Sendable {
    var tokens: [String] = []
    var tokenLogprobs: [Double?] = []
    var topLogprobs: [JSON] = []
    var textOffset: [Int] = []
    /// Where the next token's text starts.
    var nextOffset: Int

    init(startOffset: Int = 0) { nextOffset = startOffset }

    /// Appends one token with its log-probability and alternatives (nil: null in `top_logprobs`).
    mutating func append(_ token: Int, logprob: Double?, alternatives: [RankedToken]?, tokenizer: GPT2Tokenizer) {
        let text = tokenizer.decode([token])
        tokens.append(text)
        tokenLogprobs.append(logprob)
        topLogprobs.append(alternatives.map { alts in
            .object(JSONObject(alts.map { (tokenizer.decode([$0.token]), $0.logprob.map(JSON.double) ?? .null) }))
        } ?? .null)
        textOffset.append(nextOffset)
        nextOffset += text.unicodeScalars.count
    }

    var json: JSON {
        .object([
            "tokens": .array(tokens.map(JSON.string)),
            "token_logprobs": .array(tokenLogprobs.map { $0.map(JSON.double) ?? .null }),
            "top_logprobs": .array(topLogprobs),
            "text_offset": .array(textOffset.map { .int(Int64($0)) }),
        ])
    }
}
