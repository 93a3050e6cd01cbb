// tag result: {entities: [...]} with the token-classification pipeline's keys:
// aggregation "none" → {entity, score, index, word, start, end}; otherwise {entity_group, score, word, start, end}.

import GPT2JSON

public struct TagResponse: WireResponse {
    public var entities: [TagEntity]

    public static let wireDefaults = TagResponse(entities: [])
    public static let wireFields: [WireField<Self>] = [.required("entities", \.entities, .array(of: .object(TagEntity.self)))]

    public init(entities: [TagEntity]) { self.entities = entities }
}

/// One entity. `index` is set for aggregation "none" only; then the label is written as `entity`,
/// otherwise as `entity_group`.
public struct TagEntity: WireObject {
    public var label: String
    public var score: Double?
    /// Token position (aggregation "none"); nil for grouped entities.
    public var index: Int?
    /// "none": the raw byte-level token (e.g. "Ġname"); grouped: the decoded text (e.g. " name").
    public var word: String
    /// Code-point offsets into the text, half-open, including a leading space.
    public var start: Int
    public var end: Int

    public static let wireDefaults = TagEntity(label: "", score: nil, index: nil, word: "", start: 0, end: 0)
    /// The label is "entity" (then "index" is required) or "entity_group" (grouped; no index).
    public static let wireFields: [WireField<Self>] = [
        .custom(read: { r, e throws(WireError) in
            if let label = try r.optional("entity", .string) {
                (e.label, e.index) = (label, try r.required("index", .int()))
            } else {
                (e.label, e.index) = (try r.required("entity_group", .string), nil)
            }
        }, write: { e, o in o[e.isGrouped ? "entity_group" : "entity"] = .string(e.label) }),
        .nullable("score", \.score, .taskScore),
        .custom(read: { _, _ in }, write: { e, o in o.set("index", e.index.map { .int(Int64($0)) }) }),
        .required("word", \.word, .string),
        .required("start", \.start, .int()),
        .required("end", \.end, .int()),
    ]

    public init(label: String, score: Double?, index: Int?, word: String, start: Int, end: Int) {
        self.label = label
        self.score = score
        self.index = index
        self.word = word
        self.start = start
        self.end = end
    }

    public var isGrouped: Bool { index == nil }
}
