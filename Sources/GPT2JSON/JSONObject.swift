// JSONObject — the members of a JSON object, in order.

/// An ordered list of unique keys with values.
///
/// Key order is kept as parsed or inserted (serialization follows it). Keys are unique: a duplicate key
/// — in parsed text or in `init(_:)` — keeps the position of its first occurrence and the value of its
/// last ("last wins"), which is what json-c does (`JSON.parse(_:rejectDuplicateKeys: true)` makes a
/// parsed duplicate an error instead). Equality ignores order.
public struct JSONObject: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: JSON)] = []

    public init() {}

    public init(_ entries: some Sequence<(String, JSON)>) {
        for (k, v) in entries { self[k] = v }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    /// Get: the value for `key`. Set: replace in place, append when new, remove when `nil`.
    public subscript(key: String) -> JSON? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            let i = entries.firstIndex(where: { $0.key == key })
            switch (i, newValue) {
            case (let i?, let v?): entries[i].value = v
            case (let i?, nil): entries.remove(at: i)
            case (nil, let v?): entries.append((key, v))
            case (nil, nil): break
            }
        }
    }

    /// Appends a member whose key the caller knows is new (the parser: json-c has merged duplicates), without
    /// the linear search of the subscript, so a 50 000-key vocab.json converts in linear time.
    mutating func appendUniqueKey(_ key: String, _ value: JSON) {
        entries.append((key, value))
    }

    mutating func reserveCapacity(_ n: Int) { entries.reserveCapacity(n) }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for (k, v) in a.entries where b[k] != v { return false }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }
}

extension JSONObject: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { entries.makeIterator() }
}
