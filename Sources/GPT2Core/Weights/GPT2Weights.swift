// GPT2Weights — views of every parameter the forward pass reads, one struct of named
// tensors (llm.c's ParameterTensors in Swift). Built by CheckpointLoader; never copies F32.
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
    /// Element type the checkpoint stored ("F32", "F16", "BF16"); non-F32 is converted to F32 at load.
    public let storedDType: String
    /// Keeps mappings and converted buffers alive for as long as any view exists.
    private let storage: [AnyObject]

    public init(wte: Tensor, wpe: Tensor, layers: [GPT2LayerWeights], lnFWeight: Tensor, lnFBias: Tensor,
                lmHead: Tensor, heads: [String: Tensor], storedDType: String, storage: [AnyObject]) {
        self.wte = wte; self.wpe = wpe; self.layers = layers; self.lnFWeight = lnFWeight
        self.lnFBias = lnFBias; self.lmHead = lmHead; self.heads = heads; self.storedDType = storedDType
        self.storage = storage
    }
}

extension GPT2Weights {
    /// The same weights with every 16-bit view dropped: all products read the converted F32
    /// values (the path before HalfView; for comparisons). Shares this object's memory.
    public func withoutHalfViews() -> GPT2Weights {
        let layers = layers.map { l in
            GPT2LayerWeights(ln1Weight: l.ln1Weight.withoutHalf, ln1Bias: l.ln1Bias.withoutHalf,
                             attnQKVWeight: l.attnQKVWeight.withoutHalf, attnQKVBias: l.attnQKVBias.withoutHalf,
                             attnProjWeight: l.attnProjWeight.withoutHalf, attnProjBias: l.attnProjBias.withoutHalf,
                             ln2Weight: l.ln2Weight.withoutHalf, ln2Bias: l.ln2Bias.withoutHalf,
                             mlpFCWeight: l.mlpFCWeight.withoutHalf, mlpFCBias: l.mlpFCBias.withoutHalf,
                             mlpProjWeight: l.mlpProjWeight.withoutHalf, mlpProjBias: l.mlpProjBias.withoutHalf)
        }
        return GPT2Weights(wte: wte.withoutHalf, wpe: wpe.withoutHalf, layers: layers,
                           lnFWeight: lnFWeight.withoutHalf, lnFBias: lnFBias.withoutHalf,
                           lmHead: lmHead.withoutHalf, heads: heads.mapValues(\.withoutHalf),
                           storedDType: storedDType, storage: storage)
    }

    /// True when `tensor`'s data lies inside one of the read-only file mappings (a zero-copy view).
    public func isMapped(_ tensor: Tensor) -> Bool {
        storage.contains { ($0 as? MappedFile)?.contains(tensor.data, byteCount: tensor.count * MemoryLayout<Float>.stride) ?? false }
    }

    /// Bytes of owned F32 memory made at load (F16/BF16 conversion, misaligned F32); 0 for an aligned F32 checkpoint.
    public var convertedByteCount: Int {
        storage.reduce(0) { $0 + (($1 as? FloatArena).map { $0.count * MemoryLayout<Float>.stride } ?? 0) }
    }

    /// Total bytes of the mapped weight files.
    public var mappedByteCount: Int {
        storage.reduce(0) { $0 + (($1 as? MappedFile)?.size ?? 0) }
    }
}
