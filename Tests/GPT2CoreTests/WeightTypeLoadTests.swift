// WeightTypeLoadTests — LoadOptions.weightType: every checkpoint dtype served in every float type,
// values rounded once to nearest even, no F32 copy of a 16-bit matrix, the checkpoint mapping
// dropped when nothing views it, tied wte / LM head kept as one matrix, and quantized types going
// through PackedFormats (a type with no format registered is a clear error).
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

private let tiny = TinyCheckpoint.tinyConfig

private func withCheckpoint<T>(dtype: String = "F32", _ body: (String) throws -> T) throws -> T {
    let dir = makeTempDirectory("wtype"); defer { removeDirectory(dir) }
    var o = TinyCheckpoint.Options(); o.dtype = dtype
    try TinyCheckpoint.write(config: tiny, to: dir, options: o)
    return try body(dir)
}

/// The four body matrices of every layer.
private func bodyMatrices(_ w: GPT2Weights) -> [Tensor] {
    w.layers.flatMap { [$0.attnQKVWeight, $0.attnProjWeight, $0.mlpFCWeight, $0.mlpProjWeight] }
}

private func vectors(_ w: GPT2Weights) -> [Tensor] {
    [w.wpe, w.lnFWeight, w.lnFBias] + w.layers.flatMap {
        [$0.ln1Weight, $0.ln1Bias, $0.attnQKVBias, $0.attnProjBias, $0.ln2Weight, $0.ln2Bias, $0.mlpFCBias, $0.mlpProjBias]
    }
}

@Suite struct WeightTypeLoadTests {
    /// Checkpoint dtype × served 16-bit type: each matrix holds the checkpoint value rounded once
    /// to the served type; vectors stay exact F32; nothing else is kept.
    @Test(arguments: ["F32", "F16", "BF16"], [WeightType.bfloat16, .float16])
    func sixteenBitFromAnyCheckpoint(dtype: String, type: WeightType) throws {
        try withCheckpoint(dtype: dtype) { dir in
            let (_, w) = try CheckpointLoader.load(directory: dir, options: LoadOptions(weightType: type))
            #expect(w.weightType == type && w.storedDType == dtype)
            let kind: HalfView.Kind = type == .float16 ? .f16 : .bf16
            let served = type == .float16 ? "F16" : "BF16"
            let same = served == dtype
            for t in bodyMatrices(w) + [w.wte] {
                let h = try #require(t.half, "\(t.name) is not 16-bit")
                #expect(h.kind == kind)
                let want = TinyCheckpoint.expectedValues(for: t.name, count: t.count, dtype: dtype)
                    .map { SafeTensorsWriter.roundTrip($0, through: served) }
                #expect(t.floats() == want, "\(dtype) → \(type): \(t.name)")
                #expect(w.isMapped(t) == same, "\(t.name): a view exactly when the checkpoint stores \(type)")
            }
            for t in vectors(w) {
                #expect(t.weightType == .float32)
                #expect(Array(t.buffer) == TinyCheckpoint.expectedValues(for: t.name, count: t.count, dtype: dtype), "\(t.name)")
            }
            #expect(w.lmHead.sharesStorage(with: w.wte))
            // Kept memory: the mapping only when it is viewed; F32 vectors + converted matrices owned.
            #expect((w.mappedByteCount > 0) == same)
            let vectorBytes = vectors(w).reduce(0) { $0 + 4 * $1.count }
            let matrixBytes = (bodyMatrices(w) + [w.wte]).reduce(0) { $0 + 2 * $1.count }
            #expect(w.convertedByteCount == vectorBytes + (same ? 0 : matrixBytes))
        }
    }

    /// float32 from a 16-bit checkpoint: every matrix widened exactly into owned F32.
    @Test(arguments: ["F16", "BF16"])
    func float32FromSixteenBit(dtype: String) throws {
        try withCheckpoint(dtype: dtype) { dir in
            let (_, w) = try CheckpointLoader.load(directory: dir, options: LoadOptions(weightType: .float32))
            for t in bodyMatrices(w) + [w.wte] + vectors(w) {
                #expect(t.weightType == .float32)
                #expect(Array(t.buffer) == TinyCheckpoint.expectedValues(for: t.name, count: t.count, dtype: dtype), "\(t.name)")
            }
            #expect(w.mappedByteCount == 0)
            #expect(w.lmHead.sharesStorage(with: w.wte))
        }
    }

    /// The checkpoint's own type requested explicitly loads exactly as the default does.
    @Test(arguments: [("F32", WeightType.float32), ("F16", .float16), ("BF16", .bfloat16)])
    func ownTypeExplicitlyEqualsDefault(_ c: (String, WeightType)) throws {
        try withCheckpoint(dtype: c.0) { dir in
            let a = try CheckpointLoader.load(directory: dir).weights
            let b = try CheckpointLoader.load(directory: dir, options: LoadOptions(weightType: c.1)).weights
            #expect(a.weightType == c.1 && b.weightType == c.1)
            for (x, y) in zip(bodyMatrices(a) + [a.wte] + vectors(a), bodyMatrices(b) + [b.wte] + vectors(b)) {
                #expect(x.weightType == y.weightType && x.floats() == y.floats(), "\(x.name)")
                #expect(a.isMapped(x) == b.isMapped(y), "\(x.name)")
            }
        }
    }

    /// A 16-bit checkpoint served in its own type keeps only its 16-bit matrices (no F32 copy).
    @Test(arguments: ["tiny-f16", "tiny-bf16"])
    func sixteenBitCheckpointHasNoF32Copy(_ name: String) throws {
        let w = try GPT2Model.load(directory: Fixtures.model(name)).weights
        for t in bodyMatrices(w) + [w.wte] {
            #expect(t.half != nil && w.isMapped(t), "\(t.name)")
        }
        #expect(w.convertedByteCount == vectors(w).reduce(0) { $0 + 4 * $1.count })
    }

    /// int8 / nf4 / q4: through the registered format, or a clear error when none is registered.
    @Test(arguments: [WeightType.int8, .nf4, .q4])
    func quantizedTypesUseTheRegistry(_ type: WeightType) throws {
        try withCheckpoint { dir in
            if let format = PackedFormats.type(for: type) {
                let w = try CheckpointLoader.load(directory: dir, options: LoadOptions(weightType: type)).weights
                #expect(format.weightType == type)
                #expect(bodyMatrices(w).allSatisfy { $0.weightType == type })
            } else {
                #expect(throws: CheckpointError.weightTypeUnavailable(type: type.rawValue)) {
                    try CheckpointLoader.load(directory: dir, options: LoadOptions(weightType: type))
                }
                #expect(CheckpointError.weightTypeUnavailable(type: type.rawValue).description.contains("weight type \(type) is not available"))
            }
        }
    }

    /// A packed format sees output-major rows: Conv1D [K, N] transposed, Linear [N, K] as stored;
    /// the tied wte / LM head is one packed matrix; vectors stay F32 and the mapping is dropped.
    @Test func packedMatricesAreOutputMajor() throws {
        try withCheckpoint { dir in
            let (_, w) = try CheckpointLoader.load(directory: dir, options: LoadOptions(weightType: .int8),
                                                   formats: [.int8: ExactRowsMatrix.self])
            for t in bodyMatrices(w) {
                let p = try #require(t.packed, "\(t.name) not packed")
                let k = t.shape[0], n = t.shape[1]
                #expect(p.outputs == n && p.inputs == k)
                let stored = TinyCheckpoint.values(for: t.name, count: t.count)
                let rows = (0..<n).flatMap { j in (0..<k).map { stored[$0 * n + j] } }
                #expect(t.floats() == rows, "\(t.name)")
            }
            let wte = try #require(w.wte.packed)
            #expect(wte.outputs == tiny.vocabSize && wte.inputs == tiny.nEmbd)
            #expect(w.wte.floats() == TinyCheckpoint.values(for: "wte.weight", count: w.wte.count))
            #expect(w.lmHead.sharesStorage(with: w.wte))
            #expect(vectors(w).allSatisfy { $0.weightType == .float32 })
            #expect(w.mappedByteCount == 0 && w.packedByteCount > 0)
        }
    }
}
