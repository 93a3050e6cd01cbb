// gpt2d's fp4 against bitsandbytes itself: Tests/Fixtures/bnb/bnb.safetensors holds bitsandbytes'
// FP4 code book and a 96×128 tensor quantized by bitsandbytes 0.50.2 (CPU build) with quant_type
// "fp4" (scripts/make_bnb_fixtures.py). FP4Matrix must have the same code book, pack the tensor to
// the same bytes and absmax, and dequantize to the same values, bit for bit; its product codes are
// the code book rounded at 2^-15 (as nf4's).
import CKernels
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct FP4BitsandbytesTests {
    let file: SafeTensorsFile
    let input: [Float]
    let rows = 96, cols = 128

    init() throws {
        file = try SafeTensorsFile.open(path: Fixtures.root + "/Tests/Fixtures/bnb/bnb.safetensors")
        input = try file.floats("fp4.input")
    }

    static var code: [Float] { withUnsafeBytes(of: ck_fp4_code) { Array($0.bindMemory(to: Float.self)) } }

    @Test func codeBookIsBitsandbytes() throws {
        #expect(Self.code.map(\.bitPattern) == (try file.floats("fp4.code")).map(\.bitPattern))
        for q in 0..<16 {
            let c15 = Int32(CK_4BIT_CODES_15), c8 = Int32(CK_4BIT_CODES_8)
            #expect(Int(ck_4bit_product_code(Int32(CK_4BIT_FP4), c15, UInt32(q))) == Int((Self.code[q] * 16383).rounded()), "fp4 code \(q)")
            #expect(Int(ck_4bit_product_code(Int32(CK_4BIT_FP4), c8, UInt32(q))) == Int((Self.code[q] * 127).rounded()), "fp4 code \(q)")
            #expect(ck_4bit_product_code(Int32(CK_4BIT_NF4), c15, UInt32(q)) == ck_nf4_product_code(UInt32(q)))
            #expect(Int(ck_4bit_product_code(Int32(CK_4BIT_NF4), c8, UInt32(q))) == Int((ck_nf4_codeArray[q] * 127).rounded()))
        }
    }

    @Test func quantizationEqualsBitsandbytes() throws {
        let m = FP4Matrix(quantizing: input, outputs: rows, inputs: cols)
        #expect(!m.doubleQuantized && m.segments.count == 2)
        #expect(m.bitsandbytesLayout().packed == Array(try file.rawBytes("fp4.packed")))
        #expect(m.blockAbsmax() == (try file.floats("fp4.absmax")))
        #expect(QuantTestData.dequantized(m) == (try file.floats("fp4.dequantized")))
    }

    /// bitsandbytes' bytes copied into the tiles read back as bitsandbytes' values.
    @Test func bitsandbytesBytesLoadIntoTiles() throws {
        let packed = Array(try file.rawBytes("fp4.packed")), absmax = try file.floats("fp4.absmax")
        let m = try packed.withUnsafeBytes { p in
            try absmax.withUnsafeBytes { try FP4Matrix(bitsandbytes: p, scales: $0, nested: nil, outputs: rows, inputs: cols) }
        }
        #expect(QuantTestData.dequantized(m) == (try file.floats("fp4.dequantized")))
        #expect(m.bitsandbytesLayout().packed == packed)
    }
}
