// FuzzQuantCache — libFuzzer target for the quantized-weight cache file reader
// (QuantizedCacheFile.open: the safetensors container, the header checksum, the key, every tensor's
// checksum), the file a daemon maps at every start of a quantized model.
//
// Input, chosen by byte 0:
// - even: the rest is the whole file, as is;
// - odd: the rest is `header JSON` [0x00 `data`], and the target makes it a file as the writer would:
//   the 8-byte length, the header padded with spaces to a 4096-byte boundary, then every
//   "gpt2d.xxh3.<tensor>" value that names a tensor set to that tensor's real XXH3-64 and the
//   "gpt2d.header_xxh3" value set to the header's — so mutations get past the checksums and reach the
//   key and coverage checks instead of stopping at the first checksum.
// Invariants: a failure is a QuantizedCacheRejection (nothing else is thrown); a file that opens has a
// checksum for every tensor but the pads and each one matches its bytes, and every segment the reader
// hands out lies inside the mapping.

import Foundation
@testable import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

private let scratch = FuzzScratchFile(suffix: ".quant-cache")

/// The key every input is opened against (make_fuzz_corpus.py writes the seeds' metadata to match).
private let key = QuantizedCacheKey(checkpointDigest: String(repeating: "ab", count: 16), weightType: .q4, format: Q4Matrix.self)

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzQuantCache_main")
public func fuzzQuantCacheMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzQuantCache)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuantCache(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput.bytes(data, size)
    guard let mode = input.first else { return 0 }
    let file = mode & 1 == 0 ? Array(input.dropFirst()) : assemble(Array(input.dropFirst()))
    scratch.write(file)
    defer { scratch.remove() }
    let opened: QuantizedCacheFile.Opened?
    do {
        opened = try QuantizedCacheFile.open(path: scratch.path, key: key, preload: false)
    } catch {
        fuzzExpect(error is QuantizedCacheRejection, "open threw a \(type(of: error)), not a rejection: \(error)")
        return 0
    }
    guard let opened else { fuzzExpect(false, "open found no file at \(scratch.path)"); return 0 }
    let f = opened.file
    for name in f.names where !name.hasPrefix(QuantizedCacheFile.padPrefix) {
        guard let info = f.info(name), let want = f.metadata[QuantizedCacheFile.checksumPrefix + name] else {
            fuzzExpect(false, "an opened file has tensor '\(name)' without a checksum")
            return 0
        }
        fuzzExpect(info.fileRange.upperBound <= f.mapping.size, "'\(name)' ends past the mapping")
        let got = ContentDigest.hex(ContentDigest.checksum(UnsafeRawBufferPointer(rebasing: f.mapping.bytes[info.fileRange])))
        fuzzExpect(got == want, "an opened file's tensor '\(name)' has checksum \(got), its metadata \(want)")
    }
    // Every matrix key the file names: its segments, as the loader takes them.
    let suffix = ".\(WeightType.q4.rawValue).0"
    for name in f.names where name.hasSuffix(suffix) {
        for segment in opened.segments(String(name.dropLast(suffix.count)), .q4) {
            let start = segment.baseAddress.map { UnsafeRawPointer(f.mapping.base).distance(to: $0) } ?? 0
            fuzzExpect(start >= 0 && start + segment.count <= f.mapping.size, "a segment of '\(name)' lies outside the mapping")
        }
    }
    return 0
}

/// `header JSON` [0x00 `data`] as a cache file: length, padded header, fixed-up checksums, data.
private func assemble(_ body: [UInt8]) -> [UInt8] {
    let headerEnd = body.firstIndex(of: 0) ?? body.count
    var header = Array(body[..<headerEnd])
    let data = headerEnd < body.count ? Array(body[(headerEnd + 1)...]) : []
    let n = QuantizedCacheFile.alignUp(8 + header.count) - 8
    header += [UInt8](repeating: 0x20, count: n - header.count)
    var file = withUnsafeBytes(of: UInt64(n).littleEndian) { Array($0) } + header + data
    // Tensor checksums: the real one of each tensor the header places inside the data.
    if let st = try? SafeTensorsFile(mapping: MappedFile(anonymous: "fuzz", byteCount: file.count) { $0.copyBytes(from: file) }) {
        for name in st.names {
            guard let info = st.info(name), info.fileRange.upperBound <= file.count,
                  let at = valueRange(of: QuantizedCacheFile.checksumPrefix + name, in: file, before: st.dataStart) else { continue }
            let sum = file[info.fileRange].withUnsafeBytes { ContentDigest.hex(ContentDigest.checksum($0)) }
            file.replaceSubrange(at, with: Array(sum.utf8))
        }
    }
    // The header checksum, over the prefix with its own 16 digits as zeros (as the writer computes it).
    if let at = QuantizedCacheFile.checksumValueRange(in: Array(file.prefix(8 + n))) {
        file.replaceSubrange(at, with: [UInt8](repeating: UInt8(ascii: "0"), count: 16))
        let sum = file.prefix(8 + n).withUnsafeBytes { ContentDigest.hex(ContentDigest.checksum($0)) }
        file.replaceSubrange(at, with: Array(sum.utf8))
    }
    return file
}

/// Where the 16-character string value of `"key":"` lies in file[0..<limit], if exactly there.
private func valueRange(of key: String, in file: [UInt8], before limit: Int) -> Range<Int>? {
    let needle = Array("\"\(key)\":\"".utf8)
    guard limit <= file.count, limit >= needle.count + 16 else { return nil }
    var i = 0
    while i + needle.count + 16 <= limit {
        if file[i] == needle[0] && Array(file[i..<(i + needle.count)]) == needle {
            let r = (i + needle.count)..<(i + needle.count + 16)
            return r.upperBound < file.count && file[r.upperBound] == UInt8(ascii: "\"") ? r : nil
        }
        i += 1
    }
    return nil
}
