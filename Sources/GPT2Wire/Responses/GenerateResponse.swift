// generate result: {text, tokens, finish_reason, usage, timing, logprobs?}.

import GPT2JSON

public struct GenerateResponse: WireResponse {
    public enum FinishReason: String, Sendable, Equatable {
        /// max_new_tokens reached (or the context filled up when max_new_tokens was unset).
        case length
        /// A stop string matched.
        case stop
        /// The model produced <|endoftext|> (included in `tokens`, not in `text`).
        case eos
    }

    /// The generated text (prompt excluded; a matched stop string and what follows it excluded).
    public var text: String
    /// The generated token ids (prompt excluded).
    public var tokens: [Int]
    public var finishReason: FinishReason
    public var usage: Usage
    public var timing: Timing
    /// Per generated token, when the request set "logprobs": true (null for -inf).
    public var logprobs: [Double?]?

    /// Per-step alternatives, when the request set "top_logprobs".
    public var topLogprobs: [[TokenLogprob]]?
    /// Every returned sequence when num_return_sequences > 1 (best first for beam search); the
    /// top-level text/tokens/finish_reason/logprobs repeat sequences[0].
    public var sequences: [GeneratedSequence]?

    public init(text: String, tokens: [Int], finishReason: FinishReason, usage: Usage, timing: Timing, logprobs: [Double?]? = nil,
                topLogprobs: [[TokenLogprob]]? = nil, sequences: [GeneratedSequence]? = nil) {
        self.text = text
        self.tokens = tokens
        self.finishReason = finishReason
        self.usage = usage
        self.timing = timing
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.sequences = sequences
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        text = try r.string("text")
        tokens = try r.intArray("tokens")
        let reason = try r.string("finish_reason")
        guard let fr = FinishReason(rawValue: reason) else {
            throw .invalidField("finish_reason", expected: "\"length\", \"stop\" or \"eos\"", got: .string(reason))
        }
        finishReason = fr
        usage = try Usage(from: try r.object("usage"))
        timing = try Timing(from: try r.object("timing"))
        logprobs = try r.optionalArray("logprobs").map { a throws(WireError) in try Self.optionalDoubles(a, "logprobs") }
        topLogprobs = try r.optionalArray("top_logprobs").map { a throws(WireError) in try Self.topLists(a) }
        sequences = try r.optionalArray("sequences").map { a throws(WireError) in
            var out: [GeneratedSequence] = []
            for (i, e) in a.enumerated() {
                guard let o = e.objectValue else { throw .invalidField("sequences[\(i)]", expected: "an object", got: e) }
                out.append(try GeneratedSequence(from: o))
            }
            return out
        }
    }

    static func topLists(_ a: [JSON]) throws(WireError) -> [[TokenLogprob]] {
        var out: [[TokenLogprob]] = []
        for (i, e) in a.enumerated() {
            guard let step = e.arrayValue else { throw .invalidField("top_logprobs[\(i)]", expected: "an array", got: e) }
            out.append(try TokenLogprob.list(step, "top_logprobs[\(i)]"))
        }
        return out
    }

    public func json() -> JSONObject {
        var o: JSONObject = [
            "text": .string(text), "tokens": tokens.json, "finish_reason": .string(finishReason.rawValue),
            "usage": .object(usage.json()), "timing": .object(timing.json()),
        ]
        o.set("logprobs", logprobs.map { .array($0.map { $0.map(JSON.double) ?? .null }) })
        o.set("top_logprobs", topLogprobs.map { .array($0.map { .array($0.map { .object($0.json()) }) }) })
        o.set("sequences", sequences.map { .array($0.map { .object($0.json()) }) })
        return o
    }

    static func optionalDoubles(_ a: [JSON], _ key: String) throws(WireError) -> [Double?] {
        var out = [Double?]()
        for (i, e) in a.enumerated() {
            if e.isNull { out.append(nil); continue }
            guard let d = e.doubleValue else { throw .invalidField("\(key)[\(i)]", expected: "a number or null", got: e) }
            out.append(d)
        }
        return out
    }

    /// Token counts.
    public struct Usage: Sendable, Equatable {
        /// Tokens in the prompt (including any reused from the session cache).
        public var promptTokens: Int
        public var completionTokens: Int
        /// Prompt tokens whose KV entries came from the session cache (not recomputed).
        public var cachedTokens: Int

        public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.cachedTokens = cachedTokens
        }

        public init(from o: JSONObject) throws(WireError) {
            let r = FieldReader(o)
            promptTokens = try r.int("prompt_tokens")
            completionTokens = try r.int("completion_tokens")
            cachedTokens = try r.int("cached_tokens", default: 0)
        }

        public func json() -> JSONObject {
            ["prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
             "cached_tokens": .int(Int64(cachedTokens))]
        }
    }

    /// Wall-clock milliseconds.
    public struct Timing: Sendable, Equatable {
        /// Waiting before compute started.
        public var queueMs: Double
        /// Prompt processing (prefill).
        public var promptMs: Double
        /// Token generation (decode).
        public var completionMs: Double
        /// From request line received to result line written.
        public var totalMs: Double

        public init(queueMs: Double, promptMs: Double, completionMs: Double, totalMs: Double) {
            self.queueMs = queueMs
            self.promptMs = promptMs
            self.completionMs = completionMs
            self.totalMs = totalMs
        }

        public init(from o: JSONObject) throws(WireError) {
            let r = FieldReader(o)
            queueMs = try r.double("queue_ms")
            promptMs = try r.double("prompt_ms")
            completionMs = try r.double("completion_ms")
            totalMs = try r.double("total_ms")
        }

        public func json() -> JSONObject {
            ["queue_ms": .double(queueMs), "prompt_ms": .double(promptMs),
             "completion_ms": .double(completionMs), "total_ms": .double(totalMs)]
        }
    }
}
