// gpt2d's nf4 against bitsandbytes itself: Tests/Fixtures/quant/nf4-bitsandbytes.safetensors holds
// a 200×256 tensor quantized by bitsandbytes 0.50.2 (CPU build) with and without double
// quantization (scripts/make_quant_fixtures.py). NF4Matrix must produce the same bytes (in
// bitsandbytes' layout: NF4Matrix.bitsandbytesLayout(), out of its tiles of 16 rows), the same
// (double-quantized) statistics and the same dequantized values, bit for bit — except the double
// quantization's mean offset, which bitsandbytes takes with torch's F32 mean (its own summation
// order) and gpt2d in double precision: the two may differ by an ulp or so, and then the values
// built on it by as much (checked to 4 ulps of the offset).
import CKernels
import Foundation
import GPT2TestSupport
import Testing
@testable import GPT2Core

@Suite struct NF4BitsandbytesTests {
    let file: SafeTensorsFile
    let input: [Float]
    let rows = 200, cols = 256

    init() throws {
        file = try SafeTensorsFile.open(path: Fixtures.root + "/Tests/Fixtures/quant/nf4-bitsandbytes.safetensors")
        input = try file.floats("input")
    }

    func bytes(_ name: String) throws -> [UInt8] { Array(try file.rawBytes(name)) }

    @Test func codeBooksAreBitsandbytes() throws {
        #expect(ck_nf4_codeArray == (try file.floats("nf4.code")))
        let dynamic = withUnsafeBytes(of: ck_nf4_dynamic_code) { Array($0.bindMemory(to: Float.self)) }
        #expect(dynamic == (try file.floats("double.code")))
        // The products' integer codes are the code book rounded at 1/16383.
        for q in 0..<16 { #expect(Int(ck_nf4_product_code(UInt32(q))) == Int((ck_nf4_codeArray[q] * 16383).rounded())) }
    }

    @Test func singleQuantizationEqualsBitsandbytes() throws {
        let m = NF4Matrix(quantizing: input, outputs: rows, inputs: cols, doubleQuantization: false)
        #expect(m.bitsandbytesLayout().packed == (try bytes("single.packed")))
        #expect(m.blockAbsmax() == (try file.floats("single.absmax")))
        #expect(QuantTestData.dequantized(m) == (try file.floats("single.dequantized")))
    }

    @Test func doubleQuantizationEqualsBitsandbytes() throws {
        let m = NF4Matrix(quantizing: input, outputs: rows, inputs: cols)
        #expect(m.doubleQuantized && m.segments.count == 4)
        let theirs = m.bitsandbytesLayout()
        #expect(theirs.packed == (try bytes("double.packed")))
        let offset = m.segments[3].load(as: Float.self), theirOffset = try file.floats("double.offset")[0]
        #expect(abs(offset - theirOffset) <= 4 * theirOffset.ulp, "offset \(offset) vs \(theirOffset)")
        #expect(theirs.scales == (try bytes("double.qabsmax")))
        #expect(Array(m.segments[2].bindMemory(to: Float.self)) == (try file.floats("double.absmax2")))
        let want = try file.floats("double.dequantized"), got = QuantTestData.dequantized(m)
        if offset == theirOffset {
            #expect(got == want)
        } else {
            // Every value is code·(absmax + δ) with |δ| ≤ 4 ulps of the offset (plus its rounding).
            for i in 0..<got.count { #expect(abs(got[i] - want[i]) <= 5 * theirOffset.ulp + want[i].ulp, "element \(i)") }
        }
    }

    /// bitsandbytes' bytes (as a checkpoint holds them) copied into the tiles read back as bitsandbytes'
    /// values, and as the same bytes; the tiles handed in as segments (as from a cache file) too.
    @Test func bitsandbytesBytesLoadIntoTiles() throws {
        let packed = try bytes("single.packed"), absmax = try file.floats("single.absmax")
        let m = try packed.withUnsafeBytes { p in
            try absmax.withUnsafeBytes { try NF4Matrix(bitsandbytes: p, scales: $0, nested: nil, outputs: rows, inputs: cols) }
        }
        #expect(QuantTestData.dequantized(m) == (try file.floats("single.dequantized")))
        #expect(m.bitsandbytesLayout().packed == packed && m.blockAbsmax() == absmax)
        let again = try NF4Matrix(outputs: rows, inputs: cols, segments: m.segments, owner: m)
        #expect(QuantTestData.dequantized(again) == (try file.floats("single.dequantized")))
    }

    /// The double-quantized statistics go in the same way; wrong sizes are refused.
    @Test func doubleQuantizedBytesLoadIntoTiles() throws {
        let packed = try bytes("double.packed"), q = try bytes("double.qabsmax")
        let nested = (absmax2: try file.floats("double.absmax2"), offset: try file.floats("double.offset")[0])
        let m = try packed.withUnsafeBytes { p in
            try q.withUnsafeBytes { try NF4Matrix(bitsandbytes: p, scales: $0, nested: nested, outputs: rows, inputs: cols) }
        }
        #expect(m.doubleQuantized && m.bitsandbytesLayout().scales == q)
        #expect(QuantTestData.dequantized(m) == (try file.floats("double.dequantized")))
        #expect(throws: QuantizedMatrixError.self) {
            try packed.dropLast().withUnsafeBytes { p in
                try q.withUnsafeBytes { try NF4Matrix(bitsandbytes: p, scales: $0, nested: nested, outputs: rows, inputs: cols) }
            }
        }
    }
}
