// CodeBook4Bit — what NF4Matrix and FP4Matrix share: bitsandbytes' 4-bit values (quantize_4bit,
// blocksize 64) over CKernels' ck_nf4_matrix, w = code[q]·absmax with one absmax per 64 values
// along K, and optionally bitsandbytes' double quantization of the absmax values (absmax − mean as
// 8-bit indices into its dynamic map, one F32 absmax per 256 of them, and the mean). The indices
// and absmax values are held in tiles of 16 output rows as the product reads them (ckernels.h);
// bitsandbytes' own layout (two indices per byte, the even value in the high nibble, row-major
// statistics) goes in through init(bitsandbytes:…) and comes back out through bitsandbytesLayout().
// The two formats differ only in the 16-value code book the indices select (`CodeBook4Bit.Book`);
// bytes, statistics and kernels are the same.
import CKernels

/// One 4-bit code-book matrix's bytes and C descriptor (a value type: each format class holds one).
struct CodeBook4Bit: @unchecked Sendable {
    /// Which 16 values the indices select.
    enum Book {
        /// bitsandbytes' NormalFloat4 (ck_nf4_code).
        case nf4
        /// bitsandbytes' FP4: 1 sign, 2 exponent, 1 mantissa bit, normalised to [-1, 1] (ck_fp4_code).
        case fp4

        var ckValue: Int32 { self == .fp4 ? Int32(CK_4BIT_FP4) : Int32(CK_4BIT_NF4) }
    }

    /// Values per absmax block (CK_NF4_BLOCK).
    static let block = Int(CK_NF4_BLOCK)
    /// Absmax values per second-level block of double quantization (CK_NF4_BLOCK2).
    static let block2 = Int(CK_NF4_BLOCK2)

    let outputs: Int
    let inputs: Int
    let doubleQuantized: Bool
    /// Single: [0] packed nibbles U8 [tiledOutputs / 16, paddedInputs / 64, 512], [1] absmax F32
    /// [tiledOutputs / 16, paddedInputs / 64, 16]. Double: [0] packed, [1] qabsmax U8 (as absmax),
    /// [2] absmax2 F32 [⌈blocks / 256⌉], [3] offset F32 [1]; blocks = outputs · paddedInputs / 64,
    /// counted row-major for absmax2 as bitsandbytes does (ckernels.h's layout).
    let segments: [UnsafeRawBufferPointer]
    let owner: AnyObject
    private(set) var matrix: ck_nf4_matrix
    /// Prefills compute with the dequantized weights in F32 (QuantizedStorage.tiledProduct) on every
    /// CPU, never with int8 activations: a bitsandbytes checkpoint's matrices, whose prefill logits
    /// must stay within 1e-4 of transformers' (README.md), as Int8Matrix.exactPrefill.
    let exactPrefill: Bool

    /// `.medium` when the product runs the one-part 8-bit codes (CK_4BIT_CODES_8), else `.highest`.
    var precision: MatmulPrecision { matrix.codes == Int32(CK_4BIT_CODES_8) ? .medium : .highest }

    /// The same bytes with the product's codes for `precision`: `.highest` round(16383·code) in two
    /// 8-bit parts (the default), `.medium` round(127·code) in one (quant_nf4.c).
    func serving(_ precision: MatmulPrecision) -> CodeBook4Bit {
        var s = self
        s.matrix.codes = Int32(precision == .medium ? CK_4BIT_CODES_8 : CK_4BIT_CODES_15)
        return s
    }

    /// The outputs rounded up to whole tiles of 16 rows (the missing rows stored as zeros).
    static func tiledOutputs(_ n: Int) -> Int { Int(ck_nf4_tiled_rows(n)) }

    /// Absmax blocks of an (n, k) matrix, row-major (bitsandbytes' count).
    static func blocks(outputs n: Int, inputs k: Int) -> Int { n * (QuantizedStorage.padded(k, block: block) / block) }

    static func sizes(outputs n: Int, inputs k: Int, double: Bool) -> [Int] {
        let kp = QuantizedStorage.padded(k, block: block), nt = tiledOutputs(n), tiled = nt * (kp / block)
        let blocks = blocks(outputs: n, inputs: k)
        return double ? [nt * kp / 2, tiled, (blocks + block2 - 1) / block2 * 4, 4] : [nt * kp / 2, tiled * 4]
    }

    /// bitsandbytes' layout of the same matrix: packed [n, paddedInputs / 2], absmax F32 or qabsmax U8 [blocks].
    static func bitsandbytesSizes(outputs n: Int, inputs k: Int, double: Bool) -> (packed: Int, scales: Int) {
        (n * QuantizedStorage.padded(k, block: block) / 2, blocks(outputs: n, inputs: k) * (double ? 1 : 4))
    }

    /// Quantizes `rows` (N, K) row-major F32 with `book`'s code book, as bitsandbytes' quantize_4bit.
    init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int, book: Book, doubleQuantization double: Bool) {
        let bytes = QuantizedBytes(sizes: Self.sizes(outputs: outputs, inputs: inputs, double: double))
        let theirs = Self.bitsandbytesSizes(outputs: outputs, inputs: inputs, double: double)
        let blocks = Self.blocks(outputs: outputs, inputs: inputs)
        // bitsandbytes' layout first (the quantizer's arithmetic is bitsandbytes'), then the tiles
        let staging = QuantizedBytes(sizes: [theirs.packed, blocks * 4, double ? blocks : 0])
        let packed = staging.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self)
        let absmax = staging.segments[1].baseAddress!.assumingMemoryBound(to: Float.self)
        if book == .fp4 { ck_fp4_quantize(rows, outputs, inputs, packed, absmax) } else { ck_nf4_quantize(rows, outputs, inputs, packed, absmax) }
        var scales = UnsafeRawPointer(absmax)
        if double {
            let q = staging.segments[2].baseAddress!.assumingMemoryBound(to: UInt8.self)
            ck_nf4_compress_absmax(absmax, blocks, q, bytes.segments[2].baseAddress!.assumingMemoryBound(to: Float.self),
                                   bytes.segments[3].baseAddress!.assumingMemoryBound(to: Float.self))
            scales = UnsafeRawPointer(q)
        }
        ck_nf4_tile(packed, scales, double ? 1 : 0, outputs, inputs,
                    bytes.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.segments[1].baseAddress!)
        self.outputs = outputs; self.inputs = inputs; self.doubleQuantized = double; self.exactPrefill = false
        self.owner = bytes; self.segments = bytes.readOnly
        self.matrix = Self.describe(bytes.readOnly, outputs: outputs, inputs: inputs, book: book)
    }

    /// bitsandbytes' bytes (a checkpoint's tensors, any alignment) copied into the tiles, prefills
    /// exact (`exactPrefill`): `packed` [N, paddedInputs / 2] and `scales`, the F32 absmax [blocks]
    /// or, with `nested`, the U8 qabsmax [blocks] with its absmax2 [⌈blocks / 256⌉] and offset.
    init(bitsandbytes packed: UnsafeRawBufferPointer, scales: UnsafeRawBufferPointer,
         nested: (absmax2: [Float], offset: Float)?, outputs: Int, inputs: Int, book: Book, format: WeightType) throws {
        let double = nested != nil
        let theirs = Self.bitsandbytesSizes(outputs: outputs, inputs: inputs, double: double)
        let sizes = Self.sizes(outputs: outputs, inputs: inputs, double: double)
        for (i, (got, want)) in [(packed.count, theirs.packed), (scales.count, theirs.scales),
                                 (4 * (nested?.absmax2.count ?? 0), double ? sizes[2] : 0)].enumerated() where got != want {
            throw QuantizedMatrixError.segmentSize(format: format, index: i, expected: want, got: got)
        }
        let bytes = QuantizedBytes(sizes: sizes)
        if let nested {
            nested.absmax2.withUnsafeBytes { bytes.segments[2].copyMemory(from: $0) }
            bytes.segments[3].storeBytes(of: nested.offset, as: Float.self)
        }
        // ck_nf4_tile reads its inputs byte-wise: the file's bytes go in as they are, at any alignment.
        ck_nf4_tile(packed.baseAddress?.assumingMemoryBound(to: UInt8.self), scales.baseAddress,
                    double ? 1 : 0, outputs, inputs,
                    bytes.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.segments[1].baseAddress!)
        self.outputs = outputs; self.inputs = inputs; self.doubleQuantized = double; self.exactPrefill = true
        self.owner = bytes; self.segments = bytes.readOnly
        self.matrix = Self.describe(bytes.readOnly, outputs: outputs, inputs: inputs, book: book)
    }

    /// The indices and statistics in bitsandbytes' layout (bitsandbytesSizes): packed, and the F32
    /// absmax or (double-quantized) U8 qabsmax as bytes.
    func bitsandbytesLayout() -> (packed: [UInt8], scales: [UInt8]) {
        let theirs = Self.bitsandbytesSizes(outputs: outputs, inputs: inputs, double: doubleQuantized)
        var packed = [UInt8](repeating: 0, count: theirs.packed), scales = [UInt8](repeating: 0, count: theirs.scales)
        withUnsafePointer(to: matrix) { w in
            packed.withUnsafeMutableBufferPointer { p in
                scales.withUnsafeMutableBytes { s in ck_nf4_untile(w, p.baseAddress, s.baseAddress) }
            }
        }
        return (packed, scales)
    }

    /// Two segments: single quantization; four: double (see `segments`).
    init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject, book: Book,
         format: WeightType) throws {
        guard segments.count == 2 || segments.count == 4 else {
            throw QuantizedMatrixError.segmentCount(format: format, expected: "2 or 4", got: segments.count)
        }
        let double = segments.count == 4
        try QuantizedStorage.validate(segments, format: format,
                                      sizes: Self.sizes(outputs: outputs, inputs: inputs, double: double),
                                      alignments: double ? [1, 1, 4, 4] : [1, 4])
        self.outputs = outputs; self.inputs = inputs; self.doubleQuantized = double; self.exactPrefill = false
        self.owner = owner; self.segments = segments
        self.matrix = Self.describe(segments, outputs: outputs, inputs: inputs, book: book)
    }

    private static func describe(_ s: [UnsafeRawBufferPointer], outputs: Int, inputs: Int, book: Book) -> ck_nf4_matrix {
        let packed = s[0].baseAddress?.assumingMemoryBound(to: UInt8.self)
        if s.count == 2 {
            return ck_nf4_matrix(packed: packed, absmax: s[1].baseAddress?.assumingMemoryBound(to: Float.self),
                                 qabsmax: nil, absmax2: nil, offset: 0, n: outputs, k: inputs, codebook: book.ckValue,
                                 codes: Int32(CK_4BIT_CODES_15))
        }
        return ck_nf4_matrix(packed: packed, absmax: nil, qabsmax: s[1].baseAddress?.assumingMemoryBound(to: UInt8.self),
                             absmax2: s[2].baseAddress?.assumingMemoryBound(to: Float.self),
                             offset: s[3].load(as: Float.self), n: outputs, k: inputs, codebook: book.ckValue,
                             codes: Int32(CK_4BIT_CODES_15))
    }

    func multiply(_ x: UnsafePointer<Float>, m: Int, ldx: Int, _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float,
                  format: WeightType) {
        let k = inputs
        QuantizedStorage.product(matrix, format: format, integerPrefill: !exactPrefill,
                                 outputs: outputs, inputs: k, x, m: m, ldx: ldx, out, ldo: ldo, beta: beta,
                                 small: { ck_nf4_multiply($0, $1, $2, $3, $4, $5, $6) },
                                 dequantizeRows: { ck_nf4_dequantize_rows_parallel($0, $1, $2, $3, k) })
    }

    func dequantizeRow(_ j: Int, into row: UnsafeMutablePointer<Float>) {
        precondition(j >= 0 && j < outputs, "row \(j) out of 0..<\(outputs)")
        withUnsafePointer(to: matrix) { ck_nf4_dequantize_rows($0, j, j + 1, row, inputs) }
    }

    /// The absmax of every block as the weights use it (double quantization expanded), row-major.
    func blockAbsmax() -> [Float] {
        let scales = bitsandbytesLayout().scales
        guard doubleQuantized else { return scales.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        let a2 = segments[2].bindMemory(to: Float.self), offset = segments[3].load(as: Float.self)
        return withUnsafePointer(to: ck_nf4_dynamic_code) { codePtr in
            codePtr.withMemoryRebound(to: Float.self, capacity: 256) { code in
                scales.enumerated().map { i, q in code[Int(q)] * a2[i / Self.block2] + offset }
            }
        }
    }
}
