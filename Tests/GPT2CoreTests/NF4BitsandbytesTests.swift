// gpt2d's nf4 against bitsandbytes itself: Tests/Fixtures/quant/nf4-bitsandbytes.safetensors holds
// a 200×256 tensor quantized by bitsandbytes 0.50.2 (CPU build) with and without double
// quantization (scripts/make_quant_fixtures.py). NF4Matrix must produce the same bytes, the same
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
        #expect(Array(m.segments[0]) == (try bytes("single.packed")))
        #expect(m.blockAbsmax() == (try file.floats("single.absmax")))
        #expect(QuantTestData.dequantized(m) == (try file.floats("single.dequantized")))
    }

    @Test func doubleQuantizationEqualsBitsandbytes() throws {
        let m = NF4Matrix(quantizing: input, outputs: rows, inputs: cols)
        #expect(m.doubleQuantized && m.segments.count == 4)
        #expect(Array(m.segments[0]) == (try bytes("double.packed")))
        let offset = m.segments[3].load(as: Float.self), theirs = try file.floats("double.offset")[0]
        #expect(abs(offset - theirs) <= 4 * theirs.ulp, "offset \(offset) vs \(theirs)")
        #expect(Array(m.segments[1]) == (try bytes("double.qabsmax")))
        #expect(Array(m.segments[2].bindMemory(to: Float.self)) == (try file.floats("double.absmax2")))
        let want = try file.floats("double.dequantized"), got = QuantTestData.dequantized(m)
        if offset == theirs {
            #expect(got == want)
        } else {
            // Every value is code·(absmax + δ) with |δ| ≤ 4 ulps of the offset (plus its rounding).
            for i in 0..<got.count { #expect(abs(got[i] - want[i]) <= 5 * theirs.ulp + want[i].ulp, "element \(i)") }
        }
    }

    /// A bitsandbytes-packed matrix handed in as segments (as from a cache file) reads back as
    /// bitsandbytes' values.
    @Test func bitsandbytesBytesLoadAsSegments() throws {
        let packed = try bytes("single.packed"), absmax = try file.floats("single.absmax")
        let store = QuantizedBytes(sizes: [packed.count, absmax.count * 4])
        store.segments[0].copyBytes(from: packed)
        absmax.withUnsafeBytes { store.segments[1].copyMemory(from: $0) }
        let m = try NF4Matrix(outputs: rows, inputs: cols, segments: store.readOnly, owner: store)
        #expect(QuantTestData.dequantized(m) == (try file.floats("single.dequantized")))
    }
}
