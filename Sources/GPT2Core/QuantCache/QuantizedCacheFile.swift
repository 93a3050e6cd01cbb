// QuantizedCacheFile — the on-disk form of a model's quantized matrices: one safetensors file, read
// back by the project's own SafeTensorsFile (so the container's checks — header JSON, offsets, exact
// coverage of the data area — apply), laid out for zero-copy views:
//
//   [u64 N][header JSON, padded with spaces so 8 + N is a multiple of 4096][data area]
//   tensors: "<matrix key>.<type>.<i>" U8 [bytes] for segment i of the matrix's PackedMatrix.segments
//            (e.g. "h.0.attn.c_attn.weight.q4.0", the packed nibbles, and ".q4.1", the scales);
//            each starts on a 4096-byte boundary of the file; the gaps are "gpt2d.pad.<n>" U8 zeros.
//   metadata: the QuantizedCacheKey fields, "gpt2d.xxh3.<tensor>" = XXH3-64 of each segment (16 hex),
//             and "gpt2d.header_xxh3" = XXH3-64 of bytes [0, 8 + N) with this value's 16 digits
//             written as zeros.
//
// Writing is atomic: a temporary file in the same folder (mkstemp, mode 0600), written, fsync'ed,
// renamed over the final name, then the folder fsync'ed — a crash leaves the old file or the new one
// under the final name, never half a file (at worst a stray ".*.tmp" file).
// Opening checks everything before any byte is used: the container, the header checksum (a flipped
// header byte), the key (stale: another checkpoint, type, quantizer or format version) and every
// tensor's checksum (a flipped data byte). All of it runs at every start: the data checksums read
// the whole file once, which the preload does anyway (ARCHITECTURE.md states the trade-off).

import Foundation
import GPT2JSON
#if canImport(Glibc)
import Glibc
#endif

/// Why a cache file was not used (it is then rebuilt).
struct QuantizedCacheRejection: Error, Equatable {
    let reason: String
}

enum QuantizedCacheFile {
    /// Alignment of the data area and of every tensor in the file (bytes).
    static let alignment = 4096
    static let headerChecksumKey = "gpt2d.header_xxh3"
    static let checksumPrefix = "gpt2d.xxh3."
    static let padPrefix = "gpt2d.pad."

    /// The tensor holding segment `i` of the matrix under `key`.
    static func tensorName(_ key: String, _ type: WeightType, segment i: Int) -> String { "\(key).\(type.rawValue).\(i)" }

    static func alignUp(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    // MARK: writing

    /// Writes `matrices` (matrix key → its PackedMatrix) under `key` to `path`, atomically (see above).
    /// Throws `QuantizedCacheRejection` naming the failing call (the folder is not writable, the disk
    /// is full, …); the final name is then untouched and no temporary file remains.
    static func write(path: String, key: QuantizedCacheKey, matrices: [(key: String, matrix: any PackedMatrix)]) throws {
        // Layout: every segment on an aligned offset of the data area; pads fill the gaps.
        var entries: [(name: String, bytes: UnsafeRawBufferPointer?, offset: Int, count: Int)] = []
        var metadata = key.metadata
        var end = 0, pads = 0
        for (name, matrix) in matrices {
            for (i, segment) in matrix.segments.enumerated() {
                let at = alignUp(end)
                if at > end { entries.append(("\(padPrefix)\(pads)", nil, end, at - end)); pads += 1 }
                let tensor = tensorName(name, key.weightType, segment: i)
                entries.append((tensor, segment, at, segment.count))
                metadata[checksumPrefix + tensor] = ContentDigest.hex(ContentDigest.checksum(segment))
                end = at + segment.count
            }
        }
        metadata[headerChecksumKey] = String(repeating: "0", count: 16)
        var header: [(String, JSON)] = [("__metadata__", .object(JSONObject(metadata.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })))]
        for e in entries {
            header.append((e.name, ["dtype": "U8", "shape": [.int(Int64(e.count))],
                                    "data_offsets": [.int(Int64(e.offset)), .int(Int64(e.offset + e.count))]]))
        }
        var headerBytes = JSON.object(JSONObject(header)).serializedBytes()
        let n = alignUp(8 + headerBytes.count) - 8
        headerBytes += [UInt8](repeating: 0x20, count: n - headerBytes.count)
        var prefix = withUnsafeBytes(of: UInt64(n).littleEndian) { Array($0) } + headerBytes
        guard let at = checksumValueRange(in: prefix) else { preconditionFailure("header checksum placeholder not written") }
        let sum = prefix.withUnsafeBytes { ContentDigest.checksum($0) }
        prefix.replaceSubrange(at, with: Array(ContentDigest.hex(sum).utf8))

        let folder = (path as NSString).deletingLastPathComponent
        var template = Array("\(folder)/.\((path as NSString).lastPathComponent).XXXXXX.tmp".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        guard fd >= 0 else { throw failure("cannot create a file in \(folder)") }
        let tmp = String(cString: template)
        var done = false
        defer { close(fd); if !done { unlink(tmp) } }
        try prefix.withUnsafeBytes { try writeAll(fd, $0, at: 0, tmp) }
        let zeros = [UInt8](repeating: 0, count: alignment)
        for e in entries {
            if let bytes = e.bytes {
                try writeAll(fd, bytes, at: prefix.count + e.offset, tmp)
            } else {
                try zeros.withUnsafeBytes { try writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<e.count]), at: prefix.count + e.offset, tmp) }
            }
        }
        guard fsync(fd) == 0 else { throw failure("fsync \(tmp)") }
        guard rename(tmp, path) == 0 else { throw failure("rename \(tmp) to \(path)") }
        done = true
        let dirFD = Glibc.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { _ = fsync(dirFD); close(dirFD) }
    }

    /// pwrite until all of `bytes` is at file offset `offset`.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, _ tmp: String) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("write \(tmp)") }
            done += n
        }
    }

    private static func failure(_ what: String) -> QuantizedCacheRejection {
        QuantizedCacheRejection(reason: "\(what): \(String(cString: strerror(errno)))")
    }

    /// Where the 16 hex digits of the header checksum's value lie in `prefix` (length + header).
    static func checksumValueRange(in prefix: [UInt8]) -> Range<Int>? {
        let needle = Array("\"\(headerChecksumKey)\":\"".utf8)
        guard prefix.count >= needle.count + 16 else { return nil }
        var found: Range<Int>? = nil
        for i in 0...(prefix.count - needle.count - 16) where prefix[i] == needle[0] {
            if Array(prefix[i..<(i + needle.count)]) == needle {
                guard found == nil else { return nil }  // twice: not a header this writer made
                found = (i + needle.count)..<(i + needle.count + 16)
            }
        }
        return found
    }

    // MARK: reading

    /// A cache file that passed every check: its tensors' bytes, by tensor name, inside `file`'s mapping.
    struct Opened {
        let file: SafeTensorsFile

        /// The segments of the matrix under `key`, in order ("<key>.<type>.0", ".1", … while present).
        func segments(_ key: String, _ type: WeightType) -> [UnsafeRawBufferPointer] {
            var out: [UnsafeRawBufferPointer] = []
            while let info = file.info(tensorName(key, type, segment: out.count)) {
                out.append(UnsafeRawBufferPointer(rebasing: file.mapping.bytes[info.fileRange]))
            }
            return out
        }
    }

    /// Opens `path` and checks it against `key`. Returns nil when there is no file; throws
    /// `QuantizedCacheRejection` when there is one that must not be used (corrupt, stale or foreign).
    static func open(path: String, key: QuantizedCacheKey, preload: Bool) throws -> Opened? {
        let mapping: MappedFile
        do { mapping = try MappedFile(path: path, preload: preload) } catch CheckpointError.fileNotFound {
            return nil
        } catch {
            throw QuantizedCacheRejection(reason: "cannot map: \(error)")
        }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(mapping: mapping) } catch {
            throw QuantizedCacheRejection(reason: "not a valid safetensors file: \(error)")
        }
        // Header checksum over [0, dataStart) with its own value read as zeros.
        var prefix = Array(UnsafeRawBufferPointer(rebasing: mapping.bytes[0..<file.dataStart]))
        guard let at = checksumValueRange(in: prefix) else {
            throw QuantizedCacheRejection(reason: "no header checksum (not a gpt2d cache file)")
        }
        let stored = String(decoding: prefix[at], as: UTF8.self)
        prefix.replaceSubrange(at, with: Array(repeating: UInt8(ascii: "0"), count: 16))
        let computed = ContentDigest.hex(prefix.withUnsafeBytes { ContentDigest.checksum($0) })
        guard stored == computed else {
            throw QuantizedCacheRejection(reason: "header checksum \(stored) does not match the header (\(computed))")
        }
        if let why = key.mismatch(file.metadata) { throw QuantizedCacheRejection(reason: "stale: \(why)") }
        // Every tensor but the pads carries a checksum, and every checksum names a tensor.
        var checked = 0
        for name in file.names where !name.hasPrefix(padPrefix) {
            guard let want = file.metadata[checksumPrefix + name], let info = file.info(name) else {
                throw QuantizedCacheRejection(reason: "tensor '\(name)' has no checksum")
            }
            let got = ContentDigest.hex(ContentDigest.checksum(UnsafeRawBufferPointer(rebasing: mapping.bytes[info.fileRange])))
            guard got == want else {
                throw QuantizedCacheRejection(reason: "tensor '\(name)' checksum \(got), expected \(want)")
            }
            checked += 1
        }
        let listed = file.metadata.keys.filter { $0.hasPrefix(checksumPrefix) }.count
        guard listed == checked else {
            throw QuantizedCacheRejection(reason: "\(listed) checksums for \(checked) tensors")
        }
        return Opened(file: file)
    }
}
