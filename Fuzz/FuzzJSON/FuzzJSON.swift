// FuzzJSON — libFuzzer target for GPT2JSON's parser and writer.
//
// Input: any bytes, parsed as one JSON document. Invariants checked per input:
// - UTF8Check agrees with the standard library's UTF-8 validation (same verdict);
// - the strict mode (rejectDuplicateKeys) never accepts what the lenient one refuses, and when both
//   accept they give the same value;
// - a parsed value serializes to one line (no raw newline) of valid UTF-8 that parses back to the same
//   value (keys containing U+0000 excepted: json-c cuts object keys at NUL, documented in JSONSerializer);
// - the input bytes taken as text (invalid UTF-8 replaced) survive `JSON.string` → serialize → parse.

import CFuzzerDriver
import GPT2FuzzSupport
import GPT2JSON

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzJSON_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzJSON)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)

    let stdlibValid = String(validating: bytes, as: UTF8.self) != nil
    let ownValid = UTF8Check.firstInvalidOffset(bytes) == nil
    fuzzExpect(stdlibValid == ownValid, "UTF8Check says valid=\(ownValid), the standard library \(stdlibValid): \(fuzzDescribe(bytes))")

    let lenient = Result { () throws(JSONError) in try JSON.parse(bytes) }
    let strict = Result { () throws(JSONError) in try JSON.parse(bytes, rejectDuplicateKeys: true) }
    switch (lenient, strict) {
    case (.failure, .success):
        fuzzExpect(false, "rejectDuplicateKeys accepted what the lenient parse refused: \(fuzzDescribe(bytes))")
    case (.success(let a), .success(let b)):
        fuzzExpect(a == b, "strict and lenient parses differ: \(fuzzDescribe(bytes))")
    default:
        break
    }
    if case .success(let value) = lenient { checkRoundTrip(value, source: bytes) }

    let text = String(decoding: bytes, as: UTF8.self)
    checkRoundTrip(.string(text), source: bytes)
    return 0
}

/// serialize → parse gives `value` back, on one line of valid UTF-8.
private func checkRoundTrip(_ value: JSON, source: [UInt8]) {
    let line = value.serializedBytes()
    fuzzExpect(!line.contains(0x0A), "serialized JSON contains a newline: \(fuzzDescribe(line))")
    fuzzExpect(String(validating: line, as: UTF8.self) != nil, "serialized JSON is not UTF-8: \(fuzzDescribe(line))")
    guard !hasKeyWithNUL(value) else { return }
    do {
        let again = try JSON.parse(line)
        fuzzExpect(again == value, "serialize → parse changed the value; input \(fuzzDescribe(source)), line \(fuzzDescribe(line))")
    } catch {
        fuzzExpect(false, "serialized JSON does not parse (\(error)): \(fuzzDescribe(line))")
    }
}

private func hasKeyWithNUL(_ value: JSON) -> Bool {
    switch value {
    case .array(let items): return items.contains(where: hasKeyWithNUL)
    case .object(let members): return members.contains { $0.key.utf8.contains(0) || hasKeyWithNUL($0.value) }
    default: return false
    }
}
