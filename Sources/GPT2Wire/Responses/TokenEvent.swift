// token line body: {index, token, text, logprob?} — one per generated token when "stream": true.

import GPT2JSON

public struct TokenEvent: Sendable, Equatable {
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

    public init(index: Int, token: Int, text: String, logprob: Double? = nil, sequence: Int? = nil,
                topLogprobs: [TokenLogprob]? = nil) {
        self.index = index
        self.token = token
        self.text = text
        self.logprob = logprob
        self.sequence = sequence
        self.topLogprobs = topLogprobs
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        index = try r.int("index")
        token = try r.int("token")
        text = try r.string("text")
        logprob = try r.optionalDouble("logprob")
        sequence = try r.optionalInt("sequence", range: 0...Int.max)
        topLogprobs = try r.optionalArray("top_logprobs").map { a throws(WireError) in try TokenLogprob.list(a, "top_logprobs") }
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["index": .int(Int64(index)), "token": .int(Int64(token)), "text": .string(text)]
        o.set("logprob", logprob.map { .double($0) })
        o.set("sequence", sequence.map { .int(Int64($0)) })
        o.set("top_logprobs", topLogprobs.map { .array($0.map { .object($0.json()) }) })
        return o
    }
}
