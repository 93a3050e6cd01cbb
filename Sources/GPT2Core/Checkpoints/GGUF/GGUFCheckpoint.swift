// GGUFCheckpoint — one GGUF file as what the loader plans with: the config (GGUFConfig), tensor
// tables under PyTorch keys (GGUFTensorNames), exact q4 matrices for Q4_0 tensors, the tokenizer.
//
// Tables (SafeTensorsFile over a mapping, as FlaxCheckpoint's):
//   F32 / F16 / BF16 tensors in PyTorch layout (embeddings, vectors)  viewed in the file's mapping
//   F32 / F16 / BF16 Conv1D matrices (stored [out, in])               copied transposed, same type
//   Q8_0 / Q4_0 / Q6_K tensors                                        dequantized to F32 as ggml does
//                                                                     (GGUFDequantize), Conv1D ones
//                                                                     written transposed
// into one anonymous mapping (CopiedTensors). The copies are bounded by 8 × the file's size: each
// tensor's element count was checked against its bytes in the file, and no type widens to F32 by
// more (Q4_0: 128 bytes for 18). Every tensor GPT-2 needs must be present with the shape the
// metadata implies (else `.missingTensor` / `.wrongShape` naming the GGUF tensor); unknown names
// are ignored. With `wantQ4`, Q4_0 weight matrices are also given as q4 matrices
// (`Q4Matrix.exactly`), which the loader serves instead of F32 copies: their F32 entries are then in
// a table of their own that is never written (untouched anonymous pages) nor viewed by a served
// tensor, and is given back once the load is done.

struct GGUFCheckpoint {
    let file: GGUFFile
    let config: GPT2Config
    let tables: [SafeTensorsFile]
    /// Exact q4 matrices of the Q4_0 weight matrices, by PyTorch key (when asked for).
    let q4: [String: any PackedMatrix]
    let tokenizer: EmbeddedTokenizer?

    /// Widening bound of the dequantized copies relative to the file size.
    static let copyLimitFactor = 8

    /// Reads `file`; `wantQ4`: also build the exact q4 matrices of its Q4_0 weight matrices.
    init(file: GGUFFile, wantQ4: Bool, lockInMemory: Bool = false) throws {
        self.file = file
        let c = try GGUFConfig.config(file)
        config = c
        tokenizer = try EmbeddedTokenizer.read(file)
        if let name = GGUFTensorNames.firstMissing(c, has: { file.tensor($0) != nil }) {
            throw CheckpointError.missingTensor(tensor: name, directory: file.path)
        }

        var inPlace: [TensorInfo] = [], copies: [CopiedTensors.Item] = [], packedCopies: [CopiedTensors.Item] = []
        var q4: [String: any PackedMatrix] = [:]
        let base = file.mapping.base
        for t in file.tensors {
            guard let (key, conv1D) = GGUFTensorNames.pytorchKey(t.name) else { continue }
            if let expected = GGUFTensorNames.expectedShape(key, c), t.shape != expected {
                throw CheckpointError.wrongShape(file: file.path, tensor: t.name, expected: expected, found: t.shape)
            }
            let src = base + t.fileRange.lowerBound
            if wantQ4, t.type == .q4_0, GGUFTensorNames.isMatrix(key), let m = Q4Matrix.exactly(q4_0: t, at: src) { q4[key] = m }
            let (rows, cols) = (t.rows, t.rowLength)
            let shape = conv1D ? [cols, rows] : t.shape
            if let dtype = t.type.floatDType {
                if !conv1D {
                    inPlace.append(TensorInfo(name: key, dtype: dtype, shape: shape, dataOffsets: t.fileRange, fileRange: t.fileRange))
                } else {
                    copies.append(CopiedTensors.Item(name: key, dtype: dtype, shape: shape) { dst in
                        CopiedTensors.transpose(src, rows: rows, cols: cols, elementSize: dtype.size, into: dst)
                    })
                }
                continue
            }
            if q4[key] != nil {
                // Served as its q4 matrix: the F32 twin is only planned with (shape, dtype), never read,
                // so it is not written — its pages stay untouched, costing neither time nor memory.
                packedCopies.append(CopiedTensors.Item(name: key, dtype: .F32, shape: shape) { _ in })
                continue
            }
            let type = t.type
            copies.append(CopiedTensors.Item(name: key, dtype: .F32, shape: shape) { dst in
                let out = dst.assumingMemoryBound(to: Float.self)
                guard conv1D else { GGUFDequantize.values(type, src, count: rows * cols, into: out); return }
                let row = UnsafeMutablePointer<Float>.allocate(capacity: cols)
                defer { row.deallocate() }
                let rowBytes = cols / type.blockSize * type.blockBytes
                for j in 0..<rows {
                    GGUFDequantize.values(type, src + j * rowBytes, count: cols, into: row)
                    for p in 0..<cols { out[p * rows + j] = row[p] }
                }
            })
        }
        let (limit, overflow) = file.mapping.size.multipliedReportingOverflow(by: Self.copyLimitFactor)
        var tables = [SafeTensorsFile(mapping: file.mapping, tensors: inPlace, metadata: ["format": "gguf"])]
        // (The q4 matrices' F32 twins are only planned with, never written or served: not locked.)
        for (items, what, lock) in [(copies, "dequantized / transposed", lockInMemory), (packedCopies, "Q4_0 dequantized, served as q4", false)] {
            if let copied = try CopiedTensors.table(items, name: file.path + " (\(what))", file: file.path,
                                                    limit: overflow ? Int.max : limit, lock: lock) {
                tables.append(copied)
            }
        }
        self.tables = tables
        self.q4 = q4
    }
}
