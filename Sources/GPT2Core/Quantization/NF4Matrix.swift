// NF4Matrix — bitsandbytes' NormalFloat4 (quantize_4bit, quant_type "nf4", blocksize 64):
// w = code[q]·absmax with bitsandbytes' 16-value code book, one absmax per 64 values along K, and
// optionally bitsandbytes' double quantization of the absmax values (compress_statistics=True:
// absmax − mean as 8-bit indices into its dynamic map, one F32 absmax per 256 of them, and the mean).
// The indices and absmax values are held in tiles of 16 output rows for the product; for K a
// multiple of 64 their bytes in bitsandbytes' layout (bitsandbytesLayout(): two indices per byte,
// the even value in the high nibble) are exactly bitsandbytes' for the same (N, K) tensor (Tests:
// NF4BitsandbytesTests). The layout and kernels are CodeBook4Bit's, shared with FP4Matrix.
//
// dequantizeRow gives bitsandbytes' values, code[q]·absmax. Products multiply int8 activations
// (64-value blocks) by integer codes c = round(16383·code[q]) in int32 (as two 8-bit parts,
// 128·h + l), i.e. by absmax·c/16383, within 2^-15·absmax of those values — at any row count on
// VNNI CPUs; elsewhere, and for a bitsandbytes checkpoint's matrices (exact prefill), more than 32
// rows widen W tile by tile to bitsandbytes' values and use the F32 GEMM.

public final class NF4Matrix: CodeBookMatrix, @unchecked Sendable {
    public static let weightType = WeightType.nf4
    static let book = CodeBook4Bit.Book.nf4
    /// Values per absmax block (CK_NF4_BLOCK).
    public static let block = CodeBook4Bit.block
    /// Absmax values per second-level block of double quantization (CK_NF4_BLOCK2).
    public static let block2 = CodeBook4Bit.block2

    let storage: CodeBook4Bit

    /// K rounded up to whole blocks (the padding holds index 7, the code value 0).
    public var paddedInputs: Int { QuantizedStorage.padded(inputs, block: Self.block) }

    static func sizes(outputs n: Int, inputs k: Int, double: Bool) -> [Int] {
        CodeBook4Bit.sizes(outputs: n, inputs: k, double: double)
    }

    /// Quantizes as bitsandbytes' default for GPT-2 on the model pages: double quantization on.
    public convenience init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        self.init(quantizing: rows, outputs: outputs, inputs: inputs, doubleQuantization: true)
    }

    public init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int, doubleQuantization: Bool) {
        storage = Self.storage(quantizing: rows, outputs: outputs, inputs: inputs, doubleQuantization: doubleQuantization)
    }

    /// Two segments: single quantization; four: double (CodeBookMatrix's `segments`).
    init(storage: CodeBook4Bit) { self.storage = storage }

    public init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws {
        storage = try Self.storage(outputs: outputs, inputs: inputs, segments: segments, owner: owner)
    }
}
