// PickleValue — what the restricted unpickler (RestrictedUnpickler) builds: plain data, the few
// torch objects a state dict holds, and references to mutable containers.
//
// Lists and dicts are mutable and shared in Python (a memo entry and the stack name the same
// object), so they live in a flat table (`PickleContainers`) and values hold their index: appending
// through one reference is seen through every other, a container can even hold itself, and nothing
// is ever freed recursively. Tuples are immutable and held by value with their nesting depth, which
// RestrictedUnpickler bounds — so no value is deep enough to overflow the stack when freed or read.

/// One unpickled value. Containers are `.list` / `.dict` indices into `PickleContainers`.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits: little-endian two's-complement bytes (LONG1/LONG4), at most
    /// RestrictedUnpickler.Limits.longBytes of them (the legacy format's magic number is 10 bytes).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(Int)
    case dict(Int)
    /// An allow-listed global, not yet called.
    case global(PickleGlobal)
    /// A storage named by a persistent id (BINPERSID).
    case storage(TorchStorageRef)
    /// The result of torch._utils._rebuild_tensor(_v2) / _rebuild_parameter.
    case tensor(TorchTensorRef)

    /// Nesting depth: 1 for a tuple of scalars, `items`' depth + 1 for tuples of tuples, 1 for a
    /// container reference (its items are not nested in the value).
    var depth: Int {
        if case .tuple(let t) = self { return t.depth }
        return 0
    }

    /// A short type name for error messages (never the contents).
    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return "global \(g.qualifiedName)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// An immutable tuple and its nesting depth (1 + the deepest item's).
struct PickleTuple {
    let items: [PickleValue]
    let depth: Int

    init(_ items: [PickleValue]) {
        self.items = items
        depth = 1 + (items.map(\.depth).max() ?? 0)
    }
}

/// A dict's entries in insertion order, with a hash index for string and int keys (so setting
/// n items costs O(n), whatever the file does). A repeated key replaces the earlier value, as in
/// Python; keys of any other type (a state dict only has string keys) are kept as new entries.
struct PickleDict {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var byString: [String: Int] = [:]
    private var byInt: [Int: Int] = [:]

    var count: Int { keys.count }
    var pairs: [(PickleValue, PickleValue)] { Array(zip(keys, values)) }

    /// Sets `key` to `value`; returns true when the key is new.
    mutating func set(_ key: PickleValue, _ value: PickleValue) -> Bool {
        var existing: Int?
        switch key {
        case .string(let s): existing = byString[s]; if existing == nil { byString[s] = keys.count }
        case .int(let i): existing = byInt[i]; if existing == nil { byInt[i] = keys.count }
        default: existing = nil
        }
        if let at = existing { values[at] = value; return false }
        keys.append(key); values.append(value)
        return true
    }
}

/// The mutable containers of one unpickling, by index.
struct PickleContainers {
    enum Container {
        case list([PickleValue])
        case dict(PickleDict)
    }

    private(set) var all: [Container] = []
    /// Items held by every container together (bounded by RestrictedUnpickler.Limits.items).
    private(set) var itemCount = 0

    mutating func newList(_ items: [PickleValue] = []) -> PickleValue {
        all.append(.list(items)); itemCount += items.count
        return .list(all.count - 1)
    }

    mutating func newDict() -> PickleValue {
        all.append(.dict(PickleDict()))
        return .dict(all.count - 1)
    }

    mutating func append(_ items: [PickleValue], toList index: Int) {
        guard case .list(var list) = all[index] else { return }
        all[index] = .list([])  // keep `list` uniquely referenced while it grows
        list.append(contentsOf: items)
        all[index] = .list(list)
        itemCount += items.count
    }

    /// Sets `pairs` (key, value) in dict `index`.
    mutating func set(_ pairs: [(PickleValue, PickleValue)], inDict index: Int) {
        guard case .dict(var dict) = all[index] else { return }
        all[index] = .list([])
        for (k, v) in pairs where dict.set(k, v) { itemCount += 1 }
        all[index] = .dict(dict)
    }

    /// The list's items (empty for a dict index).
    func listItems(_ index: Int) -> [PickleValue] {
        if case .list(let l) = all[index] { return l }
        return []
    }

    /// The dict's (key, value) pairs in insertion order (empty for a list index).
    func dictPairs(_ index: Int) -> [(PickleValue, PickleValue)] {
        if case .dict(let d) = all[index] { return d.pairs }
        return []
    }

    func dictCount(_ index: Int) -> Int {
        if case .dict(let d) = all[index] { return d.count }
        return 0
    }
}
