// FuzzSupport — what every libFuzzer target of gpt2d shares.
//
// libFuzzer calls `LLVMFuzzerTestOneInput(data, size)` once per input; a target turns the input into
// bytes (`FuzzInput.bytes`) and checks invariants with `fuzzExpect`. A broken invariant prints what was
// expected and aborts, which libFuzzer reports as a crash and saves the input (the artifact).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FuzzInput {
    /// The input as an array (libFuzzer passes a nil pointer for the empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

/// Aborts with `message` when `condition` is false: an invariant of the code under test is broken.
public func fuzzExpect(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                       file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    fputs("fuzz invariant broken at \(file):\(line): \(message())\n", stderr)
    abort()
}

/// A short printable form of bytes for invariant messages (at most `limit` bytes shown, escaped).
public func fuzzDescribe(_ bytes: some Collection<UInt8>, limit: Int = 200) -> String {
    var out = ""
    for b in bytes.prefix(limit) {
        if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\") { out.unicodeScalars.append(Unicode.Scalar(b)) }
        else { out += "\\x" + String(b, radix: 16).leftPadded(to: 2) }
    }
    if bytes.count > limit { out += "… (\(bytes.count) bytes)" }
    return out
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
