// CheckpointError — every way loading a checkpoint directory can fail. Each case names the
// file (full path as given), the tensor (as spelled in the file) and expected vs found, so
// one log line is enough to fix the checkpoint. Values read from the files (tensor names, dtypes,
// reasons) are quoted at most UserText.defaultLimit bytes each.

import GPT2Bounds

/// A typed checkpoint-loading failure. `description` is one line of English.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    // MARK: files
    /// The file or directory does not exist.
    case fileNotFound(path: String)
    /// open/fstat/mmap failed for another reason (permissions, a directory, ...).
    case cannotOpen(path: String, reason: String)
    /// A zero-byte file (cannot be mapped; cannot be a checkpoint).
    case emptyFile(path: String)
    /// `LoadOptions.lockInMemory` was set and mlock failed (RLIMIT_MEMLOCK, privileges). Always an error.
    case lockFailed(path: String, reason: String)

    // MARK: safetensors structure
    /// The declared JSON header length runs past the end of the file or is absurd (> 100 MB).
    case headerTooLarge(file: String, declared: UInt64, fileSize: Int)
    /// The header is not UTF-8 JSON, not an object, or an entry has a wrong field type.
    case badHeader(file: String, reason: String)
    /// A dtype string that is not a safetensors dtype.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// data_offsets [begin, end) is reversed or lies outside the data area of `dataSize` bytes.
    case offsetsOutOfRange(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors share bytes.
    case overlappingTensors(file: String, first: String, second: String)
    /// Bytes in the data area that no tensor covers (the format forbids holes and trailing bytes).
    case gapInData(file: String, begin: Int, end: Int)
    /// end − begin ≠ product(shape) · dtype size.
    case sizeMismatch(file: String, tensor: String, expectedBytes: Int, foundBytes: Int)
    /// `SafeTensorsFile` was asked for a name its header does not list.
    case tensorNotInFile(file: String, tensor: String)
    /// A zero-copy F32 view was asked for data that is not 4-byte aligned (the caller must copy).
    case misalignedData(file: String, tensor: String, offset: Int)

    // MARK: PyTorch pickle checkpoints (pytorch_model.bin)
    /// The pickle asks for a global or opcode outside the allow-list (TorchAllowList); refused when
    /// read, before anything after it. `part` is the pickle inside the file (e.g. "archive/data.pkl").
    case unsafePickle(file: String, part: String, what: String)
    /// The pickle is malformed or exceeds a bound (RestrictedUnpickler.Limits) at byte `offset` of `part`.
    case badPickle(file: String, part: String, offset: Int, reason: String)
    /// The container is not a torch.save file: zip archive or legacy layout damaged, truncated, or
    /// an entry compressed or outside the file.
    case badArchive(file: String, reason: String)
    /// A tensor's storage is missing, lies about its size, or the tensor indexes past it; for the
    /// TF / Flax formats: a dataset or array whose bytes, shape or payload are wrong.
    case badStorage(file: String, tensor: String, reason: String)

    // MARK: TensorFlow (tf_model.h5) and Flax (flax_model.msgpack) checkpoints
    /// Not a readable HDF5 file (wrong magic, truncated, damaged: libhdf5's reason).
    case badHDF5(file: String, reason: String)
    /// Not a readable Flax msgpack file (truncated, nesting or sizes out of bounds, not a tree of arrays).
    case badMsgPack(file: String, reason: String)

    // MARK: GGUF files (llama.cpp / Ollama)
    /// Not a readable GGUF file: magic, version, a count, length, offset or alignment that is wrong,
    /// overflows or runs past the end (`reason` names the item and, for a tensor, its name).
    case badGGUF(file: String, reason: String)
    /// A GGUF tensor stored in a ggml type this reader does not dequantize.
    case unsupportedGGMLType(file: String, tensor: String, type: String)
    /// A GGUF file of another model family (`general.architecture` is not gpt2).
    case wrongArchitecture(file: String, found: String)
    // MARK: quantized checkpoints (bitsandbytes)
    /// A bitsandbytes-quantized weight whose state (quant_state blob, absmax, code books, SCB,
    /// config.json's quantization_config) is missing, contradicts its tensors, or is of a kind gpt2d
    /// does not read (another blocksize or quant type, packed storage other than U8).
    case badQuantization(file: String, tensor: String, reason: String)

    // MARK: checkpoint content
    /// A tensor the config requires is in none of the weight files.
    case missingTensor(tensor: String, directory: String)
    /// A tensor whose shape does not match what the config implies.
    case wrongShape(file: String, tensor: String, expected: [Int], found: [Int])
    /// A dtype this reader cannot use here (e.g. I64 for a weight, or `floats` on an integer tensor).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// The same (normalised) tensor appears twice: in two shards, or as `h.0.x` and `transformer.h.0.x`.
    case duplicateTensor(tensor: String, first: String, second: String)

    // MARK: config and index
    /// A config.json field has a wrong type or an invalid value.
    case configInvalid(file: String, field: String, reason: String)
    /// config.json and the tensors disagree about a size (e.g. n_layer 2 but h.0…h.3 present).
    case configMismatch(field: String, config: Int, tensors: Int)
    /// A shard index (model.safetensors.index.json, pytorch_model.bin.index.json, tf_model.h5.index.json,
    /// flax_model.msgpack.index.json) is malformed or disagrees with its shards.
    case badIndex(file: String, reason: String)
    /// A shard named by the index's weight_map does not exist.
    case missingShard(index: String, shard: String)
    /// No loadable weight file in the directory; `found` lists what is there instead.
    case noWeights(directory: String, found: [String])
    /// LoadOptions.weightType names a quantized type no PackedMatrix format is registered for.
    case weightTypeUnavailable(type: String)

    /// The error for a file `RegularFile` refused or could not read.
    public init(_ e: RegularFileError) {
        switch e {
        case let .notFound(path): self = .fileNotFound(path: path)
        case let .notRegular(path, _), let .tooLarge(path, _, _), let .system(path, _, _):
            self = .cannotOpen(path: path, reason: e.reason)
        }
    }

    public var description: String {
        // Names, dtypes and reasons come from the files: each is quoted clipped (UserText).
        let q = { (s: String) in UserText.clip(s) }
        let r = { (s: String) in UserText.clip(s, limit: UserText.reasonLimit) }
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file or directory"
        case let .cannotOpen(path, reason):
            return "\(path): cannot open: \(r(reason))"
        case let .emptyFile(path):
            return "\(path): file is empty"
        case let .lockFailed(path, reason):
            return "\(path): mlock failed (\(r(reason))); raise RLIMIT_MEMLOCK (ulimit -l) or load without lockInMemory"
        case let .headerTooLarge(file, declared, fileSize):
            return "\(file): safetensors header length \(declared) bytes does not fit in a \(fileSize)-byte file (or exceeds 100 MB)"
        case let .badHeader(file, reason):
            return "\(file): bad safetensors header: \(r(reason))"
        case let .unknownDType(file, tensor, dtype):
            return "\(file): tensor '\(q(tensor))' has unknown dtype '\(q(dtype))'"
        case let .offsetsOutOfRange(file, tensor, begin, end, dataSize):
            return "\(file): tensor '\(q(tensor))' data_offsets [\(begin), \(end)] are reversed or outside the \(dataSize)-byte data area"
        case let .overlappingTensors(file, first, second):
            return "\(file): tensors '\(q(first))' and '\(q(second))' overlap"
        case let .gapInData(file, begin, end):
            return "\(file): data bytes [\(begin), \(end)) belong to no tensor (safetensors forbids holes)"
        case let .sizeMismatch(file, tensor, expectedBytes, foundBytes):
            return "\(file): tensor '\(q(tensor))' shape and dtype need \(expectedBytes) bytes but data_offsets span \(foundBytes)"
        case let .tensorNotInFile(file, tensor):
            return "\(file): no tensor named '\(q(tensor))'"
        case let .misalignedData(file, tensor, offset):
            return "\(file): tensor '\(q(tensor))' data at file offset \(offset) is not 4-byte aligned; copy it instead of viewing"
        case let .unsafePickle(file, part, what):
            return "\(file): \(q(part)) uses \(q(what)), which is not on the allow-list for state dicts; refused before running anything (the file may be malicious)"
        case let .badPickle(file, part, offset, reason):
            return "\(file): bad pickle \(q(part)) at byte \(offset): \(r(reason))"
        case let .badArchive(file, reason):
            return "\(file): not a readable torch.save file: \(r(reason))"
        case let .badStorage(file, tensor, reason):
            return "\(file): tensor '\(q(tensor))': \(r(reason))"
        case let .badHDF5(file, reason):
            return "\(file): not a readable HDF5 (Keras) weight file: \(r(reason))"
        case let .badMsgPack(file, reason):
            return "\(file): not a readable Flax msgpack file: \(r(reason))"
        case let .badGGUF(file, reason):
            return "\(file): not a readable GGUF file: \(r(reason))"
        case let .unsupportedGGMLType(file, tensor, type):
            return "\(file): tensor '\(q(tensor))' is stored as ggml type \(q(type)); gpt2d reads F32, F16, BF16, Q8_0, Q4_0 and Q6_K"
        case let .wrongArchitecture(file, found):
            return "\(file): general.architecture is '\(q(found))', not gpt2: gpt2d serves GPT-2 models only"
        case let .badQuantization(file, tensor, reason):
            return "\(file): tensor '\(q(tensor))' (bitsandbytes): \(r(reason))"
        case let .missingTensor(tensor, directory):
            return "\(directory): checkpoint has no tensor '\(q(tensor))' (also tried 'transformer.\(q(tensor))')"
        case let .wrongShape(file, tensor, expected, found):
            return "\(file): tensor '\(q(tensor))' has shape \(q("\(found)")), expected \(q("\(expected)"))"
        case let .unsupportedDType(file, tensor, dtype):
            return "\(file): tensor '\(q(tensor))' has dtype \(q(dtype)), which cannot be used here (weights need F32, F16, BF16 or F64; ids need I64 or I32)"
        case let .duplicateTensor(tensor, first, second):
            return "tensor '\(q(tensor))' appears twice: in \(q(first)) and in \(q(second))"
        case let .configInvalid(file, field, reason):
            return "\(file): config field '\(q(field))' \(r(reason))"
        case let .configMismatch(field, config, tensors):
            return "config.json says \(q(field)) = \(config) but the weight tensors imply \(tensors)"
        case let .badIndex(file, reason):
            return "\(file): bad shard index: \(r(reason))"
        case let .missingShard(index, shard):
            return "\(index): weight_map names shard '\(q(shard))', which does not exist"
        case let .noWeights(directory, found):
            let read = CheckpointLoader.weightFileKinds.flatMap { [$0.single, $0.index] }.joined(separator: ", ")
            if found.isEmpty { return "\(directory): no \(read)" }
            return "\(directory): no \(read) (found \(q(found.joined(separator: ", "))); other formats: convert with model.save_pretrained(dir))"
        case let .weightTypeUnavailable(type):
            return "weight type \(q(type)) is not available in this build (no packed format is registered for it)"
        }
    }
}
