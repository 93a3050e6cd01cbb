// SafeTensorsTests — the .safetensors reader: valid files, every malformed-file error, dtype
// conversion (exhaustive for F16) and zero-copy views.

import Foundation
import Testing
import GPT2Core
import GPT2TestSupport

/// Writes `bytes` to a temp file and returns its path (directory removed by the caller).
private func tempFile(_ bytes: [UInt8], _ dir: String, name: String = "t.safetensors") -> String {
    let path = dir + "/" + name
    try! writeFile(bytes, to: path)
    return path
}

/// Expects opening `bytes` to throw exactly `expected(path)`.
private func expectOpenError(_ bytes: [UInt8], _ expected: (String) -> CheckpointError,
                             sourceLocation: SourceLocation = #_sourceLocation) {
    let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
    let path = tempFile(bytes, dir)
    #expect(throws: expected(path), sourceLocation: sourceLocation) { try SafeTensorsFile.open(path: path) }
}

/// One F32 tensor "a" of shape [2] written with a custom header.
private func raw(_ header: String, dataCount: Int = 8, declared: UInt64? = nil) -> [UInt8] {
    SafeTensorsWriter.fileBytes(header: header, data: [UInt8](repeating: 0, count: dataCount), declaredLength: declared)
}

@Suite struct SafeTensorsValidFileTests {
    @Test func readsNamesShapesValuesAndMetadata() throws {
        var w = SafeTensorsWriter()
        w.add("w", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        w.add("ids", shape: [3], int64s: [7, -1, 1 << 40])
        w.add("i32", dtype: "I32", shape: [2], bytes: [5, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
        w.add("half", shape: [2], floats: [0.5, -2], dtype: "F16")
        w.add("brain", shape: [2], floats: [1.5, -3], dtype: "BF16")
        w.add("scalar", shape: [], floats: [42])
        w.add("empty", shape: [0, 4], floats: [])
        let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
        let path = tempFile(w.fileBytes(), dir)
        let f = try SafeTensorsFile.open(path: path, preload: true)

        #expect(Set(f.names) == ["w", "ids", "i32", "half", "brain", "scalar", "empty"])
        #expect(f.metadata == ["format": "pt"])
        let info = try #require(f.info("w"))
        #expect(info.dtype == .F32 && info.shape == [2, 3] && info.dataOffsets == 0..<24 && info.count == 6)
        #expect(f.info("nope") == nil)
        #expect(try f.floats("w") == [1, 2, 3, 4, 5, 6])
        #expect(try f.int64s("ids") == [7, -1, 1 << 40])
        #expect(try f.int64s("i32") == [5, -1])
        #expect(try f.floats("half") == [0.5, -2])
        #expect(try f.floats("brain") == [1.5, -3])
        #expect(try f.floats("scalar") == [42])
        #expect(try f.floats("empty") == [])
        let view = try f.f32View("w")
        #expect(Array(UnsafeBufferPointer(start: view, count: 6)) == [1, 2, 3, 4, 5, 6])
        #expect(f.mapping.contains(view, byteCount: 24))
    }

    @Test func accessorErrorsNameFileTensorAndDType() throws {
        var w = SafeTensorsWriter()
        w.add("ids", shape: [1], int64s: [3])
        w.add("h", shape: [2], floats: [1, 2], dtype: "F16")
        w.add("x", shape: [1], floats: [1])
        let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
        let path = tempFile(w.fileBytes(), dir)
        let f = try SafeTensorsFile.open(path: path)
        #expect(throws: CheckpointError.unsupportedDType(file: path, tensor: "ids", dtype: "I64")) { try f.floats("ids") }
        #expect(throws: CheckpointError.unsupportedDType(file: path, tensor: "x", dtype: "F32")) { try f.int64s("x") }
        #expect(throws: CheckpointError.unsupportedDType(file: path, tensor: "h", dtype: "F16")) { try f.f32View("h") }
        #expect(throws: CheckpointError.tensorNotInFile(file: path, tensor: "y")) { try f.floats("y") }
    }

    @Test func misalignedF32RefusesViewButCopies() throws {
        var w = SafeTensorsWriter()
        w.add("a", shape: [3], floats: [1, -2, 3.5])
        let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
        let path = tempFile(w.fileBytes(extraHeaderSpaces: 2), dir)
        let f = try SafeTensorsFile.open(path: path)
        let offset = try #require(f.info("a")).fileRange.lowerBound
        #expect(offset % 4 == 2)
        #expect(throws: CheckpointError.misalignedData(file: path, tensor: "a", offset: offset)) { try f.f32View("a") }
        #expect(try f.floats("a") == [1, -2, 3.5])
    }

    @Test func headerWithoutMetadataAndWithPaddingParses() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
        let path = tempFile(raw(header), dir)
        let f = try SafeTensorsFile.open(path: path)
        #expect(f.names == ["a"] && f.metadata.isEmpty)
    }
}

@Suite struct SafeTensorsMalformedTests {
    @Test func missingFile() {
        #expect(throws: CheckpointError.fileNotFound(path: "/nonexistent/x.safetensors")) {
            try SafeTensorsFile.open(path: "/nonexistent/x.safetensors")
        }
    }

    @Test func emptyFile() {
        expectOpenError([]) { .emptyFile(path: $0) }
    }

    @Test func shorterThanLengthPrefix() {
        expectOpenError([1, 2, 3]) { .badHeader(file: $0, reason: "file is 3 bytes, shorter than the 8-byte header length") }
    }

    @Test func headerLengthPastFileEnd() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let bytes = raw(header, declared: 10_000)
        expectOpenError(bytes) { .headerTooLarge(file: $0, declared: 10_000, fileSize: bytes.count) }
    }

    @Test func absurdHeaderLength() {
        let bytes = raw("{}", declared: UInt64.max)
        expectOpenError(bytes) { .headerTooLarge(file: $0, declared: UInt64.max, fileSize: bytes.count) }
    }

    @Test func headerNotJSON() {
        let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
        let path = tempFile(raw(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]"#), dir)
        #expect {
            try SafeTensorsFile.open(path: path)
        } throws: { e in
            guard case let .badHeader(file, reason)? = e as? CheckpointError else { return false }
            return file == path && reason.contains("invalid JSON")
        }
    }

    @Test func headerNotUTF8() {
        var header = Array(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf8)
        header[2] = 0xFF
        var file: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file += header + [UInt8](repeating: 0, count: 8)
        expectOpenError(file) { .badHeader(file: $0, reason: "header is not valid UTF-8") }
    }

    @Test func headerNotAnObject() {
        expectOpenError(raw("[1, 2, 3]", dataCount: 0)) { .badHeader(file: $0, reason: "header is a JSON array, expected an object") }
    }

    @Test func duplicateKeyInHeader() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
        let path = tempFile(raw(header), dir)
        #expect {
            try SafeTensorsFile.open(path: path)
        } throws: { e in
            guard case let .badHeader(_, reason)? = e as? CheckpointError else { return false }
            return reason.contains("duplicate key \"a\"")
        }
    }

    @Test func entryWithWrongFieldTypes() {
        expectOpenError(raw(#"{"a":[1]}"#)) { .badHeader(file: $0, reason: "entry 'a' is a array, expected an object") }
        expectOpenError(raw(#"{"a":{"dtype":1,"shape":[2],"data_offsets":[0,8]}}"#)) {
            .badHeader(file: $0, reason: "entry 'a' has no string 'dtype'")
        }
        expectOpenError(raw(#"{"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#)) {
            .badHeader(file: $0, reason: "entry 'a' has no array 'shape'")
        }
        expectOpenError(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#)) {
            .badHeader(file: $0, reason: "entry 'a' has no two-element array 'data_offsets'")
        }
        expectOpenError(raw(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#)) {
            .badHeader(file: $0, reason: "entry 'a' shape has a non-integer or negative dimension")
        }
        expectOpenError(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0.5,8]}}"#)) {
            .badHeader(file: $0, reason: "entry 'a' data_offsets are not non-negative integers")
        }
        expectOpenError(raw(#"{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#)) {
            .badHeader(file: $0, reason: "__metadata__ value for 'format' is a number, expected a string")
        }
    }

    @Test func unknownDType() {
        expectOpenError(raw(#"{"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}}"#)) {
            .unknownDType(file: $0, tensor: "a", dtype: "F12")
        }
    }

    @Test func offsetsOutsideDataArea() {
        expectOpenError(raw(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#)) {
            .offsetsOutOfRange(file: $0, tensor: "a", begin: 0, end: 16, dataSize: 8)
        }
    }

    @Test func offsetsReversed() {
        expectOpenError(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#)) {
            .offsetsOutOfRange(file: $0, tensor: "a", begin: 8, end: 0, dataSize: 8)
        }
    }

    @Test func overlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        expectOpenError(raw(header, dataCount: 12)) { .overlappingTensors(file: $0, first: "a", second: "b") }
    }

    @Test func holeBetweenTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        expectOpenError(raw(header, dataCount: 12)) { .gapInData(file: $0, begin: 4, end: 8) }
    }

    @Test func trailingBytesAfterLastTensor() {
        expectOpenError(raw(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataCount: 8)) {
            .gapInData(file: $0, begin: 4, end: 8)
        }
    }

    @Test func byteCountNotShapeTimesDTypeSize() {
        expectOpenError(raw(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#)) {
            .sizeMismatch(file: $0, tensor: "a", expectedBytes: 4, foundBytes: 8)
        }
    }
}

@Suite struct FloatConversionTests {
    @Test func f16WideningMatchesFloat16ForAllBitPatterns() {
        var mismatches = 0
        for bits in 0...UInt16.max {
            let ours = float32(fromF16Bits: bits)
            let swift = Float(Float16(bitPattern: bits))
            if ours.isNaN {
                if !swift.isNaN || ours.sign != swift.sign { mismatches += 1 }
            } else if ours.bitPattern != swift.bitPattern {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test func bf16IsTheTopHalfOfF32() {
        for f: Float in [0, -0.0, 1, -1.5, 3.140625, .infinity, -.infinity, 1e-38, 65504, 3.3895314e38] {
            let bits = UInt16(truncatingIfNeeded: f.bitPattern >> 16)
            #expect(float32(fromBF16Bits: bits) == Float(bitPattern: UInt32(bits) << 16))
        }
        #expect(float32(fromBF16Bits: 0x3F80) == 1)
        #expect(float32(fromBF16Bits: 0xC040) == -3)
    }

    @Test func f16FileValuesConvertExactly() throws {
        let values: [Float] = [0, -0.0, 1, -1, 0.1, 65504, 6.1e-5, 5.96e-8, -3.25, .infinity]
        var w = SafeTensorsWriter()
        w.add("h", shape: [values.count], floats: values, dtype: "F16")
        w.add("b", shape: [values.count], floats: values, dtype: "BF16")
        let dir = makeTempDirectory("st"); defer { removeDirectory(dir) }
        let f = try SafeTensorsFile.open(path: tempFile(w.fileBytes(), dir))
        #expect(try f.floats("h") == values.map { Float(Float16($0)) })
        #expect(try f.floats("b") == values.map { SafeTensorsWriter.roundTrip($0, through: "BF16") })
    }
}
