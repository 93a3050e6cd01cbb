// TFCheckpoint — one `tf_model.h5` (what transformers' TF classes write with Keras 2's
// save_weights), or one `tf_model-0000K-of-0000N.h5` shard of `tf_model.h5.index.json`, as the
// loader's tensor table.
//
// Layout of tf_model.h5 (`.kerasWeights`): one HDF5 group per Keras layer of the model
// (`transformer`, `score`, `multiple_choice_head`), under it each weight as a dataset at its Keras
// name, e.g.
//   transformer/tfgpt2_lm_head_model/transformer/h_._0/attn/c_attn/weight:0
//   (layer group) (model scope)       (the weight's path in the model)
// Layout of a shard (`.shard`: transformers' save_pretrained(max_shard_size:) writes it with h5py,
// not Keras): each weight as a dataset at its Keras name without the model scope, e.g.
//   transformer/h_._0/attn/c_attn/weight:0
// The index's weight_map maps each full Keras name (`tfgpt2_lm_head_model/transformer/h_._0/…:0`)
// to its shard; shards it does not name (save_pretrained writes an empty first one when the first
// weight alone exceeds max_shard_size) are not read, as transformers does not read them.
// The PyTorch key is the weight's path after the model scope, renamed as transformers' TF→PyTorch
// converter does (ParameterNames): `…/h_._0/attn/c_attn/weight` → `transformer.h.0.attn.c_attn.weight`.
// TFConv1D weights are (in, out) like Conv1D; Dense kernels (score, the multiple-choice summary)
// are transposed to nn.Linear's (out, in); TFConv1D biases of shape (1, N) become (N).
//
// HDF5 datasets are read through libhdf5 into memory — one anonymous mapping holds every tensor
// (CopiedTensors), a copy where safetensors and PyTorch files are mapped: libhdf5 owns the file's
// layout. Before anything is allocated each dataset must be an uncompressed little-endian IEEE F32
// or F16 of rank ≤ 8 and all of them together no larger than the file; anything else is a typed
// error naming the file and the dataset.

enum TFCheckpoint {
    /// HDF5's signature (the superblock at offset 0: Keras writes no user block).
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// How a file names its datasets (see above).
    enum Layout {
        /// tf_model.h5: `layer group/model scope/weight path:0`.
        case kerasWeights
        /// A shard of tf_model.h5.index.json: `weight path:0`.
        case shard

        /// Leading components of a dataset path before the weight's path in the model.
        var scopeComponents: Int { self == .kerasWeights ? 2 : 0 }
    }

    /// Opens `path`. Returns one table over the copied tensors (mlock'ed with `lockInMemory`; they
    /// are in memory already, so there is nothing to preload). Throws `CheckpointError` naming the
    /// file and dataset.
    static func open(path: String, layout: Layout = .kerasWeights, lockInMemory: Bool = false) throws -> [SafeTensorsFile] {
        // The file is opened by us first (RegularFile's checks: a FIFO never blocks) for its size and magic.
        let size: Int
        do {
            let file = try MappedFile(path: path)
            guard file.size >= signature.count, Array(file.bytes.prefix(signature.count)) == signature else {
                throw CheckpointError.badHDF5(file: path, reason: "wrong magic: not an HDF5 file")
            }
            size = file.size
        }
        return try HDF5.serialized {
            let file = try HDF5File(path: path)
            var items: [CopiedTensors.Item] = []
            for dataset in try file.datasetPaths() {
                guard let key = pytorchKey(dataset, layout: layout) else { continue }
                let info = try file.withDataset(dataset) { try file.describe($0, name: dataset) }
                guard let dtype = info.dtype else {
                    throw CheckpointError.unsupportedDType(file: path, tensor: dataset, dtype: info.typeName)
                }
                guard info.filters == 0 else {
                    throw CheckpointError.badStorage(file: path, tensor: dataset, reason: "compressed or filtered (\(info.filters) filters); Keras writes plain datasets")
                }
                var count = 1
                for d in info.shape {
                    let (m, overflow) = count.multipliedReportingOverflow(by: d)
                    guard !overflow, m <= size else {
                        throw CheckpointError.badStorage(file: path, tensor: dataset, reason: "shape \(info.shape) holds more elements than the \(size)-byte file")
                    }
                    count = m
                }
                let transposed = key.isKernel && info.shape.count == 2
                let shape = transposed ? [info.shape[1], info.shape[0]]
                    : key.name.hasSuffix(".bias") && info.shape.count == 2 && info.shape[0] == 1 ? [info.shape[1]] : info.shape
                let e = dtype.size
                items.append(CopiedTensors.Item(name: key.name, dtype: dtype, shape: shape) { dst in
                    try file.withDataset(dataset) { ds in
                        guard transposed else { return try file.read(ds, name: dataset, into: dst) }
                        let stored = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * e), alignment: 64)
                        defer { stored.deallocate() }
                        try file.read(ds, name: dataset, into: stored)
                        CopiedTensors.transpose(stored, rows: info.shape[0], cols: info.shape[1], elementSize: e, into: dst)
                    }
                })
            }
            guard let table = try CopiedTensors.table(items, name: path, file: path, limit: size, lock: lockInMemory) else {
                throw CheckpointError.badHDF5(file: path, reason: "no weight datasets")
            }
            return [table]
        }
    }

    /// The PyTorch key of a dataset path, e.g. "transformer/tfgpt2_model/transformer/h_._0/ln_1/gamma:0"
    /// in tf_model.h5 or "transformer/h_._0/ln_1/gamma:0" in a shard → "transformer.h.0.ln_1.weight"
    /// (and whether it is a kernel); nil for a path with nothing after the layout's scope.
    static func pytorchKey(_ dataset: String, layout: Layout = .kerasWeights) -> (name: String, isKernel: Bool)? {
        weightKey(dataset.split(separator: "/").map(String.init).dropFirst(layout.scopeComponents))
    }

    /// The table key of a weight_map key of tf_model.h5.index.json (a full Keras weight name,
    /// "tfgpt2_lm_head_model/transformer/h_._0/ln_1/gamma:0" → "transformer.h.0.ln_1.weight");
    /// the key itself when it has no weight path under a model scope (no tensor is named so).
    static func indexKey(_ weightName: String) -> String {
        weightKey(weightName.split(separator: "/").map(String.init).dropFirst(1))?.name ?? weightName
    }

    /// A weight's path in the model (its layers, then its weight name, ":0" optional) → its PyTorch key.
    private static func weightKey(_ path: ArraySlice<String>) -> (name: String, isKernel: Bool)? {
        var parts = Array(path)
        guard !parts.isEmpty else { return nil }
        if parts[parts.count - 1].hasSuffix(":0") { parts[parts.count - 1].removeLast(2) }
        let (key, isKernel) = ParameterNames.pytorchKey(parts)
        return (key, isKernel)
    }
}
