// WeightMaterializer — turns the loader's plan (every tensor the forward pass reads, with its role)
// into Tensors in the served weight type, reading each checkpoint value once.
//
// Per tensor, the cheapest way to its target type:
//   vector (biases, layer norms, wpe, task heads)  → F32: a view of an aligned F32 tensor, else converted
//   matrix, target float32                          → the same, view or converted
//   matrix, target bfloat16/float16                 → a 16-bit view when the checkpoint stores that type,
//                                                     else narrowed (round to nearest even) into an arena
//   matrix, target int8/nf4/q4                      → widened to a temporary F32 (N, K) buffer (Conv1D
//                                                     [K, N] transposed to output-major), quantized by the
//                                                     format's PackedMatrix type, the buffer freed
// A file no served tensor views (an F32 checkpoint served as bfloat16, say) is not kept: its pages are
// given back as each tensor is converted and the mapping is unmapped when the load returns, so the
// process holds only the served weights.

#if canImport(Glibc)
import Glibc
#endif
import CKernels

extension CheckpointLoader {
    /// What a planned tensor is to the forward pass.
    enum Role: Equatable {
        /// Read as F32 by element (biases, gains, wpe, task heads).
        case vector
        /// A body Conv1D weight [in K, out N] (y = x·W).
        case conv1D
        /// An nn.Linear weight [out N, in K] (y = x·Wᵀ): wte / the LM head.
        case linear
    }

    struct Planned {
        let key: String
        let source: Source
        let role: Role
    }

    /// How one planned tensor becomes its Tensor.
    enum Target {
        case viewF32
        case viewHalf(HalfView.Kind)
        case toF32
        case toHalf(HalfView.Kind)
        case pack(any PackedMatrix.Type)
    }

    /// The target of `p` when the model is served as `weightType` (nil: each tensor's stored type).
    static func target(_ p: Planned, weightType: WeightType?,
                       formats: [WeightType: any PackedMatrix.Type]) throws -> Target {
        let info = p.source.info
        let type = p.role == .vector ? .float32 : (weightType ?? .stored(dtype: info.dtype.rawValue))
        switch type {
        case .float32:
            return p.source.file.isAlignedF32(info) ? .viewF32 : .toF32
        case .bfloat16:
            return info.dtype == .BF16 ? .viewHalf(.bf16) : .toHalf(.bf16)
        case .float16:
            return info.dtype == .F16 ? .viewHalf(.f16) : .toHalf(.f16)
        case .int8, .nf4, .q4, .fp4:
            guard let format = formats[type] else { throw CheckpointError.weightTypeUnavailable(type: type.rawValue) }
            return .pack(format)
        }
    }

    /// Materialises `plan` in order. Returns one Tensor per entry and the objects owning their memory
    /// (kept mappings, arenas). `keepAllFiles`: keep every mapping (the default-type load, as before).
    /// `formats`: the packed formats by type (PackedFormats.types; tests pass their own).
    /// `cached`: packed matrices already built (from the quantized-weight cache, or a bitsandbytes
    /// checkpoint's own matrices when `weightType` is nil), by plan key; they are used instead of quantizing.
    static func materialize(_ plan: [Planned], files: [SafeTensorsFile], weightType: WeightType?,
                            precision: MatmulPrecision = .highest,
                            keepAllFiles: Bool, formats: [WeightType: any PackedMatrix.Type],
                            cached: [String: any PackedMatrix] = [:])
        throws -> (tensors: [Tensor], storage: [AnyObject]) {
        // A matrix already in its served format (a GGUF file's Q4_0 as q4, a bitsandbytes checkpoint's
        // own type) is used as it is, in the default type too.
        var targets = try plan.map { (p) throws -> Target in
            if weightType == nil, let m = cached[p.key] { return Target.pack(type(of: m)) }
            return try target(p, weightType: weightType, formats: formats)
        }
        // Files kept: all of them, or those a matrix is viewed in; vectors elsewhere are copied.
        var kept = Set<ObjectIdentifier>()
        for (p, t) in zip(plan, targets) {
            switch t {
            case .viewHalf: kept.insert(ObjectIdentifier(p.source.file))
            case .viewF32 where p.role != .vector || keepAllFiles: kept.insert(ObjectIdentifier(p.source.file))
            default: break
            }
        }
        if keepAllFiles { for f in files { kept.insert(ObjectIdentifier(f)) } }
        for i in plan.indices {
            if case .viewF32 = targets[i], !kept.contains(ObjectIdentifier(plan[i].source.file)) { targets[i] = .toF32 }
        }

        var f32Count = 0, halfCount = 0
        for (p, t) in zip(plan, targets) {
            if case .toF32 = t { f32Count += p.source.info.count }
            if case .toHalf = t { halfCount += p.source.info.count }
        }
        let f32Arena = f32Count > 0 ? Arena(byteCount: 4 * f32Count) : nil
        let halfArena = halfCount > 0 ? Arena(byteCount: 2 * halfCount) : nil
        var f32Cursor = 0, halfCursor = 0

        var tensors: [Tensor] = []
        tensors.reserveCapacity(plan.count)
        for (p, t) in zip(plan, targets) {
            let file = p.source.file, info = p.source.info
            let stored = file.mapping.base + info.fileRange.lowerBound
            switch t {
            case .viewF32:
                tensors.append(Tensor(name: p.key, shape: info.shape, data: stored.assumingMemoryBound(to: Float.self)))
            case .viewHalf(let kind):
                tensors.append(Tensor(name: p.key, shape: info.shape, storage: .half(HalfView(kind: kind, data: stored, precision: precision))))
            case .toF32:
                let dst = f32Arena!.floats + f32Cursor
                try file.convert(info, into: dst)
                f32Cursor += info.count
                tensors.append(Tensor(name: p.key, shape: info.shape, data: UnsafePointer(dst)))
            case .toHalf(let kind):
                let dst = halfArena!.base + 2 * halfCursor
                try file.narrow(info, to: kind, into: dst, discarding: !kept.contains(ObjectIdentifier(file)))
                halfCursor += info.count
                tensors.append(Tensor(name: p.key, shape: info.shape, storage: .half(HalfView(kind: kind, data: UnsafeRawPointer(dst), precision: precision))))
            case .pack(let format):
                let matrix = try cached[p.key] ?? quantize(p, format)
                tensors.append(Tensor(name: p.key, shape: info.shape, storage: .packed(matrix.serving(precision: precision))))
            }
            if !kept.contains(ObjectIdentifier(file)) { file.mapping.discard(info.fileRange) }
        }
        var storage: [AnyObject] = files.filter { kept.contains(ObjectIdentifier($0)) }.map(\.mapping)
        if let f32Arena { storage.append(f32Arena) }
        if let halfArena { storage.append(halfArena) }
        return (tensors, storage)
    }

    /// A 2-D matrix quantized by `format`: widened to F32 output-major rows (N, K) first.
    static func quantize(_ p: Planned, _ format: any PackedMatrix.Type) throws -> any PackedMatrix {
        let info = p.source.info
        let (n, k) = outputMajorShape(p)
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n * k))
        defer { rows.deallocate() }
        if p.role == .conv1D {
            let stored = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n * k))
            defer { stored.deallocate() }
            try p.source.file.convert(info, into: stored)
            transpose(stored, rows: k, cols: n, into: rows)
        } else {
            try p.source.file.convert(info, into: rows)
        }
        return format.init(quantizing: rows, outputs: n, inputs: k)
    }

    /// dst (cols, rows) = src (rows, cols)ᵀ, both row-major, in 32×32 blocks.
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
        let b = 32
        for r0 in stride(from: 0, to: rows, by: b) {
            for c0 in stride(from: 0, to: cols, by: b) {
                for r in r0..<min(rows, r0 + b) {
                    for c in c0..<min(cols, c0 + b) { dst[c * rows + r] = src[r * cols + c] }
                }
            }
        }
    }
}

extension SafeTensorsFile {
    /// Narrows a float tensor into `dst` (count 16-bit `kind` elements, any alignment), rounding to
    /// nearest even; F16/BF16 sources are widened exactly first, so every value is rounded once
    /// (F64 goes through F32 first: rounded twice, as transformers' own .to() chain would).
    /// `discarding`: give each chunk's source pages back as soon as it is narrowed (a file that will
    /// not be kept), so a large tensor's F32 pages never all sit in memory beside the arena.
    func narrow(_ info: TensorInfo, to kind: HalfView.Kind, into dst: UnsafeMutableRawPointer, discarding: Bool) throws {
        let src = mapping.base + info.fileRange.lowerBound
        let chunk = 1 << 20
        if info.dtype == .F32 {
            var i = 0
            while i < info.count {
                let n = min(chunk, info.count - i)
                ck_narrow_f32(src + 4 * i, dst + 2 * i, kind.ckKind, n)
                if discarding { mapping.discard((info.fileRange.lowerBound + 4 * i)..<(info.fileRange.lowerBound + 4 * (i + n))) }
                i += n
            }
            return
        }
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { tmp.deallocate() }
        var i = 0
        while i < info.count {
            let n = min(chunk, info.count - i), at = src + i * info.dtype.size
            switch info.dtype {
            case .F16: convertF16(at, to: tmp, count: n)
            case .BF16: convertBF16(at, to: tmp, count: n)
            case .F64: convertF64(at, to: tmp, count: n)
            default: throw CheckpointError.unsupportedDType(file: path, tensor: info.name, dtype: info.dtype.rawValue)
            }
            ck_narrow_f32(tmp, dst + 2 * i, kind.ckKind, n)
            if discarding {
                let at = info.fileRange.lowerBound + i * info.dtype.size
                mapping.discard(at..<(at + n * info.dtype.size))
            }
            i += n
        }
    }
}
