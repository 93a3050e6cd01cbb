// GGUFFile — the container of a llama.cpp / Ollama model file, read over its read-only mapping
// (nothing copied). Layout (ggml's docs/gguf.md; versions 2 and 3, little-endian):
//
//   "GGUF" | version u32 | tensor_count u64 | kv_count u64
//   kv_count × (key: string, type u32, value)          string = length u64 + UTF-8 bytes
//                                                      array  = element type u32, count u64, elements
//   tensor_count × (name: string, n_dims u32, dims u64 × n_dims (ne0 first: the contiguous one),
//                   ggml type u32, offset u64 from the data start)
//   padding to general.alignment (default 32) | data
//
// Bounds, all checked before anything is allocated or read, with overflow-safe arithmetic: every
// count is at most the bytes left divided by its item's smallest size (and a fixed cap), every string
// and array lies inside the file, keys and tensor names are unique UTF-8, arrays of arrays are
// refused, a tensor has ≤ 4 dims whose product and byte size do not overflow, its row length is a
// whole number of blocks of its type, its offset is a multiple of the alignment (a power of two) and
// its bytes lie inside the file. A failure is `CheckpointError.badGGUF` naming the file and the item
// (the tensor by its GGUF name), or `.unsupportedGGMLType` for a tensor of a type gpt2d cannot read.

/// One tensor of the file.
struct GGUFTensor {
    /// Its GGUF name, e.g. "blk.0.attn_qkv.weight".
    let name: String
    /// ne0, ne1, …: ne0 is the row length (contiguous); numpy's shape is the reverse.
    let dims: [Int]
    let type: GGMLType
    /// Its bytes in the file.
    let fileRange: Range<Int>

    var count: Int { dims.reduce(1, *) }
    /// The shape in numpy / PyTorch order (outermost first).
    var shape: [Int] { dims.reversed() }
    /// Row length ne0 and the number of rows (the product of the other dims).
    var rowLength: Int { dims.first ?? 1 }
    var rows: Int { dims.dropFirst().reduce(1, *) }
}

/// A validated GGUF file.
final class GGUFFile {
    static let magic: [UInt8] = Array("GGUF".utf8)
    static let versions: ClosedRange<UInt32> = 2...3
    static let defaultAlignment = 32
    /// Caps beyond any GPT-2 file (gpt2-xl has 582 tensors and ~30 keys).
    static let maxTensors = 1 << 16, maxKeys = 1 << 20, maxDims = 4
    /// Longest key or tensor name (llama.cpp's names are ≤ 64 bytes).
    static let maxNameBytes = 1 << 16

    let mapping: MappedFile
    let version: UInt32
    let metadata: [String: GGUFValue]
    /// In file order.
    let tensors: [GGUFTensor]
    /// Index into `tensors` by name.
    private let index: [String: Int]
    let alignment: Int
    /// File offset of the data area (tensor offsets are relative to it).
    let dataStart: Int

    var path: String { mapping.path }

    /// Maps and validates `path`.
    static func open(path: String, preload: Bool = false, lockInMemory: Bool = false) throws -> GGUFFile {
        try GGUFFile(mapping: try MappedFile(path: path, preload: preload, lock: lockInMemory))
    }

    init(mapping: MappedFile) throws {
        self.mapping = mapping
        var r = GGUFCursor(bytes: mapping.bytes, file: mapping.path)
        guard mapping.size >= 4, Array(mapping.bytes[0..<4]) == Self.magic else {
            throw CheckpointError.badGGUF(file: mapping.path, reason: "wrong magic: the file does not start with \"GGUF\"")
        }
        r.at = 4
        let version = try r.u32("the version")
        guard Self.versions.contains(version) else {
            let hint = version > 3 && Self.versions.contains(version.byteSwapped) ? " (a big-endian file: gpt2d reads little-endian GGUF)"
                : version == 1 ? " (version 1 files predate GGUF v2: convert them again with llama.cpp)" : ""
            throw CheckpointError.badGGUF(file: mapping.path, reason: "unsupported version \(version)\(hint); gpt2d reads versions 2 and 3")
        }
        self.version = version
        let tensorCount = try r.count("tensor_count", itemBytes: 24, cap: Self.maxTensors, reserve: 8)
        let keyCount = try r.count("kv_count", itemBytes: 13, cap: Self.maxKeys)

        var metadata: [String: GGUFValue] = [:]
        for i in 0..<keyCount {
            let key = try r.string("key \(i)", cap: Self.maxNameBytes)
            guard metadata[key] == nil else { throw CheckpointError.badGGUF(file: mapping.path, reason: "metadata key '\(key)' appears twice") }
            let type = try r.u32("the type of '\(key)'")
            metadata[key] = try r.value(of: type, key: key)
        }
        self.metadata = metadata

        var alignment = Self.defaultAlignment
        if let v = metadata["general.alignment"] {
            guard let a = v.count, a > 0, a <= 1 << 16, a & (a - 1) == 0 else {
                throw CheckpointError.badGGUF(file: mapping.path, reason: "general.alignment \(v.text) is not a power of two ≤ 65536")
            }
            alignment = a
        }
        self.alignment = alignment

        var infos: [(name: String, dims: [Int], type: GGMLType, offset: Int, bytes: Int)] = []
        var names = Set<String>()
        for i in 0..<tensorCount {
            let name = try r.string("the name of tensor \(i)", cap: Self.maxNameBytes)
            guard names.insert(name).inserted else { throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' appears twice") }
            let nDims = try r.u32("the n_dims of '\(name)'")
            guard nDims <= Self.maxDims else {
                throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' has \(nDims) dims, more than \(Self.maxDims)")
            }
            var dims: [Int] = [], count = 1
            for _ in 0..<Int(nDims) {
                let d = try r.u64("a dim of '\(name)'")
                guard d <= UInt64(Int.max) else { throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' dim \(d) overflows") }
                let (m, overflow) = count.multipliedReportingOverflow(by: Int(d))
                guard !overflow else { throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' dims \(dims + [Int(d)]) overflow") }
                dims.append(Int(d)); count = m
            }
            let rawType = try r.u32("the type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw CheckpointError.unsupportedGGMLType(file: mapping.path, tensor: name, type: GGMLType.describe(rawType))
            }
            let offset = try r.u64("the offset of '\(name)'")
            guard (dims.first ?? 1) % type.blockSize == 0 else {
                throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' rows of \(dims.first ?? 1) values are not whole \(type.name) blocks of \(type.blockSize)")
            }
            let (bytes, overflow) = (count / type.blockSize).multipliedReportingOverflow(by: type.blockBytes)
            guard !overflow else { throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' byte size overflows") }
            guard offset <= UInt64(Int.max) else {
                throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' offset \(offset) overflows")
            }
            guard Int(offset) % alignment == 0 else {
                throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(name)' offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            infos.append((name, dims, type, Int(offset), bytes))
        }

        // The data area starts at the next multiple of the alignment after the tensor infos.
        let dataStart = (r.at + alignment - 1) / alignment * alignment
        guard infos.isEmpty || dataStart <= mapping.size else {
            throw CheckpointError.badGGUF(file: mapping.path, reason: "the data area would start at \(dataStart), past the end of the \(mapping.size)-byte file")
        }
        self.dataStart = dataStart
        self.index = Dictionary(uniqueKeysWithValues: infos.enumerated().map { ($0.element.name, $0.offset) })
        let room = mapping.size - min(dataStart, mapping.size)
        self.tensors = try infos.map { t in
            guard t.offset <= room, t.bytes <= room - t.offset else {
                throw CheckpointError.badGGUF(file: mapping.path, reason: "tensor '\(t.name)' bytes [\(t.offset), +\(t.bytes)) lie past the end of the \(room)-byte data area")
            }
            return GGUFTensor(name: t.name, dims: t.dims, type: t.type, fileRange: (dataStart + t.offset)..<(dataStart + t.offset + t.bytes))
        }
        // What `MappedFile.restoreIfWhole` compares before mapping the file again: the whole header.
        mapping.rememberPrefix(min(dataStart, mapping.size))
    }

    /// The tensor named `name`, or nil.
    func tensor(_ name: String) -> GGUFTensor? { index[name].map { tensors[$0] } }
}

/// Little-endian reads over the mapping, each checked against the bytes left.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var at = 0

    var left: Int { bytes.count - at }

    func fail(_ reason: String) -> CheckpointError { .badGGUF(file: file, reason: reason) }

    mutating func need(_ n: Int, _ what: String) throws {
        guard n <= left else { throw fail("\(what) needs \(n) bytes at offset \(at), but the file ends after \(left) (truncated?)") }
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        try need(4, what)
        defer { at += 4 }
        return bytes.littleEndian(UInt32.self, at: at)
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        try need(8, what)
        defer { at += 8 }
        return bytes.littleEndian(UInt64.self, at: at)
    }

    /// A u64 count of items of at least `itemBytes` each: ≤ `cap` and ≤ what the rest of the file
    /// (less `reserve` bytes still to come before the items) can hold.
    mutating func count(_ what: String, itemBytes: Int, cap: Int, reserve: Int = 0) throws -> Int {
        let n = try u64(what)
        let room = max(0, left - reserve) / itemBytes
        guard n <= UInt64(cap), n <= UInt64(room) else {
            throw fail("\(what) \(n) exceeds \(n > UInt64(cap) ? "the limit \(cap)" : "what the remaining \(left) bytes can hold")")
        }
        return Int(n)
    }

    /// The byte range of a string's bytes (length ≤ cap, inside the file, valid UTF-8); moves past it.
    mutating func stringBytes(_ what: String, cap: Int) throws -> Range<Int> {
        let n = try u64("the length of \(what)")
        guard n <= UInt64(cap), n <= UInt64(left) else {
            throw fail("\(what): string length \(n) exceeds \(n > UInt64(cap) ? "the limit \(cap)" : "the \(left) bytes left in the file")")
        }
        let range = at..<(at + Int(n))
        guard String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) != nil else {
            throw fail("\(what) is not valid UTF-8")
        }
        at += Int(n)
        return range
    }

    mutating func string(_ what: String, cap: Int) throws -> String {
        let range = try stringBytes(what, cap: cap)
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A metadata value of `type`. Strings have no cap but the file; arrays of arrays are refused.
    mutating func value(of type: UInt32, key: String) throws -> GGUFValue {
        if type == GGUFValueType.string { return .string(try string("'\(key)'", cap: Int.max)) }
        if type == GGUFValueType.array {
            let elementType = try u32("the element type of '\(key)'")
            if elementType == GGUFValueType.array { throw fail("'\(key)' is an array of arrays, which no GPT-2 key is") }
            guard let size = GGUFValueType.scalarSize(elementType) ?? (elementType == GGUFValueType.string ? 8 : nil) else {
                throw fail("'\(key)' is an array of unknown type \(elementType)")
            }
            let n = try count("the element count of '\(key)'", itemBytes: size, cap: Int.max)
            let start = at
            if elementType == GGUFValueType.string {
                for i in 0..<n { _ = try stringBytes("element \(i) of '\(key)'", cap: Int.max) }
            } else {
                at += n * size  // n ≤ left / size: inside the file
            }
            return .array(GGUFArray(elementType: elementType, count: n, range: start..<at))
        }
        guard let size = GGUFValueType.scalarSize(type) else { throw fail("'\(key)' has unknown value type \(type)") }
        try need(size, "the value of '\(key)'")
        defer { at += size }
        func load<T: FixedWidthInteger>(_: T.Type) -> T { bytes.littleEndian(T.self, at: at) }
        switch type {
        case 0: return .unsigned(UInt64(load(UInt8.self)))
        case 1: return .signed(Int64(load(Int8.self)))
        case 2: return .unsigned(UInt64(load(UInt16.self)))
        case 3: return .signed(Int64(load(Int16.self)))
        case 4: return .unsigned(UInt64(load(UInt32.self)))
        case 5: return .signed(Int64(load(Int32.self)))
        case 6: return .float(Double(Float(bitPattern: load(UInt32.self))))
        case 7:
            let b = load(UInt8.self)
            guard b <= 1 else { throw fail("'\(key)' is a bool of value \(b), not 0 or 1") }
            return .bool(b == 1)
        case 10: return .unsigned(load(UInt64.self))
        case 11: return .signed(load(Int64.self))
        default: return .float(Double(bitPattern: load(UInt64.self)))
        }
    }
}
