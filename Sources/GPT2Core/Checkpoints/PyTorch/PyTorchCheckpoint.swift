// PyTorchCheckpoint — one `pytorch_model.bin` (either torch.save layout: TorchZipArchive or
// TorchLegacyFile) opened as the loader's tensor table: a SafeTensorsFile over the file's own
// read-only mapping, whose TensorInfos point at each tensor's bytes inside its storage. Nothing from
// the file is executed (RestrictedUnpickler).
//
// Per tensor (sizes, strides and offset in elements of its storage's dtype):
//   contiguous row-major (strides of its sizes, size-1 dims ignored) → viewed in place, no copy;
//     tensors sharing a storage (tied parameters, wte / lm_head) share the bytes
//   any other strides (a transposed or sliced view) → its elements gathered once, in row-major
//     order, into one anonymous read-only mapping (MappedFile(anonymous:)) shared by all such tensors
// Every index a tensor can reach is checked against its storage, and each storage's bytes against
// numel · element size, before anything is read.

enum PyTorchCheckpoint {
    /// Opens `path`. Returns the tensor table (and a second one over the copied strided views, when
    /// there are any). Throws `CheckpointError` naming the file and tensor.
    static func open(path: String, preload: Bool = false, lockInMemory: Bool = false) throws -> [SafeTensorsFile] {
        let mapping = try MappedFile(path: path, preload: preload, lock: lockInMemory)
        mapping.rememberPrefix(64 << 10)
        let part: String
        let value: PickleValue, containers: PickleContainers
        let storageBytes: (String) -> Range<Int>?
        if TorchZipArchive.looksLikeZip(mapping) {
            let archive = try TorchZipArchive(mapping: mapping)
            part = archive.prefix + "/data.pkl"
            var u = RestrictedUnpickler(bytes: UnsafeRawBufferPointer(rebasing: mapping.bytes[archive.pickle]), file: path, part: part)
            value = try u.run()
            containers = u.containers
            storageBytes = archive.storage
        } else if TorchLegacyFile.looksLikeLegacy(mapping) {
            let legacy = try TorchLegacyFile(mapping: mapping)
            part = "state dict pickle"
            (value, containers) = legacy.stateDict
            storageBytes = { legacy.storages[$0] }
        } else {
            throw CheckpointError.badArchive(file: path, reason: "wrong magic: neither a zip archive (torch ≥ 1.6) nor the legacy torch.save layout")
        }
        let tensors = try TorchStateDict.tensors(value, containers, file: path, part: part)

        var infos: [TensorInfo] = []
        var strided: [(name: String, ref: TorchTensorRef, storage: Range<Int>, count: Int)] = []
        for (name, ref) in tensors {
            let s = ref.storage
            guard let range = storageBytes(s.key) else {
                throw CheckpointError.badStorage(file: path, tensor: name, reason: "storage '\(s.key)' is not in the file")
            }
            let (need, overflow) = s.numel.multipliedReportingOverflow(by: s.dtype.size)
            guard !overflow, need == range.count else {
                throw CheckpointError.badStorage(file: path, tensor: name, reason: "storage '\(s.key)' declares \(s.numel) \(s.dtype.rawValue) elements (\(overflow ? "overflowing" : "\(need)") bytes) but holds \(range.count) bytes")
            }
            let count = try reach(ref, file: path, tensor: name)
            let e = s.dtype.size
            if count == 0 {
                infos.append(info(name, ref, fileRange: range.lowerBound..<range.lowerBound))
            } else if isContiguous(ref) {
                let start = range.lowerBound + (s.viewOffset + ref.offset) * e
                infos.append(info(name, ref, fileRange: start..<(start + count * e)))
            } else {
                strided.append((name, ref, range, count))
            }
        }
        var files = [SafeTensorsFile(mapping: mapping, tensors: infos)]
        if !strided.isEmpty {
            let total = strided.reduce(0) { $0 + $1.count * $1.ref.storage.dtype.size }
            var placed: [TensorInfo] = []
            let copies = try MappedFile(anonymous: path + " (strided views, copied)", byteCount: total) { buffer in
                var at = 0
                for t in strided {
                    let e = t.ref.storage.dtype.size
                    gather(t.ref, from: mapping.base + t.storage.lowerBound, into: buffer.baseAddress! + at)
                    placed.append(info(t.name, t.ref, fileRange: at..<(at + t.count * e)))
                    at += t.count * e
                }
            }
            files.append(SafeTensorsFile(mapping: copies, tensors: placed))
        }
        return files
    }

    private static func info(_ name: String, _ ref: TorchTensorRef, fileRange: Range<Int>) -> TensorInfo {
        TensorInfo(name: name, dtype: ref.storage.dtype, shape: ref.size, dataOffsets: fileRange, fileRange: fileRange)
    }

    /// The tensor's element count, after checking that every element it indexes lies inside its
    /// storage view (overflow-checked). Throws `badStorage`.
    static func reach(_ ref: TorchTensorRef, file: String, tensor: String) throws -> Int {
        var count = 1, last = ref.offset
        var overflow = false
        for (n, st) in zip(ref.size, ref.stride) {
            var o1 = false, o2 = false
            (count, o1) = count.multipliedReportingOverflow(by: n)
            if n > 0 {
                let step: Int
                (step, o2) = (n - 1).multipliedReportingOverflow(by: st)
                var o3 = false
                (last, o3) = last.addingReportingOverflow(step)
                overflow = overflow || o3
            }
            overflow = overflow || o1 || o2
        }
        guard !overflow else {
            throw CheckpointError.badStorage(file: file, tensor: tensor, reason: "sizes \(ref.size) and strides \(ref.stride) overflow")
        }
        guard count == 0 || last < ref.storage.viewCount else {
            throw CheckpointError.badStorage(file: file, tensor: tensor, reason: "sizes \(ref.size), strides \(ref.stride) and offset \(ref.offset) reach element \(last) of a \(ref.storage.viewCount)-element storage")
        }
        return count
    }

    /// True when the strides are the row-major strides of the sizes (dims of size 1 ignored).
    static func isContiguous(_ ref: TorchTensorRef) -> Bool {
        var expected = 1
        for (n, st) in zip(ref.size, ref.stride).reversed() where n != 1 {
            if n == 0 { return true }
            if st != expected { return false }
            expected *= n
        }
        return true
    }

    /// Copies a strided tensor's elements in row-major order (storage view at `storage`).
    static func gather(_ ref: TorchTensorRef, from storage: UnsafeRawPointer, into dst: UnsafeMutableRawPointer) {
        let e = ref.storage.dtype.size
        let rank = ref.size.count
        let count = ref.size.reduce(1, *)
        guard count > 0 else { return }
        let base = storage + (ref.storage.viewOffset + ref.offset) * e
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        for i in 0..<count {
            (dst + i * e).copyMemory(from: base + source * e, byteCount: e)
            // Advance the multi-index (last dimension fastest).
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                source += ref.stride[d]
                if index[d] < ref.size[d] { break }
                source -= ref.stride[d] * ref.size[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}
