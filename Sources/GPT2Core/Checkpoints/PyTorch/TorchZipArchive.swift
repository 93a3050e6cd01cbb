// TorchZipArchive — the zip container torch.save writes since torch 1.6:
//   <name>/data.pkl             the pickled state dict (storages as persistent ids)
//   <name>/data/<key>           each storage's raw little-endian bytes, stored (not compressed),
//                               64-byte aligned
//   <name>/byteorder, version, .format_version, .storage_alignment, .data/serialization_id
// ZipDirectory reads the central directory (entry names, sizes, compression method, local-header
// offsets) from the read-only mapping; each entry's local header is checked there against the entry
// (signature, name) and its data used in place — no byte is copied or decompressed. A compressed,
// encrypted or out-of-file entry, a missing data.pkl, or a byte order other than "little" is refused
// with `CheckpointError.badArchive`.

struct TorchZipArchive {
    /// The archive's top folder ("archive", or the file's stem).
    let prefix: String
    /// data.pkl's bytes in the mapping.
    let pickle: Range<Int>
    /// Each stored entry's data bytes in the mapping, by its path inside the archive.
    let entries: [String: Range<Int>]

    /// The zip magic ("PK\u{3}\u{4}") at the start of `mapping`.
    static func looksLikeZip(_ mapping: MappedFile) -> Bool {
        mapping.size >= 4 && mapping.bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == UInt32(littleEndian: 0x0403_4B50)
    }

    init(mapping: MappedFile) throws {
        let file = mapping.path
        var ranges: [String: Range<Int>] = [:]
        var pickleName: String?
        for entry in try ZipDirectory.entries(mapping.bytes, file: file) where !entry.isFolder {
            let name = entry.name
            guard entry.method == 0 else {
                throw CheckpointError.badArchive(file: file, reason: "entry '\(name)' is compressed (method \(entry.method)); torch.save stores entries uncompressed so they can be mapped — re-save with torch.save")
            }
            guard !entry.isEncrypted else {
                throw CheckpointError.badArchive(file: file, reason: "entry '\(name)' is encrypted")
            }
            guard entry.compressedSize == entry.uncompressedSize else {
                throw CheckpointError.badArchive(file: file, reason: "stored entry '\(name)' has \(entry.compressedSize) bytes stored for \(entry.uncompressedSize)")
            }
            ranges[name] = try Self.dataRange(header: entry.localHeaderOffset, name: name, size: entry.uncompressedSize, in: mapping)
            if name.hasSuffix("/data.pkl"), name.split(separator: "/", omittingEmptySubsequences: false).count == 2 {
                guard pickleName == nil else { throw CheckpointError.badArchive(file: file, reason: "two data.pkl entries") }
                pickleName = name
            }
        }
        guard let pickleName, let pickle = ranges[pickleName] else {
            throw CheckpointError.badArchive(file: file, reason: "no <name>/data.pkl entry (not a torch.save zip archive, or its directory is damaged)")
        }
        prefix = String(pickleName.dropLast("/data.pkl".count))
        if let order = ranges[prefix + "/byteorder"] {
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: mapping.bytes[order]), as: UTF8.self)
            guard text == "little" else { throw CheckpointError.badArchive(file: file, reason: "byteorder is '\(text)'; only little-endian storages are read") }
        }
        self.pickle = pickle
        self.entries = ranges
    }

    /// The bytes of storage `key` (entry `<prefix>/data/<key>`), or nil.
    func storage(_ key: String) -> Range<Int>? { entries[prefix + "/data/" + key] }

    /// The data of a stored entry whose local header starts at `header`: after the 30-byte header,
    /// its name and its extra field, `size` bytes — all inside the file.
    static func dataRange(header: UInt64, name: String, size: UInt64, in mapping: MappedFile) throws -> Range<Int> {
        let file = mapping.path, bytes = mapping.bytes
        guard header <= UInt64(bytes.count), UInt64(bytes.count) - header >= 30 else {
            throw CheckpointError.badArchive(file: file, reason: "entry '\(name)' local header at \(header) lies outside the \(bytes.count)-byte file")
        }
        let h = Int(header)
        guard bytes.loadUnaligned(fromByteOffset: h, as: UInt32.self) == UInt32(littleEndian: 0x0403_4B50) else {
            throw CheckpointError.badArchive(file: file, reason: "entry '\(name)': no local header signature at \(h)")
        }
        let nameLength = Int(bytes.littleEndian(UInt16.self, at: h + 26))
        let extraLength = Int(bytes.littleEndian(UInt16.self, at: h + 28))
        let start = h + 30 + nameLength + extraLength
        guard start <= bytes.count, size <= UInt64(bytes.count - start) else {
            throw CheckpointError.badArchive(file: file, reason: "entry '\(name)' data (\(size) bytes at \(start)) runs past the end of the \(bytes.count)-byte file")
        }
        let stored = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(h + 30)..<(h + 30 + nameLength)]), as: UTF8.self)
        guard stored == name else {
            throw CheckpointError.badArchive(file: file, reason: "entry '\(name)': its local header names '\(stored)'")
        }
        return start..<(start + Int(size))
    }
}
