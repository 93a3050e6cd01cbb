// CheckpointJSON — how GPT2Core reads the JSON files a checkpoint carries (the safetensors header,
// config.json, model.safetensors.index.json): through GPT2JSON (json-c), strictly. A key twice in one
// object is an error; integer literals keep their exact Int64 value (safetensors offsets are byte
// offsets, far below 2^63; a literal outside Int64 is a parse error, never a rounded double); nesting
// deeper than 64 is an error. A failure becomes the reason text of the CheckpointError naming the file.

import Foundation
import GPT2JSON

enum CheckpointJSON {
    /// Why a file is not acceptable JSON ("invalid JSON at byte 12: unexpected end of input").
    struct Failure: Error {
        var reason: String
    }

    static let maxDepth = 64

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSON {
        do {
            return try JSON.parse(bytes, maxDepth: maxDepth, rejectDuplicateKeys: true)
        } catch {
            throw Failure(reason: "invalid JSON at byte \(error.offset): \(error.message)")
        }
    }

    static func parse(_ data: Data) throws(Failure) -> JSON {
        let result = data.withUnsafeBytes { raw in Result { () throws(Failure) in try parse(raw) } }
        return try result.get()
    }
}

extension JSON {
    /// The JSON type for messages, "number" for integers and non-integers alike ("is a number, expected a string").
    var checkpointTypeName: String {
        switch self {
        case .int, .double: return "number"
        default: return typeName
        }
    }

    /// An integer literal that fits in Int (shapes and offsets: `8`, not `8.0`).
    var exactInt: Int? { intValue.flatMap { Int(exactly: $0) } }

    /// A number with an integral value (config.json writes `768` or `768.0`).
    var integralInt: Int? {
        if let i = exactInt { return i }
        guard case .double(let d) = self, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }
}
