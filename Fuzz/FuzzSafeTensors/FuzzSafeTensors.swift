// FuzzSafeTensors — libFuzzer target for GPT2Core's safetensors reader (SafeTensorsFile: the 8-byte
// length, the JSON header, the entries and the data-area coverage rules).
//
// Input, chosen by byte 0:
// - even: the rest is the whole file, as is (length prefix and all);
// - odd: the rest is `header JSON` [0x00 `data`]: the 8-byte length is made to match the header, so
//   mutations reach the header's meaning instead of mostly breaking the length.
// The file is written to one scratch file per process (in /dev/shm when it exists) and opened like a
// checkpoint. Invariants when it opens: `names` are in data order and name every entry; the entries
// tile the data area exactly (each begins where the previous ended, the last ends at the file's end);
// each entry's bytes match its shape × dtype size; reading every tensor (floats, int64s, raw bytes,
// the zero-copy view) stays inside the mapping and gives `count` values.

import Foundation
import GPT2Core
import CFuzzerDriver
import GPT2FuzzSupport

private let scratch = FuzzScratchFile(suffix: ".safetensors")

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzSafeTensors_main")
public func fuzzSafeTensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzSafeTensors)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput.bytes(data, size)
    guard let mode = input.first else { return 0 }
    var file: [UInt8]
    if mode & 1 == 0 {
        file = Array(input.dropFirst())
    } else {
        let body = input.dropFirst()
        let header = body.prefix { $0 != 0 }
        let rest = body.dropFirst(header.count + 1)
        file = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
        file += header
        file += rest
    }
    scratch.write(file)
    defer { scratch.remove() }
    guard let st = try? SafeTensorsFile.open(path: scratch.path) else { return 0 }
    check(st, fileSize: file.count)
    return 0
}

private func check(_ st: SafeTensorsFile, fileSize: Int) {
    fuzzExpect(st.mapping.size == fileSize, "mapping is \(st.mapping.size) bytes, the file \(fileSize)")
    var covered = st.dataStart
    for name in st.names {
        guard let info = st.info(name) else {
            fuzzExpect(false, "names lists '\(name)' but info(_:) does not know it")
            return
        }
        fuzzExpect(info.fileRange.lowerBound == covered, "'\(name)' starts at \(info.fileRange.lowerBound), expected \(covered)")
        fuzzExpect(info.fileRange.upperBound <= fileSize, "'\(name)' ends past the file")
        fuzzExpect(info.byteCount == info.count * info.dtype.size, "'\(name)' has \(info.byteCount) bytes for \(info.count) \(info.dtype)")
        covered = info.fileRange.upperBound
        readAll(st, info)
    }
    fuzzExpect(covered == fileSize, "tensors cover up to \(covered) of \(fileSize) bytes")
}

private func readAll(_ st: SafeTensorsFile, _ info: TensorInfo) {
    do {
        let raw = try st.rawBytes(info.name)
        fuzzExpect(raw.count == info.byteCount, "rawBytes('\(info.name)') has \(raw.count) bytes")
        if info.dtype.isConvertibleFloat {
            let values = try st.floats(info.name)
            fuzzExpect(values.count == info.count, "floats('\(info.name)') gave \(values.count) values, expected \(info.count)")
        }
        if info.dtype == .I64 || info.dtype == .I32 {
            let values = try st.int64s(info.name)
            fuzzExpect(values.count == info.count, "int64s('\(info.name)') gave \(values.count) values, expected \(info.count)")
        }
        if st.isAlignedF32(info) {
            let view = try st.f32View(info.name)
            var sum: Float = 0
            for k in 0..<info.count { sum += view[k] }
            _ = sum
        }
    } catch {
        fuzzExpect(false, "reading '\(info.name)' (\(info.dtype)) of a file that opened failed: \(error)")
    }
}
