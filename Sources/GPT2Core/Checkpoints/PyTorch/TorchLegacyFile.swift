// TorchLegacyFile — the sequential layout torch.save wrote before torch 1.6 (and still writes with
// `_use_new_zipfile_serialization=False`), the format of 2019-era hub uploads:
//   pickle: magic number 0x1950a86a20f9469cfc6c     pickle: protocol version 1001
//   pickle: sys info {protocol_version, little_endian, type_sizes}
//   pickle: the state dict (storages as persistent ids ('storage', type, key, location, numel, view))
//   pickle: the storage keys, a list of str
//   per key, in that order: u64 little-endian element count, then count · element-size raw bytes
// Every pickle goes through RestrictedUnpickler (the four header pickles with no globals at all);
// each storage's bytes stay in the mapping.

struct TorchLegacyFile {
    /// The state dict pickle's bytes in the mapping.
    let pickle: Range<Int>
    /// The state dict's value and containers, already unpickled (the keys depend on it).
    let stateDict: (value: PickleValue, containers: PickleContainers)
    /// Each storage's data bytes in the mapping, by key.
    let storages: [String: Range<Int>]

    /// The magic number's LONG1 payload, little-endian.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// True when `mapping` starts with a pickle of the legacy magic number (PROTO 2, LONG1 10).
    static func looksLikeLegacy(_ mapping: MappedFile) -> Bool {
        let b = mapping.bytes
        return b.count >= 14 && b[0] == 0x80 && b[2] == 0x8A && b[3] == 10 && Array(b[4..<14]) == magic
    }

    init(mapping: MappedFile) throws {
        let file = mapping.path
        let all = mapping.bytes
        var at = 0
        /// Unpickles the next pickle; `part` names it in errors.
        func next(_ part: String, globals: Bool) throws -> (PickleValue, PickleContainers, Range<Int>) {
            var u = RestrictedUnpickler(bytes: UnsafeRawBufferPointer(rebasing: all[at...]), file: file, part: part, allowGlobals: globals)
            let v = try u.run()
            let range = at..<(at + u.consumed)
            at += u.consumed
            return (v, u.containers, range)
        }
        guard case .bigInt(let m) = try next("magic number", globals: false).0, m == Self.magic else {
            throw CheckpointError.badArchive(file: file, reason: "wrong magic number (not a legacy torch.save file)")
        }
        guard case .int(1001) = try next("protocol version", globals: false).0 else {
            throw CheckpointError.badArchive(file: file, reason: "legacy protocol version is not 1001")
        }
        let (info, infoContainers, _) = try next("sys info", globals: false)
        guard case .dict(let infoIndex) = info else { throw CheckpointError.badArchive(file: file, reason: "sys info is not a dict") }
        for (k, v) in infoContainers.dictPairs(infoIndex) {
            if case .string("little_endian") = k, case .bool(false) = v {
                throw CheckpointError.badArchive(file: file, reason: "written big-endian; only little-endian storages are read")
            }
        }
        let (value, containers, pickleRange) = try next("state dict pickle", globals: true)
        let (keysValue, keyContainers, _) = try next("storage keys", globals: false)
        guard case .list(let keysIndex) = keysValue else { throw CheckpointError.badArchive(file: file, reason: "storage keys are not a list") }
        let keys: [String] = try keyContainers.listItems(keysIndex).map {
            guard case .string(let k) = $0 else { throw CheckpointError.badArchive(file: file, reason: "a storage key is not a str") }
            return k
        }

        // The state dict must hold tensors only (checked before any storage is read); element sizes
        // come from their persistent ids.
        _ = try TorchStateDict.tensors(value, containers, file: file, part: "state dict pickle")
        let declared = TorchStateDict.storages(in: value, containers)
        var storages: [String: Range<Int>] = [:]
        for key in keys {
            guard let ref = declared[key] else {
                throw CheckpointError.badArchive(file: file, reason: "storage '\(key)' is listed but no tensor uses it")
            }
            guard all.count - at >= 8 else {
                throw CheckpointError.badStorage(file: file, tensor: "storage '\(key)'", reason: "the file ends before its element count (truncated)")
            }
            let count = all.littleEndian(UInt64.self, at: at)
            at += 8
            guard count == UInt64(ref.numel) else {
                throw CheckpointError.badStorage(file: file, tensor: "storage '\(key)'", reason: "the data says \(count) elements, the pickle \(ref.numel)")
            }
            let (bytes, overflow) = ref.numel.multipliedReportingOverflow(by: ref.dtype.size)
            guard !overflow, bytes <= all.count - at else {
                throw CheckpointError.badStorage(file: file, tensor: "storage '\(key)'", reason: "\(ref.numel) elements of \(ref.dtype.rawValue) run past the end of the file (truncated or lying size)")
            }
            storages[key] = at..<(at + bytes)
            at += bytes
        }
        self.pickle = pickleRange
        self.stateDict = (value, containers)
        self.storages = storages
    }
}
