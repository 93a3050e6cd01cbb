// token line body: {index, token, text, logprob?} — one per generated token when "stream": true.

import GPT2JSON

public struct TokenEvent: WireObject {
    /// 0-based position among the generated tokens.
    public var index: Int
    public var token: Int
    /// Text that became final with this token. May be "" when the token ends inside a multi-byte
    /// character (the bytes are held back and sent with a later token); concatenating all events'
    /// text gives the result's text, except text withheld by a stop string.
    public var text: String
    /// Log-probability of the token, present when the request set "logprobs": true (null if -inf).
    public var logprob: Double?
    /// Which of the request's sequences (num_return_sequences > 1); nil (omitted) for a single one.
    public var sequence: Int?
    /// The most likely alternatives at this step, when the request set "top_logprobs".
    public var topLogprobs: [TokenLogprob]?

    public static let wireDefaults = TokenEvent(index: 0, token: 0, text: "")
    public static let wireFields: [WireField<Self>] = [
        .required("index", \.index, .int()),
        .required("token", \.token, .int()),
        .required("text", \.text, .string),
        .optional("logprob", \.logprob, .number()),
        .optional("sequence", \.sequence, .int(0...Int.max)),
        .optional("top_logprobs", \.topLogprobs, .array(of: .object(TokenLogprob.self))),
    ]

    public init(index: Int, token: Int, text: String, logprob: Double? = nil, sequence: Int? = nil,
                topLogprobs: [TokenLogprob]? = nil) {
        self.index = index
        self.token = token
        self.text = text
        self.logprob = logprob
        self.sequence = sequence
        self.topLogprobs = topLogprobs
    }
}
