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

    public init(index: Int, token: Int, text: String, logprob: Double? = nil) {
        self.index = index
        self.token = token
        self.text = text
        self.logprob = logprob
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        index = try r.int("index")
        token = try r.int("token")
        text = try r.string("text")
        logprob = try r.optionalDouble("logprob")
    }

    public func json() -> JSONObject {
        var o: JSONObject = ["index": .int(Int64(index)), "token": .int(Int64(token)), "text": .string(text)]
        o.set("logprob", logprob.map { .double($0) })
        return o
    }
}
