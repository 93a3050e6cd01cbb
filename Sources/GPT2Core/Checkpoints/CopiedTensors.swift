// CopiedTensors — tensors a container cannot expose in place (a Flax or Keras kernel stored in the
// other orientation, every HDF5 dataset), written once into one anonymous read-only mapping and
// exposed as a tensor table (SafeTensorsFile over MappedFile(anonymous:)). Each tensor starts on a
// 64-byte boundary, so F32 ones are viewed in place by the loader like a mapped file's.
//
// The caller sizes every tensor from a file it has already bounded: the total is checked against
// `limit` (the source file's size) before anything is allocated.

enum CopiedTensors {
    /// One tensor to copy: its table entry and the closure that writes its count · dtype size bytes.
    struct Item {
        let name: String
        let dtype: SafeTensorsDType
        /// The shape as the loader sees it (after any transposition).
        let shape: [Int]
        let fill: (UnsafeMutableRawPointer) throws -> Void

        var byteCount: Int { shape.reduce(1, *) * dtype.size }
    }

    static let alignment = 64

    /// The table over one anonymous mapping named `name` holding every item (nil for none), mlock'ed
    /// when `lock`. Throws `.badStorage` naming `file` when the items together exceed `limit` bytes.
    static func table(_ items: [Item], name: String, file: String, limit: Int, lock: Bool = false) throws -> SafeTensorsFile? {
        guard !items.isEmpty else { return nil }
        var offsets: [Int] = []
        var total = 0, payload = 0
        for item in items {
            payload += item.byteCount
            guard payload <= limit else {
                throw CheckpointError.badStorage(file: file, tensor: item.name,
                                                 reason: "the tensors up to this one need \(payload) bytes, more than the \(limit)-byte file holds")
            }
            offsets.append(total)
            total += (item.byteCount + alignment - 1) / alignment * alignment
        }
        var infos: [TensorInfo] = []
        let mapping = try MappedFile(anonymous: name, byteCount: total) { buffer in
            for (item, at) in zip(items, offsets) {
                try item.fill(buffer.baseAddress! + at)
                let range = at..<(at + item.byteCount)
                infos.append(TensorInfo(name: item.name, dtype: item.dtype, shape: item.shape, dataOffsets: range, fileRange: range))
            }
        }
        if lock { try mapping.lock() }
        return SafeTensorsFile(mapping: mapping, tensors: infos, metadata: [:])
    }

    /// dst (cols, rows) = src (rows, cols)ᵀ for elements of `elementSize` bytes, both row-major.
    static func transpose(_ src: UnsafeRawPointer, rows: Int, cols: Int, elementSize e: Int, into dst: UnsafeMutableRawPointer) {
        let b = 32
        for r0 in stride(from: 0, to: rows, by: b) {
            for c0 in stride(from: 0, to: cols, by: b) {
                for r in r0..<min(rows, r0 + b) {
                    for c in c0..<min(cols, c0 + b) {
                        (dst + (c * rows + r) * e).copyMemory(from: src + (r * cols + c) * e, byteCount: e)
                    }
                }
            }
        }
    }
}
