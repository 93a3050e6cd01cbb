// KVSnapshotFingerprint — what a sequence's keys and values depend on, bit for bit, as 32 hex digits
// (a 128-bit XXH3 digest, ContentDigest): a KV snapshot made under another fingerprint is never used.
//
// It covers:
//   * the served weights themselves — every tensor's name, shape, storage kind and bytes as the
//     forward pass reads them (F32 values, 16-bit values, a packed matrix's segments), so the same
//     checkpoint served in another weight type, or a checkpoint changed in place, differs;
//   * the config fields the forward pass reads (shapes, epsilon, activation, attention scaling);
//   * the pool's KV element type;
//   * how the kernels compute: the CKernels level in use (ck_isa(), which GPT2D_ISA lowers), the
//     GPT2D_MATMUL and GPT2D_CPU overrides, the compute threads, and `computeVersion`; a 16-bit
//     or 4-bit code-book matrix's matmul precision (and, for bfloat16 at medium, whether the
//     vdpbf16ps kernels run);
//   * `extra`: what the caller adds (the daemon: its version, so an upgrade recomputes).
// Hashing reads every served weight once (memory speed: tens of milliseconds for gpt2's 500 MB);
// callers compute it once per loaded model.
import CKernels
import Foundation

public enum KVSnapshotFingerprint {
    /// Bump whenever the forward pass computes keys or values differently (kernels, op order).
    /// 2: the quantized products' 16-lane accumulation and int8/q4 prefills through the integer
    /// product on VNNI CPUs (2026-12-03). 3: nf4 and fp4 products through 15-bit codes in two 8-bit parts (2026-12-04).
    /// 4: q4 and int8 in tiles of 16 rows, one int32 and one or two F32 multiply-adds per (row, column,
    /// block) (2026-12-04). 5: nf4 and fp4 in the same tiles, one int32 and one F32 multiply-add per
    /// (row, column, block) (2026-12-04).
    public static let computeVersion = 5

    /// The fingerprint of `model`'s keys and values stored in `pool`.
    public static func of(model: GPT2Model, pool: KVBlockPool, extra: [String] = []) -> String {
        let d = ContentDigest()
        d.update("gpt2d-kv-fingerprint/\(computeVersion)")
        let c = model.config
        for v in [c.vocabSize, c.nPositions, c.nEmbd, c.nLayer, c.nHead, c.nInner, Int(c.layerNormEpsilon.bitPattern),
                  c.scaleAttnWeights ? 1 : 0, c.scaleAttnByInverseLayerIdx ? 1 : 0, c.reorderAndUpcastAttn ? 1 : 0] {
            d.update(v)
        }
        d.update("\(c.activation)")
        d.update(pool.dtype.rawValue)
        d.update(Int(ck_isa()))
        let env = ProcessInfo.processInfo.environment
        d.update("GPT2D_MATMUL=\(env["GPT2D_MATMUL"] ?? "")")
        d.update("GPT2D_CPU=\(env["GPT2D_CPU"] ?? "")")
        d.update(ComputeThreads.count)
        d.update(extra.count)
        for e in extra { d.update(e) }
        let w = model.weights
        d.update(w.weightType.rawValue)
        var tensors = [w.wte, w.wpe, w.lnFWeight, w.lnFBias]
        if !w.lmHead.sharesStorage(with: w.wte) { tensors.append(w.lmHead) }
        for l in w.layers {
            tensors += [l.ln1Weight, l.ln1Bias, l.attnQKVWeight, l.attnQKVBias, l.attnProjWeight, l.attnProjBias,
                        l.ln2Weight, l.ln2Bias, l.mlpFCWeight, l.mlpFCBias, l.mlpProjWeight, l.mlpProjBias]
        }
        tensors += w.heads.keys.sorted().map { w.heads[$0]! }
        d.update(tensors.count)
        for t in tensors { add(t, to: d) }
        return d.hex()
    }

    private static func add(_ t: Tensor, to d: ContentDigest) {
        d.update(t.name)
        d.update(t.shape.count)
        for n in t.shape { d.update(n) }
        switch t.storage {
        case .f32(let p):
            d.update("f32")
            d.update(UnsafeRawBufferPointer(start: p, count: t.count * MemoryLayout<Float>.stride))
        case .half(let h):
            // medium: which body rounds-and-multiplies (vdpbf16ps or the fallback) sums differently
            d.update("half/\(h.kind)/\(h.precision)" + (h.precision == .medium && BF16Dot.hardware ? "/vdpbf16ps" : ""))
            d.update(UnsafeRawBufferPointer(start: h.data, count: t.count * 2))
        case .packed(let p):
            d.update("packed/\(type(of: p))/\(p.precision)")
            d.update(p.segments.count)
            for s in p.segments { d.update(s.count); d.update(s) }
        }
    }
}
