// ZipDirectory — the central directory of a zip archive (PKWARE APPNOTE 6.3, with ZIP64), read from
// bytes already in memory (the checkpoint's read-only mapping). It is what torch.save's zip layout
// needs and no more: each entry's name, method, flags, sizes and local-header offset. Nothing is
// decompressed; the caller locates stored entries' data in the same mapping.
//
// Every offset, size and count in the file is hostile: each is checked against the buffer before it
// is used (in UInt64, so no sum or conversion can overflow or trap), the entry count is bounded by
// the directory's size (46 bytes at least per entry) before anything is allocated, and any failure
// is `CheckpointError.badArchive` naming what is wrong. (A general-purpose zip library trapped here:
// a ZIP64 record's directory offset above Int64.max crashed it on conversion.)

/// One record of the central directory.
struct ZipEntry: Equatable {
    /// The entry's path inside the archive (folders end in "/").
    let name: String
    /// General purpose flags (bit 0: encrypted; bit 3: sizes in a data descriptor after the data).
    let flags: UInt16
    /// Compression method: 0 stored, 8 deflated, …
    let method: UInt16
    let compressedSize: UInt64
    let uncompressedSize: UInt64
    /// Offset of the entry's local header from the start of the file.
    let localHeaderOffset: UInt64

    var isFolder: Bool { name.hasSuffix("/") }
    var isEncrypted: Bool { flags & 1 != 0 }
}

enum ZipDirectory {
    /// Sizes of the fixed parts of the records, in bytes.
    static let endRecordSize = 22, zip64LocatorSize = 20, zip64EndRecordSize = 56, centralHeaderSize = 46
    static let endSignature: UInt32 = 0x0605_4B50, zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50, centralSignature: UInt32 = 0x0201_4B50

    /// The archive's entries in directory order. `file` names the archive in errors.
    static func entries(_ bytes: UnsafeRawBufferPointer, file: String) throws -> [ZipEntry] {
        func bad(_ reason: String) -> CheckpointError { .badArchive(file: file, reason: reason) }
        let reader = bytes
        guard let end = findEndRecord(reader) else {
            throw bad("no end-of-central-directory record (not a zip archive, or truncated)")
        }

        var count = UInt64(reader.u16(at: end + 10))
        var size = UInt64(reader.u32(at: end + 12))
        var offset = UInt64(reader.u32(at: end + 16))
        guard reader.u16(at: end + 4) == 0, reader.u16(at: end + 6) == 0 else { throw bad("a multi-disk archive") }
        let needsZip64 = count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF
        if end >= zip64LocatorSize, reader.u32(at: end - zip64LocatorSize) == zip64LocatorSignature {
            let locator = end - zip64LocatorSize
            let record = reader.u64(at: locator + 8)
            guard reader.fits(record, zip64EndRecordSize), reader.u32(at: Int(record)) == zip64EndSignature else {
                throw bad("the ZIP64 end record's offset \(record) does not point at one inside the \(bytes.count)-byte file")
            }
            let r = Int(record)
            guard reader.u32(at: r + 16) == 0, reader.u32(at: r + 20) == 0 else { throw bad("a multi-disk ZIP64 archive") }
            count = reader.u64(at: r + 32)
            size = reader.u64(at: r + 40)
            offset = reader.u64(at: r + 48)
        } else if needsZip64 {
            throw bad("the end record needs a ZIP64 record, and there is none")
        }
        guard reader.fits(offset, size) else {
            throw bad("the central directory (\(size) bytes at \(offset)) lies outside the \(bytes.count)-byte file")
        }
        guard count <= size / UInt64(centralHeaderSize) else {
            throw bad("\(count) entries cannot fit in a \(size)-byte central directory")
        }

        var entries: [ZipEntry] = []
        entries.reserveCapacity(Int(count))
        var names = Set<String>()
        var at = Int(offset)
        let limit = Int(offset + size)
        for index in 0..<Int(count) {
            guard limit - at >= centralHeaderSize, reader.u32(at: at) == centralSignature else {
                throw bad("central directory record \(index) of \(count) is missing or damaged")
            }
            let nameLength = Int(reader.u16(at: at + 28)), extraLength = Int(reader.u16(at: at + 30))
            let commentLength = Int(reader.u16(at: at + 32))
            let variable = nameLength + extraLength + commentLength
            guard limit - at - centralHeaderSize >= variable else {
                throw bad("central directory record \(index) runs past the directory's end")
            }
            let nameStart = at + centralHeaderSize
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]), as: UTF8.self)
            var compressed = UInt64(reader.u32(at: at + 20)), uncompressed = UInt64(reader.u32(at: at + 24))
            var local = UInt64(reader.u32(at: at + 42))
            var disk = UInt32(reader.u16(at: at + 34))
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF || disk == 0xFFFF {
                // ZIP64 extended information (tag 1): only the fields whose 32-bit values are saturated,
                // in this order: uncompressed, compressed, local-header offset, disk.
                guard var field = try zip64Extra(reader, from: nameStart + nameLength, count: extraLength, entry: name, file: file) else {
                    throw bad("entry '\(name)' needs ZIP64 sizes and has none")
                }
                func next64() throws -> UInt64 {
                    guard field.count >= 8 else { throw bad("entry '\(name)': its ZIP64 field is too short") }
                    defer { field = field.dropFirst(8) }
                    return reader.u64(at: field.lowerBound)
                }
                if uncompressed == 0xFFFF_FFFF { uncompressed = try next64() }
                if compressed == 0xFFFF_FFFF { compressed = try next64() }
                if local == 0xFFFF_FFFF { local = try next64() }
                if disk == 0xFFFF {
                    guard field.count >= 4 else { throw bad("entry '\(name)': its ZIP64 field is too short") }
                    disk = reader.u32(at: field.lowerBound)
                }
            }
            guard disk == 0 else { throw bad("entry '\(name)' is on disk \(disk) of a multi-disk archive") }
            guard names.insert(name).inserted else { throw bad("two entries named '\(name)'") }
            entries.append(ZipEntry(name: name, flags: reader.u16(at: at + 8), method: reader.u16(at: at + 10),
                                    compressedSize: compressed, uncompressedSize: uncompressed, localHeaderOffset: local))
            at = nameStart + variable
        }
        return entries
    }

    /// The offset of the end-of-central-directory record: the last signature, searching back over
    /// at most a 65,535-byte comment, whose comment ends inside the file.
    private static func findEndRecord(_ reader: UnsafeRawBufferPointer) -> Int? {
        let count = reader.count
        guard count >= endRecordSize else { return nil }
        let last = count - endRecordSize
        for at in stride(from: last, through: max(0, last - 0xFFFF), by: -1)
        where reader.u32(at: at) == endSignature && Int(reader.u16(at: at + 20)) <= last - at {
            return at
        }
        return nil
    }

    /// The byte range of the data of the ZIP64 extra field (tag 0x0001) among the `count` extra-field
    /// bytes at `from`, or nil when there is none.
    private static func zip64Extra(_ reader: UnsafeRawBufferPointer, from: Int, count: Int, entry: String, file: String) throws -> Range<Int>? {
        var at = from
        let end = from + count
        while end - at >= 4 {
            let tag = reader.u16(at: at), length = Int(reader.u16(at: at + 2))
            guard end - at - 4 >= length else {
                throw CheckpointError.badArchive(file: file, reason: "entry '\(entry)': an extra field runs past its record")
            }
            if tag == 1 { return (at + 4)..<(at + 4 + length) }
            at += 4 + length
        }
        return nil
    }
}
