// GPT2Weights — views of every parameter the forward pass reads, one struct of named
// tensors (llm.c's ParameterTensors in Swift). Built by CheckpointLoader; never copies F32, and a
// 16-bit or quantized model holds its matrices only in that type.
//
// Layouts (transformers' GPT-2): body Conv1D weights are [in, out] (y = x·W + b);
// head nn.Linear weights are [out, in] (y = x·Wᵀ + b).

/// One transformer block. Shapes use C = nEmbd, F = nInner.
public struct GPT2LayerWeights: @unchecked Sendable {
    public let ln1Weight: Tensor      // (C)
    public let ln1Bias: Tensor        // (C)
    public let attnQKVWeight: Tensor  // (C, 3C)  Conv1D [in, out]; output splits q | k | v
    public let attnQKVBias: Tensor    // (3C)
    public let attnProjWeight: Tensor // (C, C)
    public let attnProjBias: Tensor   // (C)
    public let ln2Weight: Tensor      // (C)
    public let ln2Bias: Tensor        // (C)
    public let mlpFCWeight: Tensor    // (C, F)
    public let mlpFCBias: Tensor      // (F)
    public let mlpProjWeight: Tensor  // (F, C)
    public let mlpProjBias: Tensor    // (C)

    public init(ln1Weight: Tensor, ln1Bias: Tensor, attnQKVWeight: Tensor, attnQKVBias: Tensor,
                attnProjWeight: Tensor, attnProjBias: Tensor, ln2Weight: Tensor, ln2Bias: Tensor,
                mlpFCWeight: Tensor, mlpFCBias: Tensor, mlpProjWeight: Tensor, mlpProjBias: Tensor) {
        self.ln1Weight = ln1Weight; self.ln1Bias = ln1Bias; self.attnQKVWeight = attnQKVWeight
        self.attnQKVBias = attnQKVBias; self.attnProjWeight = attnProjWeight; self.attnProjBias = attnProjBias
        self.ln2Weight = ln2Weight; self.ln2Bias = ln2Bias; self.mlpFCWeight = mlpFCWeight
        self.mlpFCBias = mlpFCBias; self.mlpProjWeight = mlpProjWeight; self.mlpProjBias = mlpProjBias
    }
}

/// All parameters of a checkpoint. Immutable and shared by every session.
public final class GPT2Weights: @unchecked Sendable {
    public let wte: Tensor       // (V, C) token embeddings
    public let wpe: Tensor       // (P, C) learned positions
    public let layers: [GPT2LayerWeights]
    public let lnFWeight: Tensor // (C)
    public let lnFBias: Tensor   // (C)
    /// (V, C) nn.Linear [out, in]; the same memory as `wte` when tied.
    public let lmHead: Tensor
    /// Task-head tensors by normalised key, e.g. "score.weight" (num_labels, C),
    /// "classifier.weight"/"classifier.bias", "qa_outputs.weight"/".bias",
    /// "multiple_choice_head.summary.weight"/".bias". Linear layout [out, in].
    public let heads: [String: Tensor]
    /// Element type the checkpoint stored ("F32", "F16", "BF16", "F64") for wte.
    public let storedDType: String
    /// The type the weight matrices are served in (LoadOptions.weightType, or the stored type).
    public let weightType: WeightType
    /// How the products with the bfloat16 (activations) and nf4 / fp4 (codes) matrices are computed
    /// (`.highest` for other types).
    public var matmulPrecision: MatmulPrecision {
        switch layers.first?.attnQKVWeight.storage {
        case .half(let h)?: return h.precision
        case .packed(let m)?: return m.precision
        default: return .highest
        }
    }
    /// What the load did with the quantized-weight cache (hit / miss / rebuilt); nil when none was
    /// used (no LoadOptions.cacheDirectory, or not a quantized weight type).
    public let quantizedCache: QuantizedCacheReport?
    /// The container the weights were read from.
    public let format: CheckpointFormat
    /// The tokenizer the weight file carries (a GGUF file's), nil for the other formats. Set once by
    /// the loader before the weights are shared.
    public internal(set) var embeddedTokenizer: EmbeddedTokenizer?
    /// How the checkpoint was quantized before gpt2d read it (bitsandbytes), nil for float checkpoints.
    public let quantization: CheckpointQuantization?
    /// Keeps mappings and converted buffers alive for as long as any view exists.
    private let storage: [AnyObject]

    public init(wte: Tensor, wpe: Tensor, layers: [GPT2LayerWeights], lnFWeight: Tensor, lnFBias: Tensor,
                lmHead: Tensor, heads: [String: Tensor], storedDType: String, weightType: WeightType? = nil,
                storage: [AnyObject], quantizedCache: QuantizedCacheReport? = nil, format: CheckpointFormat = .safetensors,
                quantization: CheckpointQuantization? = nil) {
        self.wte = wte; self.wpe = wpe; self.layers = layers; self.lnFWeight = lnFWeight
        self.lnFBias = lnFBias; self.lmHead = lmHead; self.heads = heads; self.storedDType = storedDType
        self.weightType = weightType ?? .stored(dtype: storedDType)
        self.storage = storage; self.quantizedCache = quantizedCache; self.format = format
        self.quantization = quantization
    }
}

extension GPT2Weights {
    /// The same weights with every 16-bit matrix replaced by an owned F32 copy of its (exactly
    /// widened) values: all products then take the F32 paths (for comparisons; allocates).
    public func withoutHalfViews() -> GPT2Weights {
        var all = [wte, wpe, lnFWeight, lnFBias, lmHead] + Array(heads.values)
        for l in layers { all += [l.attnQKVWeight, l.attnProjWeight, l.mlpFCWeight, l.mlpProjWeight] }
        var offsets: [String: Int] = [:], total = 0
        for t in all where t.half != nil && offsets[t.name] == nil { offsets[t.name] = total; total += t.count }
        let arena = Arena(byteCount: 4 * total)
        func f32(_ t: Tensor) -> Tensor {
            guard let h = t.half, let at = offsets[t.name] else { return t }
            h.widen(from: 0, count: t.count, into: arena.floats + at)
            return Tensor(name: t.name, shape: t.shape, data: arena.floats + at)
        }
        let layers = layers.map { l in
            GPT2LayerWeights(ln1Weight: l.ln1Weight, ln1Bias: l.ln1Bias,
                             attnQKVWeight: f32(l.attnQKVWeight), attnQKVBias: l.attnQKVBias,
                             attnProjWeight: f32(l.attnProjWeight), attnProjBias: l.attnProjBias,
                             ln2Weight: l.ln2Weight, ln2Bias: l.ln2Bias,
                             mlpFCWeight: f32(l.mlpFCWeight), mlpFCBias: l.mlpFCBias,
                             mlpProjWeight: f32(l.mlpProjWeight), mlpProjBias: l.mlpProjBias)
        }
        let wte32 = f32(wte)
        return GPT2Weights(wte: wte32, wpe: wpe, layers: layers, lnFWeight: lnFWeight, lnFBias: lnFBias,
                           lmHead: lmHead.sharesStorage(with: wte) ? wte32 : f32(lmHead), heads: heads,
                           storedDType: storedDType, weightType: .float32, storage: storage + [arena], format: format,
                           quantization: quantization)
    }

    /// True when the tensor's values lie inside one of the read-only file mappings (a zero-copy view).
    public func isMapped(_ tensor: Tensor) -> Bool {
        let range: (UnsafeRawPointer, Int)
        switch tensor.storage {
        case .f32(let p): range = (UnsafeRawPointer(p), tensor.count * MemoryLayout<Float>.stride)
        case .half(let h): range = (h.data, tensor.count * 2)
        case .packed: return false
        }
        return storage.contains { ($0 as? MappedFile)?.contains(range.0, byteCount: range.1) ?? false }
    }

    /// Bytes of owned memory filled at load: F32 vectors of a 16-bit checkpoint, matrices converted
    /// to another float type, misaligned F32. 0 for an aligned F32 checkpoint served as float32.
    public var convertedByteCount: Int {
        storage.reduce(0) { $0 + (($1 as? Arena)?.byteCount ?? 0) }
    }

    /// Bytes held by packed (quantized) matrices, each counted once.
    public var packedByteCount: Int {
        var seen = Set<ObjectIdentifier>(), total = 0
        for t in [wte, lmHead] + layers.flatMap({ [$0.attnQKVWeight, $0.attnProjWeight, $0.mlpFCWeight, $0.mlpProjWeight] }) {
            if let p = t.packed, seen.insert(ObjectIdentifier(p)).inserted { total += p.byteCount }
        }
        return total
    }

    /// The read-only file mappings the served weights view (watched for files changed in place:
    /// `MappedFile.isDamaged`, `fileChanged`, `restoreIfWhole`).
    public var mappedFiles: [MappedFile] { storage.compactMap { $0 as? MappedFile } }

    /// Total bytes of the mapped weight files kept.
    public var mappedByteCount: Int {
        storage.reduce(0) { $0 + (($1 as? MappedFile)?.size ?? 0) }
    }
}
