// Options shared by every subcommand: where the daemon is, how long to wait, how to print.

import ArgumentParser
import GPT2Client

struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The daemon's Unix socket (default: $\(GPT2Client.socketEnvironmentVariable), else \(GPT2Client.defaultSocketPath)).",
        valueName: "path"), completion: .file())
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Give up after this many seconds (default: wait).", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a number of seconds > 0") }
    }

    func makeClient() -> GPT2Client {
        GPT2Client(socketPath: socket, timeout: timeout.map { .milliseconds(Int64($0 * 1000)) })
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the daemon's raw JSON response lines (also an error line) instead of human output.")
    var json = false

    func validate() throws {
        Output.jsonMode = json
    }
}

/// Parses token ids written as "1,2,3", "1 2 3" or several arguments.
func parseTokenList(_ parts: [String], option: String) throws -> [Int] {
    var ids: [Int] = []
    for part in parts {
        for piece in part.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" }) {
            guard let id = Int(piece), id >= 0 else {
                throw ValidationError("\(option): '\(piece)' is not a token id (a non-negative integer)")
            }
            ids.append(id)
        }
    }
    return ids
}

/// The text argument, or all of standard input when it is absent (one trailing newline removed).
func textArgumentOrStdin(_ text: String?) -> String {
    if let text { return text }
    var data: [UInt8] = []
    while let line = readLine(strippingNewline: false) { data.append(contentsOf: line.utf8) }
    var s = String(decoding: data, as: UTF8.self)
    if s.hasSuffix("\r\n") { s.removeLast(1) }  // "\r\n" is one Character
    else if s.hasSuffix("\n") { s.removeLast() }
    return s
}
