// NF4Matrix — bitsandbytes' NormalFloat4 (quantize_4bit, quant_type "nf4", blocksize 64):
// w = code[q]·absmax with bitsandbytes' 16-value code book, one absmax per 64 values along K, two
// indices per byte (the even value in the high nibble), and optionally bitsandbytes' double
// quantization of the absmax values (compress_statistics=True: absmax − mean as 8-bit indices into
// its dynamic map, one F32 absmax per 256 of them, and the mean). For K a multiple of 64 the bytes
// are exactly bitsandbytes' for the same (N, K) tensor (Tests: NF4BitsandbytesTests).
//
// dequantizeRow gives bitsandbytes' values, code[q]·absmax. Products with ≤ 32 rows multiply
// int8 activations (64-value blocks) by 16-bit integer codes round(32767·code[q]) in int32, i.e. by
// absmax·c16/32767, within 2^-16·absmax of those values; more rows widen W tile by tile to
// bitsandbytes' values and use the F32 GEMM.
import CKernels

public final class NF4Matrix: PackedMatrix, @unchecked Sendable {
    public static let weightType = WeightType.nf4
    /// Values per absmax block (CK_NF4_BLOCK).
    public static let block = Int(CK_NF4_BLOCK)
    /// Absmax values per second-level block of double quantization (CK_NF4_BLOCK2).
    public static let block2 = Int(CK_NF4_BLOCK2)

    public let outputs: Int
    public let inputs: Int
    /// True when the absmax values are double-quantized.
    public let doubleQuantized: Bool
    /// Single: [0] packed nibbles U8 [outputs, paddedInputs / 2], [1] absmax F32 [blocks].
    /// Double: [0] packed, [1] qabsmax U8 [blocks], [2] absmax2 F32 [⌈blocks / 256⌉], [3] offset F32 [1].
    /// blocks = outputs · paddedInputs / 64, row-major.
    public let segments: [UnsafeRawBufferPointer]
    private let owner: AnyObject
    private let matrix: ck_nf4_matrix

    /// K rounded up to whole blocks (the padding holds index 7, the code value 0).
    public var paddedInputs: Int { QuantizedStorage.padded(inputs, block: Self.block) }

    static func sizes(outputs n: Int, inputs k: Int, double: Bool) -> [Int] {
        let kp = QuantizedStorage.padded(k, block: block), blocks = n * (kp / block)
        return double ? [n * kp / 2, blocks, (blocks + block2 - 1) / block2 * 4, 4] : [n * kp / 2, blocks * 4]
    }

    /// Quantizes as bitsandbytes' default for GPT-2 on the model pages: double quantization on.
    public convenience init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        self.init(quantizing: rows, outputs: outputs, inputs: inputs, doubleQuantization: true)
    }

    public init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int, doubleQuantization: Bool) {
        let double = doubleQuantization
        let bytes = QuantizedBytes(sizes: Self.sizes(outputs: outputs, inputs: inputs, double: double))
        let packed = bytes.segments[0].baseAddress!.assumingMemoryBound(to: UInt8.self)
        let blocks = outputs * (QuantizedStorage.padded(inputs, block: Self.block) / Self.block)
        if double {
            let absmax = UnsafeMutablePointer<Float>.allocate(capacity: max(blocks, 1))
            defer { absmax.deallocate() }
            ck_nf4_quantize(rows, outputs, inputs, packed, absmax)
            ck_nf4_compress_absmax(absmax, blocks, bytes.segments[1].baseAddress!.assumingMemoryBound(to: UInt8.self),
                                   bytes.segments[2].baseAddress!.assumingMemoryBound(to: Float.self),
                                   bytes.segments[3].baseAddress!.assumingMemoryBound(to: Float.self))
        } else {
            ck_nf4_quantize(rows, outputs, inputs, packed, bytes.segments[1].baseAddress!.assumingMemoryBound(to: Float.self))
        }
        self.outputs = outputs; self.inputs = inputs; self.doubleQuantized = double
        self.owner = bytes; self.segments = bytes.readOnly
        self.matrix = Self.describe(bytes.readOnly, outputs: outputs, inputs: inputs)
    }

    /// Two segments: single quantization; four: double (see `segments`).
    public init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws {
        guard segments.count == 2 || segments.count == 4 else {
            throw QuantizedMatrixError.segmentCount(format: Self.weightType, expected: "2 or 4", got: segments.count)
        }
        let double = segments.count == 4
        try QuantizedStorage.validate(segments, format: Self.weightType,
                                      sizes: Self.sizes(outputs: outputs, inputs: inputs, double: double),
                                      alignments: double ? [1, 1, 4, 4] : [1, 4])
        self.outputs = outputs; self.inputs = inputs; self.doubleQuantized = double
        self.owner = owner; self.segments = segments
        self.matrix = Self.describe(segments, outputs: outputs, inputs: inputs)
    }

    private static func describe(_ s: [UnsafeRawBufferPointer], outputs: Int, inputs: Int) -> ck_nf4_matrix {
        let packed = s[0].baseAddress?.assumingMemoryBound(to: UInt8.self)
        if s.count == 2 {
            return ck_nf4_matrix(packed: packed, absmax: s[1].baseAddress?.assumingMemoryBound(to: Float.self),
                                 qabsmax: nil, absmax2: nil, offset: 0, n: outputs, k: inputs)
        }
        return ck_nf4_matrix(packed: packed, absmax: nil, qabsmax: s[1].baseAddress?.assumingMemoryBound(to: UInt8.self),
                             absmax2: s[2].baseAddress?.assumingMemoryBound(to: Float.self),
                             offset: s[3].load(as: Float.self), n: outputs, k: inputs)
    }

    public func multiply(_ x: UnsafePointer<Float>, m: Int, ldx: Int,
                         _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        let k = inputs
        QuantizedStorage.product(matrix, format: Self.weightType, outputs: outputs, inputs: k, x, m: m, ldx: ldx,
                                 out, ldo: ldo, beta: beta,
                                 small: { ck_nf4_multiply($0, $1, $2, $3, $4, $5, $6) },
                                 dequantizeRows: { ck_nf4_dequantize_rows_parallel($0, $1, $2, $3, k) })
    }

    public func dequantizeRow(_ j: Int, into row: UnsafeMutablePointer<Float>) {
        precondition(j >= 0 && j < outputs, "row \(j) out of 0..<\(outputs)")
        withUnsafePointer(to: matrix) { ck_nf4_dequantize_rows($0, j, j + 1, row, inputs) }
    }

    /// The absmax of every block as the weights use it (double quantization expanded), row-major.
    public func blockAbsmax() -> [Float] {
        let blocks = outputs * (paddedInputs / Self.block)
        guard doubleQuantized else { return Array(segments[1].bindMemory(to: Float.self).prefix(blocks)) }
        let q = segments[1].bindMemory(to: UInt8.self), a2 = segments[2].bindMemory(to: Float.self)
        let offset = segments[3].load(as: Float.self)
        return withUnsafePointer(to: ck_nf4_dynamic_code) { codePtr in
            codePtr.withMemoryRebound(to: Float.self, capacity: 256) { code in
                (0..<blocks).map { i in code[Int(q[i])] * a2[i / Self.block2] + offset }
            }
        }
    }
}
