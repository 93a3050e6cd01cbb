// CodeBookMatrix — what a 4-bit code-book format (NF4Matrix, FP4Matrix) is besides its code book and
// its default quantization: a PackedMatrix over one CodeBook4Bit, every member of the contract
// answered by that storage. A format type gives its weight type, its `book` and its initializers.

protocol CodeBookMatrix: PackedMatrix {
    /// The code book of the format (nf4 or fp4).
    static var book: CodeBook4Bit.Book { get }
    /// The layout, the bytes and the kernels.
    var storage: CodeBook4Bit { get }
    /// A matrix over `storage` (the same bytes, e.g. served at another precision).
    init(storage: CodeBook4Bit)
}

extension CodeBookMatrix {
    public var outputs: Int { storage.outputs }
    public var inputs: Int { storage.inputs }
    /// True when the absmax values are double-quantized.
    public var doubleQuantized: Bool { storage.doubleQuantized }
    /// Single: [0] packed nibbles U8 [tiledOutputs / 16, paddedInputs / 64, 512], [1] absmax F32
    /// [tiledOutputs / 16, paddedInputs / 64, 16]. Double: [0] packed, [1] qabsmax U8 (as absmax),
    /// [2] absmax2 F32 [⌈blocks / 256⌉], [3] offset F32 [1] (CodeBook4Bit.segments).
    public var segments: [UnsafeRawBufferPointer] { storage.segments }

    public func multiply(_ x: UnsafePointer<Float>, m: Int, ldx: Int,
                         _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        storage.multiply(x, m: m, ldx: ldx, out, ldo: ldo, beta: beta, format: Self.weightType)
    }

    public func dequantizeRow(_ j: Int, into row: UnsafeMutablePointer<Float>) { storage.dequantizeRow(j, into: row) }

    /// `.medium`: the product runs one-part 8-bit codes (CodeBook4Bit.serving).
    public var precision: MatmulPrecision { storage.precision }

    public func serving(precision: MatmulPrecision) -> any PackedMatrix {
        precision == self.precision ? self : Self(storage: storage.serving(precision))
    }

    /// The absmax of every block as the weights use it (double quantization expanded), row-major.
    public func blockAbsmax() -> [Float] { storage.blockAbsmax() }

    /// The indices and statistics in bitsandbytes' layout: packed [outputs, paddedInputs / 2] (the
    /// even value in the high nibble) and the F32 absmax or (double-quantized) U8 qabsmax [blocks].
    public func bitsandbytesLayout() -> (packed: [UInt8], scales: [UInt8]) { storage.bitsandbytesLayout() }

    /// bitsandbytes' bytes copied into the tiles (CodeBook4Bit.init(bitsandbytes:…)).
    init(bitsandbytes packed: UnsafeRawBufferPointer, scales: UnsafeRawBufferPointer,
         nested: (absmax2: [Float], offset: Float)?, outputs: Int, inputs: Int) throws {
        self.init(storage: try CodeBook4Bit(bitsandbytes: packed, scales: scales, nested: nested, outputs: outputs,
                                            inputs: inputs, book: Self.book, format: Self.weightType))
    }

    /// The storage over bytes laid out as `segments` (two: single quantization; four: double).
    static func storage(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws -> CodeBook4Bit {
        try CodeBook4Bit(outputs: outputs, inputs: inputs, segments: segments, owner: owner, book: book, format: weightType)
    }

    /// The storage of `rows` (N, K) quantized with this format's code book.
    static func storage(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int, doubleQuantization: Bool) -> CodeBook4Bit {
        CodeBook4Bit(quantizing: rows, outputs: outputs, inputs: inputs, book: book, doubleQuantization: doubleQuantization)
    }
}
