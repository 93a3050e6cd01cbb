// tag result: {entities: [...]} with the token-classification pipeline's keys:
// aggregation "none" → {entity, score, index, word, start, end}; otherwise {entity_group, score, word, start, end}.

import GPT2JSON

public struct TagResponse: WireResponse {
    public var entities: [TagEntity]

    public init(entities: [TagEntity]) { self.entities = entities }

    public init(from body: JSONObject) throws(WireError) {
        entities = try FieldReader(body).objects("entities") { (o) throws(WireError) in try TagEntity(from: o) }
    }

    public func json() -> JSONObject { ["entities": .array(entities.map { .object($0.json()) })] }
}

/// One entity. `index` is set for aggregation "none" only; then the label is written as `entity`,
/// otherwise as `entity_group`.
public struct TagEntity: Sendable, Equatable {
    public var label: String
    public var score: Double?
    /// Token position (aggregation "none"); nil for grouped entities.
    public var index: Int?
    /// "none": the raw byte-level token (e.g. "Ġname"); grouped: the decoded text (e.g. " name").
    public var word: String
    /// Code-point offsets into the text, half-open, including a leading space.
    public var start: Int
    public var end: Int

    public init(label: String, score: Double?, index: Int?, word: String, start: Int, end: Int) {
        self.label = label
        self.score = score
        self.index = index
        self.word = word
        self.start = start
        self.end = end
    }

    public var isGrouped: Bool { index == nil }

    public init(from o: JSONObject) throws(WireError) {
        let r = FieldReader(o)
        if let e = try r.optionalString("entity") {
            label = e
            index = try r.int("index")
        } else {
            label = try r.string("entity_group")
            index = nil
        }
        score = try r.optionalDouble("score")
        word = try r.string("word")
        start = try r.int("start")
        end = try r.int("end")
    }

    public func json() -> JSONObject {
        var o = JSONObject()
        if let index {
            o["entity"] = .string(label)
            o["score"] = score.map(TaskNumbers.json) ?? .null
            o["index"] = .int(Int64(index))
        } else {
            o["entity_group"] = .string(label)
            o["score"] = score.map(TaskNumbers.json) ?? .null
        }
        o["word"] = .string(word)
        o["start"] = .int(Int64(start))
        o["end"] = .int(Int64(end))
        return o
    }
}
