// score result: {tokens, logprobs, perplexity, top_logprobs?}.

import GPT2JSON

public struct ScoreResponse: WireResponse {
    public var tokens: [Int]
    /// log P(tokens[i] | tokens[..<i]); the first is null (nothing conditions it), as is any -inf.
    public var logprobs: [Double?]
    /// exp(-mean(logprobs[1...])); null for a single token.
    public var perplexity: Double?
    /// When requested: per position, the top_logprobs most likely tokens, best first; null at position 0.
    public var topLogprobs: [[TokenLogprob]?]?

    public init(tokens: [Int], logprobs: [Double?], perplexity: Double?, topLogprobs: [[TokenLogprob]?]? = nil) {
        self.tokens = tokens
        self.logprobs = logprobs
        self.perplexity = perplexity
        self.topLogprobs = topLogprobs
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        tokens = try r.intArray("tokens")
        logprobs = try GenerateResponse.optionalDoubles(try r.array("logprobs"), "logprobs")
        perplexity = try r.optionalDouble("perplexity")
        if let rows = try r.optionalArray("top_logprobs") {
            var out = [[TokenLogprob]?]()
            for (i, row) in rows.enumerated() {
                if row.isNull { out.append(nil); continue }
                guard let items = row.arrayValue else {
                    throw .invalidField("top_logprobs[\(i)]", expected: "an array or null", got: row)
                }
                var list = [TokenLogprob]()
                for item in items {
                    guard let o = item.objectValue else {
                        throw .invalidField("top_logprobs[\(i)]", expected: "objects {token, logprob}", got: item)
                    }
                    list.append(try TokenLogprob(from: o))
                }
                out.append(list)
            }
            topLogprobs = out
        } else {
            topLogprobs = nil
        }
    }

    public func json() -> JSONObject {
        var o: JSONObject = [
            "tokens": tokens.json,
            "logprobs": .array(logprobs.map { $0.map(JSON.double) ?? .null }),
            "perplexity": perplexity.map(JSON.double) ?? .null,
        ]
        o.set("top_logprobs", topLogprobs.map { rows in
            .array(rows.map { row in row.map { .array($0.map { .object($0.json()) }) } ?? .null })
        })
        return o
    }
}

/// A candidate token and its log-probability.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int
    public var logprob: Double?

    public init(token: Int, logprob: Double?) {
        self.token = token
        self.logprob = logprob
    }

    public init(from o: JSONObject) throws(WireError) {
        let r = FieldReader(o)
        token = try r.int("token")
        logprob = try r.optionalDouble("logprob")
    }

    public func json() -> JSONObject {
        ["token": .int(Int64(token)), "logprob": logprob.map(JSON.double) ?? .null]
    }
}

extension TokenLogprob {
    /// Decodes an array of {token, logprob} objects; `key` names the field in errors.
    static func list(_ a: [JSON], _ key: String) throws(WireError) -> [TokenLogprob] {
        var out: [TokenLogprob] = []
        for (i, e) in a.enumerated() {
            guard let o = e.objectValue else { throw .invalidField("\(key)[\(i)]", expected: "an object", got: e) }
            out.append(try TokenLogprob(from: o))
        }
        return out
    }
}
