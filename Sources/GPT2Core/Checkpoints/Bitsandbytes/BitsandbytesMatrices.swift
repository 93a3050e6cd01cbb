// BitsandbytesMatrices — the two ways a checked bitsandbytes matrix (BitsandbytesCheckpoint) is
// served: in its own type, a PackedMatrix whose tiles of 16 rows are copied from the checkpoint's
// bytes (`packed`; the file's pages are then given back), or dequantized to F32 exactly as
// bitsandbytes computes its values (`dequantize`), for serving in another type.
//
// Values (bitsandbytes' dequantize_4bit / int8_vectorwise_dequant, weight element i = j·K + p of
// the flat [N, K] matrix):
//   4-bit   code[q_i]·absmax[i / 64], absmax[b] = nested_map[qabsmax[b]]·nested_absmax[b / 256] + offset
//           when double-quantized (F32 operations in that order, as bitsandbytes and CKernels do)
//   int8    q·(SCB[j] / 127) — one F32 rounding of the scale, then one of the product, where
//           bitsandbytes rounds q·SCB, then multiplies by the F32 1/127: five roundings of 2^-24
//           between them, so the two differ by at most 5 ulps of the value (a single multiplier per
//           block is what Int8Matrix's kernels take, so exact equality is not possible).

import CKernels

extension CheckpointLoader {
    /// The bytes of `s` inside its file's mapping.
    private static func bytes(_ s: Source) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: s.file.mapping.bytes[s.info.fileRange])
    }

    /// Block b's absmax of a 4-bit matrix, as bitsandbytes computes it (see the header).
    private static func absmaxReader(_ absmax: Source, _ nested: BitsandbytesMatrix.Nested?) -> (Int) -> Float {
        let a = bytes(absmax)
        guard let nested else {
            return { b in Float(bitPattern: a.littleEndian(UInt32.self, at: 4 * b)) }
        }
        let a2 = bytes(nested.absmax), map = nested.map, offset = nested.offset
        return { b in
            let scale = Float(bitPattern: a2.littleEndian(UInt32.self, at: 4 * (b / 256)))
            return map[Int(a[b])] * scale + offset
        }
    }

    /// Gives the pages of sources copied into gpt2d's layout back to the kernel (MappedFile.discard).
    private static func discard(_ sources: Source?...) {
        for s in sources.compactMap({ $0 }) { s.file.mapping.discard(s.info.fileRange) }
    }

    /// The matrix served in its own type, the checkpoint's bytes copied into the format's tiles
    /// (throws `.badQuantization` for a 4-bit matrix whose K is not a multiple of 64).
    static func bitsandbytesPacked(_ m: BitsandbytesMatrix) throws -> any PackedMatrix {
        let (n, k) = (m.outputs, m.inputs)
        let weight = bytes(m.source)
        switch m.kind {
        case let .fourBit(book, absmax, nested):
            guard k % CodeBook4Bit.block == 0 else {
                throw CheckpointError.badQuantization(
                    file: m.source.file.path, tensor: m.source.info.name,
                    reason: "has \(k) inputs, not a multiple of 64: bitsandbytes' blocks then run across rows, which gpt2d's \(book) layout cannot hold; serve it with another weight_type (e.g. float32)")
            }
            let blocks = n * k / CodeBook4Bit.block
            let dynamic = withUnsafeBytes(of: ck_nf4_dynamic_code) { Array($0.bindMemory(to: Float.self)) }
            let matrix: any PackedMatrix
            func make(_ scales: UnsafeRawBufferPointer, _ nested: (absmax2: [Float], offset: Float)?) throws -> any PackedMatrix {
                book == .fp4 ? try FP4Matrix(bitsandbytes: weight, scales: scales, nested: nested, outputs: n, inputs: k)
                             : try NF4Matrix(bitsandbytes: weight, scales: scales, nested: nested, outputs: n, inputs: k)
            }
            if let nested, nested.map.map(\.bitPattern) == dynamic.map(\.bitPattern) {
                // Double quantization kept: the file's qabsmax, absmax2 and offset.
                let a2 = bytes(nested.absmax)
                let absmax2 = (0..<(a2.count / 4)).map { Float(bitPattern: a2.littleEndian(UInt32.self, at: 4 * $0)) }
                matrix = try make(bytes(absmax), (absmax2, nested.offset))
            } else {
                // Single quantization, or a nested map other than the kernels' table: F32 absmax.
                let read = absmaxReader(absmax, nested)
                let values = (0..<blocks).map(read)
                matrix = try values.withUnsafeBytes { try make($0, nil) }
            }
            // The file's bytes are in the tiles now: give their pages back.
            discard(m.source, absmax, nested?.absmax)
            return matrix
        case let .int8(scb):
            // The file's rows (Int8 [n, k]) and per-row absmax (SCB) into gpt2d's tiles: every block of
            // row j gets the scale SCB[j] / 127.
            let s = bytes(scb)
            let rowScale = (0..<n).map { Float(bitPattern: s.littleEndian(UInt32.self, at: 4 * $0)) / 127 }
            let added = QuantizedBytes(sizes: Int8Matrix.sizes(outputs: n, inputs: k))
            rowScale.withUnsafeBufferPointer { rs in
                ck_i8_tile_rows(weight.baseAddress!.assumingMemoryBound(to: Int8.self), k, rs.baseAddress, n, k,
                                added.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self),
                                added.segments[1].baseAddress!.assumingMemoryBound(to: Float.self))
            }
            discard(m.source, scb)
            return try Int8Matrix(outputs: n, inputs: k, segments: added.readOnly, owner: added, exactPrefill: true)
        }
    }

    /// Writes the matrix's dequantized values into `dst` (N·K floats) as the Conv1D weight [K, N]
    /// (dst[p·N + j] = W[j, p]), or output-major [N, K] with `conv1D` false.
    static func bitsandbytesDequantize(_ m: BitsandbytesMatrix, into dst: UnsafeMutablePointer<Float>, conv1D: Bool = true) {
        let (n, k) = (m.outputs, m.inputs)
        let weight = bytes(m.source)
        func put(_ j: Int, _ p: Int, _ v: Float) { dst[conv1D ? p * n + j : j * k + p] = v }
        switch m.kind {
        case let .fourBit(book, absmax, nested):
            let code = withUnsafeBytes(of: book == .fp4 ? ck_fp4_code : ck_nf4_code) { Array($0.bindMemory(to: Float.self)) }
            let read = absmaxReader(absmax, nested)
            var block = -1, am: Float = 0
            for i in 0..<(n * k) {
                if i / 64 != block { block = i / 64; am = read(block) }
                let byte = weight[i / 2], q = i & 1 == 0 ? byte >> 4 : byte & 15
                put(i / k, i % k, code[Int(q)] * am)
            }
        case let .int8(scb):
            let s = bytes(scb)
            for j in 0..<n {
                let scale = Float(bitPattern: s.littleEndian(UInt32.self, at: 4 * j)) / 127
                for p in 0..<k { put(j, p, Float(Int8(bitPattern: weight[j * k + p])) * scale) }
            }
        }
    }

    /// Every matrix of `bnb` dequantized into one CopiedTensors table of F32 Conv1D [K, N] tensors,
    /// named as the checkpoint names them (for serving in another weight type).
    static func bitsandbytesDequantizedTable(_ bnb: BitsandbytesWeights) throws -> SafeTensorsFile? {
        let items = bnb.matrices.values.sorted { $0.key < $1.key }.map { m in
            CopiedTensors.Item(name: m.source.info.name, dtype: .F32, shape: [m.inputs, m.outputs]) { dst in
                bitsandbytesDequantize(m, into: dst.assumingMemoryBound(to: Float.self))
            }
        }
        // Each matrix grows at most 8× (4-bit) or 4× (int8) from its checked packed bytes.
        let limit = bnb.matrices.values.reduce(0) { $0 + 8 * $1.source.info.byteCount + 64 }
        return try CopiedTensors.table(items, name: "(bitsandbytes weights dequantized)",
                                       file: bnb.matrices.values.first?.source.file.path ?? "(bitsandbytes)", limit: limit)
    }
}
