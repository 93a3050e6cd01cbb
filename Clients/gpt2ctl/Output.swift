// Output — stdout/stderr writing, JSON response lines for --json, and plain text tables.

import GPT2JSON
import GPT2Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum Output {
    /// Set by `--json`: a daemon error is also printed to stdout as its error line.
    nonisolated(unsafe) static var jsonMode = false

    /// Writes `text` to stdout and flushes (streamed tokens must appear as they arrive).
    static func write(_ text: String) {
        fputs(text, stdout)
        fflush(stdout)
    }

    static func line(_ text: String = "") { write(text + "\n") }

    static func error(_ text: String) {
        fputs(text.hasSuffix("\n") ? text : text + "\n", stderr)
    }

    /// A `result` line exactly as the protocol frames it (for --json).
    static func resultLine<R: WireResponse>(id: RequestID, _ response: R) {
        write(String(decoding: ResponseLine.result(id: id, response), as: UTF8.self))
    }

    static func errorLine(id: RequestID, _ error: WireError) {
        write(String(decoding: ResponseLine.error(id: id, error), as: UTF8.self))
    }

    static func tokenLine(id: RequestID, _ event: TokenEvent) {
        write(String(decoding: ResponseLine.token(id: id, event), as: UTF8.self))
    }

    /// Left-aligned columns separated by two spaces; the header row first.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        for row in all {
            var s = ""
            for (i, cell) in row.enumerated() {
                let last = i == row.count - 1
                s += last ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            line(s)
        }
    }

    /// A number with up to `digits` decimals ("-", for nil).
    static func number(_ d: Double?, digits: Int = 4) -> String {
        guard let d else { return "-" }
        var s = String(format: d, digits: digits)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// A string literal with control characters and quotes escaped (token text in tables).
    static func quoted(_ s: String) -> String {
        JSON.string(s).serialized()
    }
}

extension String {
    /// printf-style fixed decimals without Foundation.
    init(format value: Double, digits: Int) {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = buffer.withUnsafeMutableBufferPointer { p in
            withVaList([value]) { vsnprintf(p.baseAddress, 64, "%.\(digits)f", $0) }
        }
        self = String(cString: buffer)
    }
}

/// Ends the process with `status` (a global function: inside a command type `exit` means argument-parser's).
func terminate(_ status: Status) -> Never {
    exit(status.rawValue)
}
