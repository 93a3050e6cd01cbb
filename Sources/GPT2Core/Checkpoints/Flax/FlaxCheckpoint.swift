// FlaxCheckpoint — one `flax_model.msgpack` (or one shard of it) as the loader's tensor tables.
//
// The file is flax.serialization.to_bytes of the parameter tree: nested msgpack maps keyed by
// module names (`transformer` → `h` → `0` → `attn` → `c_attn` → `kernel` / `bias`; `ln_*` →
// `scale` / `bias`; `wte` / `wpe` → `embedding`; FlaxGPT2Model's tree has no `transformer` level)
// whose leaves are ext values of type 1, each payload itself msgpack: [shape (array of ints),
// dtype name ("float32", "float16", "bfloat16"), data (bin, C order, little-endian)].
//
// Both levels pass MsgPackBounds (depth, value count, lengths) before msgpack-c decodes them; every
// leaf's byte count is checked against its shape and dtype. Leaves whose PyTorch layout is the
// stored one (embeddings, biases, layer-norm scales) are viewed in place in the file's mapping (the
// loader converts an F32 one whose bytes are not 4-byte aligned); 2-D kernels are stored transposed
// (ParameterNames) and are copied once, transposed, into one anonymous mapping (CopiedTensors).
// Arrays flax split into chunks (`__msgpack_chunked_array__`, only beyond 1 GiB) are refused.

import CMsgPack

enum FlaxCheckpoint {
    /// The file's tree: nesting of its maps (GPT-2's is 6) plus the top level, with room to spare.
    static let treeLimits = MsgPackLimits(depth: 16, objects: 1 << 20)
    /// One leaf's payload: [shape array, dtype, bin].
    static let leafLimits = MsgPackLimits(depth: 2, objects: 64)
    /// Largest rank accepted.
    static let maxRank = 8

    /// Opens `path`. Returns the table over the file (and one over the transposed kernels). Throws
    /// `CheckpointError` naming the file and the parameter path.
    static func open(path: String, preload: Bool = false, lockInMemory: Bool = false) throws -> [SafeTensorsFile] {
        let mapping = try MappedFile(path: path, preload: preload, lock: lockInMemory)
        mapping.rememberPrefix(64 << 10)
        let document: MsgPackDocument
        do throws(MsgPackBounds.Violation) { document = try MsgPackDocument(mapping.bytes, limits: treeLimits) } catch {
            throw CheckpointError.badMsgPack(file: path, reason: "at byte \(error.offset): \(error.reason)")
        }
        var leaves: [Leaf] = []
        // The decoded values live in the document's zone: keep it until the walk is done.
        try withExtendedLifetime(document) {
            try collect(document.root, path: [], file: path, mapping: mapping, into: &leaves)
        }

        var inPlace: [TensorInfo] = []
        var copies: [CopiedTensors.Item] = []
        for leaf in leaves {
            let (key, isKernel) = ParameterNames.pytorchKey(leaf.path)
            let range = leaf.fileRange
            if isKernel && leaf.shape.count == 2 {
                let (rows, cols) = (leaf.shape[0], leaf.shape[1])
                let source = mapping.base + range.lowerBound, e = leaf.dtype.size
                copies.append(CopiedTensors.Item(name: key, dtype: leaf.dtype, shape: [cols, rows]) { dst in
                    CopiedTensors.transpose(source, rows: rows, cols: cols, elementSize: e, into: dst)
                })
            } else {
                inPlace.append(TensorInfo(name: key, dtype: leaf.dtype, shape: leaf.shape, dataOffsets: range, fileRange: range))
            }
        }
        var files = [SafeTensorsFile(mapping: mapping, tensors: inPlace, metadata: ["format": "flax"])]
        if let copied = try CopiedTensors.table(copies, name: path + " (kernels, transposed)", file: path, limit: mapping.size,
                                                     lock: lockInMemory) {
            files.append(copied)
        }
        return files
    }

    /// One array of the tree.
    struct Leaf {
        /// Its parameter path, e.g. ["transformer", "h", "0", "attn", "c_attn", "kernel"].
        let path: [String]
        let dtype: SafeTensorsDType
        let shape: [Int]
        /// Its data bytes in the file.
        let fileRange: Range<Int>
    }

    /// Walks `node` (a map of maps and ndarray leaves) depth first. MsgPackBounds bounded the depth.
    static func collect(_ node: msgpack_object, path: [String], file: String, mapping: MappedFile, into leaves: inout [Leaf]) throws {
        let name = path.joined(separator: "/")
        switch node.type {
        case MSGPACK_OBJECT_MAP:
            for entry in node.entries {
                guard let key = entry.key.string else {
                    throw CheckpointError.badMsgPack(file: file, reason: "a key under '\(name)' is a msgpack \(entry.key.kindName), expected a string")
                }
                if key == "__msgpack_chunked_array__" {
                    throw CheckpointError.badStorage(file: file, tensor: name, reason: "stored as a chunked array (flax splits arrays over 1 GiB), which is not supported")
                }
                try collect(entry.val, path: path + [key], file: file, mapping: mapping, into: &leaves)
            }
        case MSGPACK_OBJECT_EXT where node.via.ext.type == 1:
            leaves.append(try leaf(node.payload!, path: path, file: file, mapping: mapping))
        default:
            throw CheckpointError.badMsgPack(file: file, reason: "'\(name.isEmpty ? "(top level)" : name)' is a msgpack \(node.kindName), expected a map or an ndarray (ext 1)")
        }
    }

    /// Decodes one ndarray payload: [shape, dtype, data] with data's size checked against both.
    static func leaf(_ payload: UnsafeRawBufferPointer, path: [String], file: String, mapping: MappedFile) throws -> Leaf {
        let name = path.joined(separator: "/")
        let document: MsgPackDocument
        do throws(MsgPackBounds.Violation) { document = try MsgPackDocument(payload, limits: leafLimits) } catch {
            throw CheckpointError.badStorage(file: file, tensor: name, reason: "bad ndarray payload at byte \(error.offset): \(error.reason)")
        }
        return try withExtendedLifetime(document) { try ndarray(document.root.items, name: name, path: path, file: file, mapping: mapping) }
    }

    /// The leaf of a decoded payload's top-level array `parts`.
    private static func ndarray(_ parts: UnsafeBufferPointer<msgpack_object>, name: String, path: [String], file: String,
                                mapping: MappedFile) throws -> Leaf {
        guard parts.count == 3, parts[0].type == MSGPACK_OBJECT_ARRAY, let dtypeName = parts[1].string,
              parts[2].type == MSGPACK_OBJECT_BIN, let data = parts[2].payload else {
            throw CheckpointError.badStorage(file: file, tensor: name, reason: "ndarray payload is not [shape, dtype, bytes]")
        }
        guard parts[0].items.count <= maxRank else {
            throw CheckpointError.badStorage(file: file, tensor: name, reason: "rank \(parts[0].items.count) exceeds \(maxRank)")
        }
        var shape: [Int] = []
        var count = 1
        for d in parts[0].items {
            guard let n = d.count else {
                throw CheckpointError.badStorage(file: file, tensor: name, reason: "shape has a \(d.kindName) that is not a non-negative integer")
            }
            let (m, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw CheckpointError.badStorage(file: file, tensor: name, reason: "shape \(shape + [n]) overflows") }
            shape.append(n); count = m
        }
        let dtype: SafeTensorsDType
        switch dtypeName {
        case "float32": dtype = .F32
        case "float16": dtype = .F16
        case "bfloat16": dtype = .BF16
        default: throw CheckpointError.unsupportedDType(file: file, tensor: name, dtype: dtypeName)
        }
        let (need, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, need == data.count else {
            throw CheckpointError.badStorage(file: file, tensor: name, reason: "shape \(shape) of \(dtypeName) needs \(overflow ? "overflowing" : "\(need)") bytes but the array holds \(data.count)")
        }
        let start = data.count == 0 ? 0 : data.baseAddress! - mapping.base
        guard start >= 0, start + data.count <= mapping.size else {
            throw CheckpointError.badStorage(file: file, tensor: name, reason: "array bytes lie outside the file")  // msgpack-c references the mapping; checked as views rely on it
        }
        return Leaf(path: path, dtype: dtype, shape: shape, fileRange: start..<(start + data.count))
    }
}
