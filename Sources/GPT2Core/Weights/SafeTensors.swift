// SafeTensors — reader for Hugging Face's .safetensors format over a MappedFile.
//
//   [u64 little-endian N][N bytes UTF-8 JSON header][data area]
//   header = { name: {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...,
//              optional "__metadata__": {string: string} }
// Offsets are relative to the data area. As in the reference implementation, the data area must
// be covered exactly: no overlaps, no holes, no trailing bytes. Everything is validated at open,
// so accessors only fail for a wrong name or dtype.

import GPT2JSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element types of the safetensors format, with their sizes in bytes.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL
    case F8_E4M3, F8_E5M2

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL, .F8_E4M3, .F8_E5M2: return 1
        }
    }

    /// True for the dtypes `floats()` converts (F32, F16, BF16, F64).
    public var isConvertibleFloat: Bool { self == .F32 || self == .F16 || self == .BF16 || self == .F64 }
}

/// One header entry.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// [begin, end) relative to the start of the data area (the header's data_offsets).
    public let dataOffsets: Range<Int>
    /// [begin, end) from the start of the file.
    public let fileRange: Range<Int>

    /// Number of elements (product of shape; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { dataOffsets.count }
}

/// A validated, memory-mapped safetensors file.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Largest header accepted (the reference implementation's limit).
    public static let maxHeaderSize = 100_000_000

    public let mapping: MappedFile
    public var path: String { mapping.path }
    /// The optional "__metadata__" map (e.g. {"format": "pt"}).
    public let metadata: [String: String]
    /// File offset where the data area starts (8 + N).
    public let dataStart: Int
    private let entries: [String: TensorInfo]
    /// Tensor names in data order (ascending offsets).
    public let names: [String]

    /// Maps and validates `path`. Throws `CheckpointError` naming the file and tensor on any defect.
    public static func open(path: String, preload: Bool = false, lockInMemory: Bool = false) throws -> SafeTensorsFile {
        let mapping = try MappedFile(path: path, preload: preload, lock: lockInMemory)
        return try SafeTensorsFile(mapping: mapping)
    }

    /// A table of tensors another container format located inside `mapping` (PyTorchCheckpoint):
    /// each TensorInfo's fileRange lies in the mapping and holds count · dtype size bytes. Tensors
    /// may share bytes (tied parameters); `dataStart` is 0.
    init(mapping: MappedFile, tensors: [TensorInfo], metadata: [String: String] = ["format": "pt"]) {
        self.mapping = mapping
        self.metadata = metadata
        self.dataStart = 0
        self.names = tensors.map(\.name)
        var map: [String: TensorInfo] = [:]
        for info in tensors { map[info.name] = info }
        self.entries = map
    }

    /// Validates an existing mapping.
    public init(mapping: MappedFile) throws {
        self.mapping = mapping
        let file = mapping.path
        let bytes = mapping.bytes
        guard bytes.count >= 8 else {
            throw CheckpointError.badHeader(file: file, reason: "file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let declared = bytes.littleEndian(UInt64.self, at: 0)
        guard declared <= UInt64(Self.maxHeaderSize), Int(declared) <= bytes.count - 8 else {
            throw CheckpointError.headerTooLarge(file: file, declared: declared, fileSize: bytes.count)
        }
        let n = Int(declared)
        guard n >= 2 else { throw CheckpointError.badHeader(file: file, reason: "header length \(n) is too short for a JSON object") }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + n)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw CheckpointError.badHeader(file: file, reason: "header is not valid UTF-8")
        }
        let json: JSON
        do { json = try CheckpointJSON.parse(headerBytes) } catch {
            throw CheckpointError.badHeader(file: file, reason: error.reason)
        }
        guard case let .object(members) = json else {
            throw CheckpointError.badHeader(file: file, reason: "header is a JSON \(json.checkpointTypeName), expected an object")
        }
        let dataStart = 8 + n
        let dataSize = bytes.count - dataStart
        // The header is what `MappedFile.restoreIfWhole` compares before mapping the file again.
        mapping.rememberPrefix(dataStart)
        var metadata: [String: String] = [:]
        var infos: [TensorInfo] = []
        infos.reserveCapacity(members.count)

        for (name, value) in members {
            if name == "__metadata__" {
                guard case let .object(meta) = value else {
                    throw CheckpointError.badHeader(file: file, reason: "__metadata__ is a \(value.checkpointTypeName), expected an object of strings")
                }
                for (k, v) in meta {
                    guard case let .string(s) = v else {
                        throw CheckpointError.badHeader(file: file, reason: "__metadata__ value for '\(k)' is a \(v.checkpointTypeName), expected a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard case .object = value else {
                throw CheckpointError.badHeader(file: file, reason: "entry '\(name)' is a \(value.checkpointTypeName), expected an object")
            }
            guard case let .string(dtypeText)? = value["dtype"] else {
                throw CheckpointError.badHeader(file: file, reason: "entry '\(name)' has no string 'dtype'")
            }
            guard case let .array(shapeItems)? = value["shape"] else {
                throw CheckpointError.badHeader(file: file, reason: "entry '\(name)' has no array 'shape'")
            }
            guard case let .array(offsetItems)? = value["data_offsets"], offsetItems.count == 2 else {
                throw CheckpointError.badHeader(file: file, reason: "entry '\(name)' has no two-element array 'data_offsets'")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeText) else {
                throw CheckpointError.unknownDType(file: file, tensor: name, dtype: dtypeText)
            }
            var shape: [Int] = []
            var elements = 1
            for item in shapeItems {
                guard let d = item.exactInt, d >= 0 else {
                    throw CheckpointError.badHeader(file: file, reason: "entry '\(name)' shape has a non-integer or negative dimension")
                }
                shape.append(d)
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw CheckpointError.badHeader(file: file, reason: "entry '\(name)' shape \(shape) overflows") }
                elements = m
            }
            guard let begin = offsetItems[0].exactInt, let end = offsetItems[1].exactInt, begin >= 0, end >= 0 else {
                throw CheckpointError.badHeader(file: file, reason: "entry '\(name)' data_offsets are not non-negative integers")
            }
            guard begin <= end, end <= dataSize else {
                throw CheckpointError.offsetsOutOfRange(file: file, tensor: name, begin: begin, end: end, dataSize: dataSize)
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, expected == end - begin else {
                throw CheckpointError.sizeMismatch(file: file, tensor: name, expectedBytes: overflow ? Int.max : expected, foundBytes: end - begin)
            }
            infos.append(TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end,
                                    fileRange: (dataStart + begin)..<(dataStart + end)))
        }

        // Coverage: sorted by offset, each tensor must start exactly where the covered prefix ends.
        infos.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var covered = 0
        var lastNonEmpty: String? = nil
        for info in infos {
            let r = info.dataOffsets
            if r.lowerBound < covered {
                throw CheckpointError.overlappingTensors(file: file, first: lastNonEmpty ?? "?", second: info.name)
            }
            if r.lowerBound > covered {
                throw CheckpointError.gapInData(file: file, begin: covered, end: r.lowerBound)
            }
            if !r.isEmpty { covered = r.upperBound; lastNonEmpty = info.name }
        }
        if covered != dataSize {
            throw CheckpointError.gapInData(file: file, begin: covered, end: dataSize)
        }

        self.metadata = metadata
        self.dataStart = dataStart
        self.names = infos.map(\.name)
        var map: [String: TensorInfo] = [:]
        map.reserveCapacity(infos.count)
        for info in infos { map[info.name] = info }
        self.entries = map
    }

    /// The header entry for `name`, or nil.
    public func info(_ name: String) -> TensorInfo? { entries[name] }

    private func require(_ name: String) throws -> TensorInfo {
        guard let info = entries[name] else { throw CheckpointError.tensorNotInFile(file: path, tensor: name) }
        return info
    }

    /// Raw bytes of a tensor (inside the mapping; valid while this object lives).
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let info = try require(name)
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[info.fileRange])
    }

    /// Converts a float tensor into `dst` (which must hold `info.count` floats).
    func convert(_ info: TensorInfo, into dst: UnsafeMutablePointer<Float>) throws {
        let src = mapping.base + info.fileRange.lowerBound
        switch info.dtype {
        case .F32: copyF32(src, to: dst, count: info.count)
        case .F16: convertF16(src, to: dst, count: info.count)
        case .BF16: convertBF16(src, to: dst, count: info.count)
        case .F64: convertF64(src, to: dst, count: info.count)
        default: throw CheckpointError.unsupportedDType(file: path, tensor: info.name, dtype: info.dtype.rawValue)
        }
    }

    /// The tensor's values as Float, copying (F32/F16/BF16/F64; anything else → `.unsupportedDType`).
    public func floats(_ name: String) throws -> [Float] {
        let info = try require(name)
        guard info.dtype.isConvertibleFloat else {
            throw CheckpointError.unsupportedDType(file: path, tensor: name, dtype: info.dtype.rawValue)
        }
        return try [Float](unsafeUninitializedCapacity: info.count) { buf, initialized in
            if let base = buf.baseAddress { try convert(info, into: base) }
            initialized = info.count
        }
    }

    /// The tensor's values as Int64 (I64, I32; anything else → `.unsupportedDType`).
    public func int64s(_ name: String) throws -> [Int64] {
        let info = try require(name)
        let src = mapping.base + info.fileRange.lowerBound
        switch info.dtype {
        case .I64:
            return (0..<info.count).map { src.littleEndian(Int64.self, at: 8 * $0) }
        case .I32:
            return (0..<info.count).map { Int64(src.littleEndian(Int32.self, at: 4 * $0)) }
        default:
            throw CheckpointError.unsupportedDType(file: path, tensor: name, dtype: info.dtype.rawValue)
        }
    }

    /// True when an F32 tensor's data can be viewed in place (4-byte aligned in memory).
    public func isAlignedF32(_ info: TensorInfo) -> Bool {
        info.dtype == .F32 && Int(bitPattern: mapping.base + info.fileRange.lowerBound) % MemoryLayout<Float>.alignment == 0
    }

    /// A zero-copy view of an F32 tensor inside the mapping (valid while this object lives).
    /// Throws `.unsupportedDType` for non-F32 and `.misalignedData` if the bytes are not 4-byte
    /// aligned — then use `floats(_:)`.
    public func f32View(_ name: String) throws -> UnsafePointer<Float> {
        let info = try require(name)
        guard info.dtype == .F32 else {
            throw CheckpointError.unsupportedDType(file: path, tensor: name, dtype: info.dtype.rawValue)
        }
        guard isAlignedF32(info) else {
            throw CheckpointError.misalignedData(file: path, tensor: name, offset: info.fileRange.lowerBound)
        }
        return (mapping.base + info.fileRange.lowerBound).assumingMemoryBound(to: Float.self)
    }
}
