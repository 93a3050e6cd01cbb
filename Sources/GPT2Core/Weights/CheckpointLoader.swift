// CheckpointLoader — turns a Hugging Face GPT-2 directory (config.json + model.safetensors, or
// shards listed by model.safetensors.index.json; else pytorch_model.bin or the shards of
// pytorch_model.bin.index.json, read without executing them: PyTorchCheckpoint; else tf_model.h5 or
// the shards of tf_model.h5.index.json: TFCheckpoint; else flax_model.msgpack or the shards of
// flax_model.msgpack.index.json: FlaxCheckpoint) into GPT2Config + GPT2Weights. A .gguf file (given as the path, or the one in a
// directory without the others) brings its own config and tokenizer: CheckpointLoader+GGUF.
//
// Key normalisation (REFERENCE 2.3): a leading `transformer.` is stripped (head-class saves),
// `h.N.attn.bias` / `h.N.attn.masked_bias` (old causal-mask buffers) are skipped, head tensors
// (`score.*`, `classifier.*`, `qa_outputs.*`, `multiple_choice_head.*`) go to `heads`, and
// `lm_head.weight` is used only when `tie_word_embeddings` is false (transformers re-ties it to
// wte otherwise). Every body tensor's shape is checked against the config.
//
// Memory (WeightMaterializer): served in the checkpoint's own type (LoadOptions.weightType nil),
// aligned F32 tensors are views into the read-only mappings and F16/BF16 matrices are HalfViews of
// their stored values there — no F32 copy; vectors that are not aligned F32 go to a small F32 arena.
// Another weight type converts every matrix once at load (16-bit narrowing or quantization) and
// keeps no mapping it does not view; with LoadOptions.cacheDirectory a quantized type maps its matrices
// from the on-disk cache when valid (QuantCache/). A bitsandbytes-saved checkpoint's quantized matrices
// (Checkpoints/Bitsandbytes) are served in their own type from the mapping, or dequantized and then
// converted for another type. Unknown keys are ignored, as transformers ignores unused checkpoint
// weights (with a warning).

import CKernels
import Foundation
import GPT2Bounds
import GPT2JSON
#if canImport(Glibc)
import Glibc
#endif

/// The container a model's weights were read from (`models` reports it).
public enum CheckpointFormat: String, Sendable {
    /// model.safetensors or its shards.
    case safetensors
    /// pytorch_model.bin or its shards (torch.save, zip or legacy layout).
    case pytorch
    /// tf_model.h5 (Keras weights of transformers' TF classes, HDF5).
    case tensorflow
    /// flax_model.msgpack or its shards (flax.serialization of transformers' Flax classes).
    case flax
    /// A llama.cpp / Ollama .gguf file (GGUFCheckpoint).
    case gguf
}

/// How a checkpoint's weights were quantized before gpt2d read them (`models` reports it).
public enum CheckpointQuantization: String, Sendable {
    /// Saved by transformers from a model loaded with bitsandbytes (4-bit nf4/fp4 or LLM.int8).
    case bitsandbytes
}

/// How to map weight files.
public struct LoadOptions: Sendable {
    /// Fault all pages in at load (MAP_POPULATE + MADV_WILLNEED) so the first request is not slow.
    public var preload: Bool
    /// mlock every mapping and converted buffer; failure throws `CheckpointError.lockFailed`.
    public var lockInMemory: Bool
    /// The type the weight matrices are served in; nil = the checkpoint's own type, computed exactly
    /// as stored. Any other type is produced at load from whatever the checkpoint stores.
    public var weightType: WeightType?
    /// Folder of the on-disk cache of quantized matrices (int8 / nf4 / q4 only; QuantizedCacheFile):
    /// the first load writes them there, later loads map them instead of quantizing. nil: no cache.
    public var cacheDirectory: String?
    /// How bfloat16 weight matrices' products treat the activations (the others ignore it).
    public var matmulPrecision: MatmulPrecision

    public init(preload: Bool = true, lockInMemory: Bool = false, weightType: WeightType? = nil,
                cacheDirectory: String? = nil, matmulPrecision: MatmulPrecision = .highest) {
        self.preload = preload; self.lockInMemory = lockInMemory; self.weightType = weightType
        self.cacheDirectory = cacheDirectory; self.matmulPrecision = matmulPrecision
    }
}

public enum CheckpointLoader {
    /// Single-file weights name.
    public static let weightsFileName = "model.safetensors"
    /// Sharded weights index name.
    public static let indexFileName = "model.safetensors.index.json"

    /// Loads `directory`. Throws `CheckpointError` naming the file, tensor and expected vs found.
    public static func load(directory: String, options: LoadOptions = .init()) throws -> (config: GPT2Config, weights: GPT2Weights) {
        defer { returnFreedHeap() }
        return try load(directory: directory, options: options, formats: PackedFormats.types)
    }

    /// Gives the heap pages a load freed back to the kernel (ck_heap_trim: malloc_trim). Quantizing
    /// frees F32 staging buffers of up to a matrix each; after the first such free glibc raises its
    /// mmap and trim thresholds (up to 32 and 64 MiB), so later staging comes from the heap, and what
    /// it frees there may stay in the process's RSS while serving.
    static func returnFreedHeap() { ck_heap_trim() }

    /// `load` with the packed formats given (tests register their own).
    static func load(directory: String, options: LoadOptions,
                     formats: [WeightType: any PackedMatrix.Type]) throws -> (config: GPT2Config, weights: GPT2Weights) {
        let dir = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw CheckpointError.fileNotFound(path: dir)
        }
        if let gguf = try ggufFile(modelPath: dir, isDirectory: isDir.boolValue) {
            return try loadGGUF(path: gguf, options: options, formats: formats)
        }
        guard isDir.boolValue else { throw CheckpointError.cannotOpen(path: dir, reason: "not a directory") }
        let config = try GPT2Config.load(path: dir + "/config.json")
        let (files, format) = try openWeightFiles(directory: dir, options: options)
        let weights = try assemble(config: config, files: files, directory: dir, options: options, formats: formats,
                                   format: format)
        // A file truncated or rewritten while it was read gives zeros (CFaultGuard), never SIGBUS.
        if let bad = files.first(where: { $0.mapping.isDamaged || $0.mapping.fileChanged() }) {
            throw CheckpointError.cannotOpen(path: bad.mapping.path, reason: "the file shrank or changed while it was loaded")
        }
        return (config, weights)
    }

    // MARK: finding the files

    /// The weight files read, in transformers' `from_pretrained` order: kind by kind, its single
    /// file, then its index; the first one present wins (so safetensors is used when a directory
    /// also has pytorch_model.bin, and sharded safetensors over pytorch_model.bin). A PyTorch class
    /// reads tf_model.h5 / flax_model.msgpack only when told to (`from_tf` / `from_flax`, which then
    /// take priority) and otherwise refuses a directory holding only them, naming TF first: gpt2d
    /// reads them only where no PyTorch weights exist, TF first. Sharded TF and sharded Flax are
    /// what the TFGPT2 / FlaxGPT2 classes read (a PyTorch class reads only the single files); each
    /// of those classes, too, takes a kind's single file before its index.
    static let weightFileKinds: [(single: String, index: String, format: CheckpointFormat)] = [
        (weightsFileName, indexFileName, .safetensors),
        ("pytorch_model.bin", "pytorch_model.bin.index.json", .pytorch),
        ("tf_model.h5", "tf_model.h5.index.json", .tensorflow),
        ("flax_model.msgpack", "flax_model.msgpack.index.json", .flax),
    ]

    /// The table name of a key in a shard index's weight_map: Flax's index lists parameter paths,
    /// TF's Keras weight names (TFCheckpoint.indexKey); the others list the tables' own keys.
    static func indexKey(_ key: String, format: CheckpointFormat) -> String {
        switch format {
        case .flax: return ParameterNames.pytorchKey(key.split(separator: "/").map(String.init)).key
        case .tensorflow: return TFCheckpoint.indexKey(key)
        case .safetensors, .pytorch, .gguf: return key
        }
    }

    /// Opens the first of `weightFileKinds` present: its single file, or every shard of its index
    /// (validated: every shard named exists inside the directory and holds each tensor the
    /// weight_map puts in it; a tensor in two shards is refused later, by `assemble`). A PyTorch file gives one tensor table over its mapping, plus one over the
    /// strided views it had to copy (PyTorchCheckpoint); a Flax file likewise, the second table
    /// holding its transposed kernels (FlaxCheckpoint); a TF file one table over its datasets read
    /// into memory (TFCheckpoint; a shard's datasets are named without the file's layer group and
    /// model scope). Tensor names are PyTorch keys in every table.
    /// With a weight type chosen, pages are neither preloaded nor locked here: a file may only be
    /// converted and then dropped; the files the served weights view are preloaded/locked after
    /// materialising (`finishLoading`).
    static func openWeightFiles(directory dir: String, options: LoadOptions) throws -> (files: [SafeTensorsFile], format: CheckpointFormat) {
        let fm = FileManager.default
        let early = options.weightType == nil
        let preload = options.preload && early, lock = options.lockInMemory && early
        func open(_ path: String, _ format: CheckpointFormat, shard: Bool) throws -> [SafeTensorsFile] {
            switch format {
            case .safetensors: return [try SafeTensorsFile.open(path: path, preload: preload, lockInMemory: lock)]
            case .pytorch: return try PyTorchCheckpoint.open(path: path, preload: preload, lockInMemory: lock)
            case .tensorflow: return try TFCheckpoint.open(path: path, layout: shard ? .shard : .kerasWeights, lockInMemory: lock)
            case .flax: return try FlaxCheckpoint.open(path: path, preload: preload, lockInMemory: lock)
            case .gguf:  // not among weightFileKinds (loadGGUF reads a GGUF file with its own config); its tables
                return try GGUFCheckpoint(file: GGUFFile.open(path: path, preload: preload, lockInMemory: lock), wantQ4: false).tables
            }
        }
        guard let kind = weightFileKinds.first(where: { fm.fileExists(atPath: dir + "/" + $0.single) || fm.fileExists(atPath: dir + "/" + $0.index) }) else {
            let listing = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            let weightLike = listing.filter { name in
                [".bin", ".pt", ".pth", ".h5", ".msgpack", ".ckpt", ".gguf", ".safetensors", ".onnx"].contains { name.hasSuffix($0) }
            }.sorted()
            throw CheckpointError.noWeights(directory: dir, found: weightLike)
        }
        if fm.fileExists(atPath: dir + "/" + kind.single) {
            return (try open(dir + "/" + kind.single, kind.format, shard: false), kind.format)
        }
        let indexPath = dir + "/" + kind.index
        let weightMap = try readIndex(path: indexPath)
        let shardNames = Set(weightMap.values).sorted()
        var files: [String: [SafeTensorsFile]] = [:]
        for shard in shardNames {
            let p = dir + "/" + shard
            guard fm.fileExists(atPath: p) else { throw CheckpointError.missingShard(index: indexPath, shard: shard) }
            files[shard] = try open(p, kind.format, shard: true)
        }
        for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key })
        where !(files[shard] ?? []).contains(where: { $0.info(indexKey(tensor, format: kind.format)) != nil }) {
            throw CheckpointError.badIndex(file: indexPath, reason: "weight_map puts '\(tensor)' in \(shard), which has no such tensor")
        }
        return (shardNames.flatMap { files[$0] ?? [] }, kind.format)
    }

    /// Parses the index's weight_map (tensor → shard file name); the index is a regular file of at
    /// most `RegularFile.Caps.shardIndex` bytes.
    static func readIndex(path: String) throws -> [String: String] {
        let data: Data
        do throws(RegularFileError) { data = Data(try RegularFile.read(path, limit: RegularFile.Caps.shardIndex)) } catch {
            throw CheckpointError(error)
        }
        let json: JSON
        do { json = try CheckpointJSON.parse(data) } catch {
            throw CheckpointError.badIndex(file: path, reason: error.reason)
        }
        guard case .object = json else {
            throw CheckpointError.badIndex(file: path, reason: "top level is a JSON \(json.checkpointTypeName), expected an object")
        }
        guard case let .object(members)? = json["weight_map"] else {
            throw CheckpointError.badIndex(file: path, reason: "no 'weight_map' object")
        }
        guard !members.isEmpty else { throw CheckpointError.badIndex(file: path, reason: "weight_map is empty") }
        var map: [String: String] = [:]
        for (tensor, value) in members {
            guard case let .string(shard) = value else {
                throw CheckpointError.badIndex(file: path, reason: "weight_map value for '\(tensor)' is a \(value.checkpointTypeName), expected a file name")
            }
            guard !shard.isEmpty, !shard.hasPrefix("/"), !shard.split(separator: "/").contains("..") else {
                throw CheckpointError.badIndex(file: path, reason: "shard name '\(shard)' for '\(tensor)' is not a file inside the directory")
            }
            map[tensor] = shard
        }
        return map
    }

    // MARK: assembling GPT2Weights

    /// Where one normalised tensor lives.
    struct Source {
        let file: SafeTensorsFile
        let info: TensorInfo
    }

    static let headPrefixes = ["score.", "classifier.", "qa_outputs.", "multiple_choice_head."]

    /// "h.12.attn.bias" → (12, "attn.bias"); nil for keys outside the blocks.
    static func splitLayerKey(_ key: String) -> (layer: Int, rest: Substring)? {
        guard key.hasPrefix("h.") else { return nil }
        let tail = key.dropFirst(2)
        guard let dot = tail.firstIndex(of: "."), let n = Int(tail[tail.startIndex..<dot]), n >= 0 else { return nil }
        return (n, tail[tail.index(after: dot)...])
    }

    /// Normalised name: without a leading "transformer.".
    static func normalise(_ key: String) -> String {
        key.hasPrefix("transformer.") ? String(key.dropFirst("transformer.".count)) : key
    }

    /// True for the causal-mask buffers old checkpoints carry.
    static func isMaskBuffer(_ key: String) -> Bool {
        guard let (_, rest) = splitLayerKey(key) else { return false }
        return rest == "attn.bias" || rest == "attn.masked_bias"
    }

    /// What the loader does with a checkpoint key.
    public enum KeyRole: Equatable, Sendable {
        /// A body parameter under its normalised name (e.g. "h.3.mlp.c_fc.weight").
        case body(String)
        /// `h.N.attn.bias` / `h.N.attn.masked_bias`: a causal-mask buffer, skipped.
        case maskBuffer
        /// A task-head tensor kept in `GPT2Weights.heads` under this key.
        case head(String)
        /// `lm_head.weight`: used only when `tie_word_embeddings` is false.
        case lmHead
        /// Not used by GPT-2 (transformers ignores such keys with a warning).
        case unused(String)
    }

    static let bodyTopLevel: Set<String> = ["wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias"]
    static let bodyLayerSuffixes: Set<Substring> = [
        "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
        "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
    ]

    /// Classifies a raw checkpoint key (with or without the `transformer.` prefix).
    public static func classify(_ rawKey: String) -> KeyRole {
        let key = normalise(rawKey)
        if isMaskBuffer(key) { return .maskBuffer }
        if key == "lm_head.weight" { return .lmHead }
        if headPrefixes.contains(where: { key.hasPrefix($0) }) { return .head(key) }
        if bodyTopLevel.contains(key) { return .body(key) }
        if let (_, rest) = splitLayerKey(key), bodyLayerSuffixes.contains(rest) { return .body(key) }
        return .unused(key)
    }

    static func assemble(config c: GPT2Config, files: [SafeTensorsFile], directory dir: String,
                         options: LoadOptions = .init(),
                         formats: [WeightType: any PackedMatrix.Type] = PackedFormats.types,
                         format: CheckpointFormat = .safetensors,
                         prebuilt: [String: any PackedMatrix] = [:]) throws -> GPT2Weights {
        // 1. Index every tensor by normalised name.
        var table: [String: Source] = [:]
        for file in files {
            for name in file.names {
                let key = normalise(name)
                if isMaskBuffer(key) { continue }
                guard let info = file.info(name) else { continue }
                if let prev = table[key] {
                    throw CheckpointError.duplicateTensor(tensor: key, first: "\(prev.file.path) as '\(prev.info.name)'",
                                                          second: "\(file.path) as '\(name)'")
                }
                table[key] = Source(file: file, info: info)
            }
        }

        // 1b. bitsandbytes-quantized matrices (Checkpoints/Bitsandbytes): in their own type (the
        //     default, or when asked for it) PackedMatrix views of the mapping, each table entry given
        //     the Conv1D shape [K, N] it stands for; in another type dequantized to F32 tensors first.
        //     (`prebuilt` may already hold a GGUF file's q4 matrices: `fromGGUF`.)
        let requested = options, fromGGUF = !prebuilt.isEmpty
        var options = options, prebuilt = prebuilt, dequantized: [SafeTensorsFile] = []
        //     (A GGUF file is its own config and holds no bitsandbytes state: nothing to look for.)
        let bnb = format == .gguf ? nil : try findBitsandbytes(table, configPath: dir + "/config.json")
        if let bnb, options.weightType == nil || options.weightType == bnb.weightType {
            options.weightType = nil
            for (key, m) in bnb.matrices.sorted(by: { $0.key < $1.key }) {
                prebuilt[key] = try bitsandbytesPacked(m)
                let i = m.source.info
                table[key] = Source(file: m.source.file, info: TensorInfo(name: i.name, dtype: i.dtype, shape: [m.inputs, m.outputs],
                                                                          dataOffsets: i.dataOffsets, fileRange: i.fileRange))
            }
        } else if let bnb, let copied = try bitsandbytesDequantizedTable(bnb) {
            dequantized.append(copied)
            for (key, m) in bnb.matrices { table[key] = Source(file: copied, info: copied.info(m.source.info.name)!) }
        }

        // 2. Config vs tensors: sizes that a whole family of shapes depends on.
        let maxLayer = table.keys.compactMap { splitLayerKey($0)?.layer }.max()
        if let maxLayer, maxLayer >= c.nLayer {
            throw CheckpointError.configMismatch(field: "n_layer", config: c.nLayer, tensors: maxLayer + 1)
        }
        if let wte = table["wte.weight"], wte.info.shape.count == 2 {
            if wte.info.shape[1] != c.nEmbd {
                throw CheckpointError.configMismatch(field: "n_embd", config: c.nEmbd, tensors: wte.info.shape[1])
            }
            if wte.info.shape[0] != c.vocabSize {
                throw CheckpointError.configMismatch(field: "vocab_size", config: c.vocabSize, tensors: wte.info.shape[0])
            }
        }
        if let wpe = table["wpe.weight"], wpe.info.shape.count == 2, wpe.info.shape[0] != c.nPositions {
            throw CheckpointError.configMismatch(field: "n_positions", config: c.nPositions, tensors: wpe.info.shape[0])
        }
        if let fc = table["h.0.mlp.c_fc.weight"], fc.info.shape.count == 2, fc.info.shape[1] != c.nInner {
            throw CheckpointError.configMismatch(field: "n_inner", config: c.nInner, tensors: fc.info.shape[1])
        }

        // 3. Plan: every tensor to expose, shape-checked, with its role (vector or matrix layout).
        var plan: [Planned] = []
        func want(_ key: String, _ expected: [Int]?, _ role: Role = .vector) throws -> Int {
            guard let s = table[key] else { throw CheckpointError.missingTensor(tensor: key, directory: dir) }
            if let expected, s.info.shape != expected {
                throw CheckpointError.wrongShape(file: s.file.path, tensor: s.info.name, expected: expected, found: s.info.shape)
            }
            guard s.info.dtype.isConvertibleFloat || prebuilt[key] != nil else {
                throw CheckpointError.unsupportedDType(file: s.file.path, tensor: s.info.name, dtype: s.info.dtype.rawValue)
            }
            plan.append(Planned(key: key, source: s, role: role))
            return plan.count - 1
        }
        let C = c.nEmbd, F = c.nInner
        let iWte = try want("wte.weight", [c.vocabSize, C], .linear)
        let iWpe = try want("wpe.weight", [c.nPositions, C])
        var layerSlots: [[Int]] = []
        for l in 0..<c.nLayer {
            let p = "h.\(l)."
            layerSlots.append([
                try want(p + "ln_1.weight", [C]), try want(p + "ln_1.bias", [C]),
                try want(p + "attn.c_attn.weight", [C, 3 * C], .conv1D), try want(p + "attn.c_attn.bias", [3 * C]),
                try want(p + "attn.c_proj.weight", [C, C], .conv1D), try want(p + "attn.c_proj.bias", [C]),
                try want(p + "ln_2.weight", [C]), try want(p + "ln_2.bias", [C]),
                try want(p + "mlp.c_fc.weight", [C, F], .conv1D), try want(p + "mlp.c_fc.bias", [F]),
                try want(p + "mlp.c_proj.weight", [F, C], .conv1D), try want(p + "mlp.c_proj.bias", [C]),
            ])
        }
        let iLnFW = try want("ln_f.weight", [C])
        let iLnFB = try want("ln_f.bias", [C])
        let iLMHead: Int = c.tieWordEmbeddings ? iWte : try want("lm_head.weight", [c.vocabSize, C], .linear)

        var headSlots: [String: Int] = [:]
        for key in table.keys.sorted() where headPrefixes.contains(where: { key.hasPrefix($0) }) {
            headSlots[key] = try want(key, expectedHeadShape(key, config: c, table: table))
        }

        // 4. Materialise in the served type (one Tensor per plan entry; wte and a tied head share one).
        //    A quantized type with a cache folder maps its matrices from the cache file when it is valid;
        //    `prebuilt` matrices (a GGUF file's Q4_0 ones, already q4) are used as they are, also in the
        //    default type (then only the files a served tensor views are kept, and the load finishes as
        //    a converting one: the prebuilt matrices' F32 twins are given back).
        let cache = try openQuantizedCache(plan, configPath: dir + "/config.json", files: files, directory: dir,
                                           options: options, formats: formats)
        //    (Those matrices own the file's mapping; it was preloaded at open and mlock covers their bytes.)
        let (tensors, storage) = try materialize(plan, files: files + dequantized, weightType: options.weightType,
                                                 precision: options.matmulPrecision, keepAllFiles: options.weightType == nil && !fromGGUF, formats: formats,
                                                 cached: (cache?.matrices ?? [:]).merging(prebuilt) { cached, _ in cached })
        if requested.weightType != nil || fromGGUF { try finishLoading(storage, tensors, requested) }
        let cacheReport = cache.map { finishQuantizedCache($0, plan, tensors) }

        let layers = layerSlots.map { i in
            GPT2LayerWeights(ln1Weight: tensors[i[0]], ln1Bias: tensors[i[1]], attnQKVWeight: tensors[i[2]],
                             attnQKVBias: tensors[i[3]], attnProjWeight: tensors[i[4]], attnProjBias: tensors[i[5]],
                             ln2Weight: tensors[i[6]], ln2Bias: tensors[i[7]], mlpFCWeight: tensors[i[8]],
                             mlpFCBias: tensors[i[9]], mlpProjWeight: tensors[i[10]], mlpProjBias: tensors[i[11]])
        }
        let stored = plan[iWte].source.info.dtype.rawValue
        // The default type is the stored one; with prebuilt matrices, the blocks' (a GGUF file's q4).
        let defaultType: WeightType = prebuilt.isEmpty ? WeightType.stored(dtype: stored)
            : layers.first?.attnQKVWeight.weightType ?? tensors[iWte].weightType
        return GPT2Weights(wte: tensors[iWte], wpe: tensors[iWpe], layers: layers,
                           lnFWeight: tensors[iLnFW], lnFBias: tensors[iLnFB], lmHead: tensors[iLMHead],
                           heads: headSlots.mapValues { tensors[$0] }, storedDType: stored,
                           weightType: options.weightType ?? bnb?.weightType ?? defaultType, storage: storage,
                           quantizedCache: cacheReport, format: format, quantization: bnb == nil ? nil : .bitsandbytes)
    }

    /// After a converting load: preload / lock what the served weights keep (mappings they view,
    /// arenas, packed matrices' bytes), as the default load does for its mappings at open.
    static func finishLoading(_ storage: [AnyObject], _ tensors: [Tensor], _ options: LoadOptions) throws {
        for case let file as MappedFile in storage {
            if options.preload { file.populate() }
            if options.lockInMemory { try file.lock() }
        }
        guard options.lockInMemory else { return }
        for case let arena as Arena in storage { try arena.lock("(converted weights)") }
        var seen = Set<ObjectIdentifier>()
        for t in tensors {
            guard let p = t.packed, seen.insert(ObjectIdentifier(p)).inserted else { continue }
            for seg in p.segments where seg.count > 0 {
                if mlock(seg.baseAddress!, seg.count) != 0 {
                    throw CheckpointError.lockFailed(path: "(\(t.name), \(type(of: p).weightType))", reason: String(cString: strerror(errno)))
                }
            }
        }
    }

    /// Shapes transformers would build for a head tensor (nil = not checked beyond dtype).
    static func expectedHeadShape(_ key: String, config c: GPT2Config, table: [String: Source]) -> [Int]? {
        switch key {
        case "score.weight", "classifier.weight": return [c.numLabels, c.nEmbd]
        case "classifier.bias": return [c.numLabels]
        case "qa_outputs.weight": return [2, c.nEmbd]
        case "qa_outputs.bias": return [2]
        case "multiple_choice_head.summary.weight":
            // GPT2DoubleHeadsModel forces num_labels = 1; with summary_proj_to_labels false it is C.
            let rows = table[key]?.info.shape.first ?? 1
            return [rows == c.nEmbd ? c.nEmbd : 1, c.nEmbd]
        case "multiple_choice_head.summary.bias":
            let rows = table["multiple_choice_head.summary.weight"]?.info.shape.first ?? (table[key]?.info.shape.first ?? 1)
            return [rows]
        default: return nil
        }
    }
}
