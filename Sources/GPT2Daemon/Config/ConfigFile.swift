// ConfigFile — the `key = value` format of /etc/gpt2d/gpt2d.conf.
//
//   * one `key = value` per line; whitespace around key and value is trimmed;
//   * blank lines and lines whose first non-blank character is `#` are ignored (no trailing comments:
//     `#` inside a value is part of it, since model paths may contain one);
//   * `model = NAME=DIR` may repeat; every other key at most once;
//   * an unknown key, a missing `=`, a repeated key or a bad value is an error naming `path:line`.
//
// systemd/gpt2d.conf.example documents every key and is parsed by the tests.

import Foundation
import Logging

public enum ConfigFile {
    /// One accepted key: its parser writes into the config or throws a message.
    struct Key {
        let name: String
        let apply: (String, inout DaemonConfig) throws(ConfigValueError) -> Void
    }

    struct ConfigValueError: Error { let message: String }

    /// Every key the file accepts, in the order of gpt2d.conf.example.
    static let keys: [Key] = [
        Key(name: "socket") { v, c throws(ConfigValueError) in
            guard v.hasPrefix("/") else { throw ConfigValueError(message: "expected an absolute path") }
            c.socketPath = v
        },
        Key(name: "model") { v, c throws(ConfigValueError) in
            guard let spec = ModelSpec.parse(v) else { throw ConfigValueError(message: "expected NAME=DIR") }
            c.models.append(spec)
        },
        Key(name: "threads") { v, c throws(ConfigValueError) in c.threads = try integer(v, 0...1024) },
        Key(name: "kv_cache_mib") { v, c throws(ConfigValueError) in c.kvCacheMiB = try integer(v, 0...(1 << 24)) },
        Key(name: "kv_block_tokens") { v, c throws(ConfigValueError) in c.kvBlockTokens = try integer(v, 1...4096) },
        Key(name: "max_batch_tokens") { v, c throws(ConfigValueError) in c.maxBatchTokens = try integer(v, 1...(1 << 20)) },
        Key(name: "session_idle_timeout_s") { v, c throws(ConfigValueError) in
            c.sessionIdleTimeoutSeconds = try number(v, 0...(365 * 86400))
        },
        Key(name: "max_sessions") { v, c throws(ConfigValueError) in c.maxSessions = try integer(v, 0...(1 << 20)) },
        Key(name: "max_pending") { v, c throws(ConfigValueError) in c.maxPending = try integer(v, 1...(1 << 20)) },
        Key(name: "max_line_bytes") { v, c throws(ConfigValueError) in c.maxLineBytes = try integer(v, 64...(1 << 30)) },
        Key(name: "log_level") { v, c throws(ConfigValueError) in c.logLevel = try logLevel(v) },
        Key(name: "mlock") { v, c throws(ConfigValueError) in c.mlock = try boolean(v) },
        Key(name: "drain_timeout_s") { v, c throws(ConfigValueError) in c.drainTimeoutSeconds = try number(v, 0...3600) },
    ]

    /// The accepted key names.
    public static var keyNames: [String] { keys.map(\.name) }

    /// Parses a whole file onto the defaults.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> DaemonConfig {
        var config = DaemonConfig()
        var seen = Set<String>()
        let table = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
        var lineNumber = 0
        // By Character: "\r\n" is one Character, so `isNewline` also ends CRLF lines (one line each).
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = String(rawLine).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let here = "\(path):\(lineNumber)"
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError(here, "expected `key = value`, got '\(line)'")
            }
            let key = String(line[..<eq]).trimmingWhitespace()
            let value = String(line[line.index(after: eq)...]).trimmingWhitespace()
            guard let entry = table[key] else {
                throw ConfigError(here, "unknown key '\(key)' (known: \(keyNames.joined(separator: ", ")))")
            }
            if key != "model", !seen.insert(key).inserted {
                throw ConfigError(here, "key '\(key)' given twice")
            }
            do {
                try entry.apply(value, &config)
            } catch {
                throw ConfigError(here, "\(key): \(error.message), got '\(value)'")
            }
        }
        return config
    }

    /// Applies one `key = value` (from the command line) to `config`; errors name `location`.
    static func apply(key: String, value: String, to config: inout DaemonConfig, location: String) throws(ConfigError) {
        guard let entry = keys.first(where: { $0.name == key }) else {
            throw ConfigError(location, "unknown setting '\(key)'")
        }
        do {
            try entry.apply(value.trimmingWhitespace(), &config)
        } catch {
            throw ConfigError(location, "\(error.message), got '\(value)'")
        }
    }

    /// A file's text, nil when it does not exist. Read with plain read(2), so character devices
    /// (`--config /dev/null`: no settings) and pipes work too; the error names errno's text.
    public static func readText(_ path: String) throws -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ConfigReadError(message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ConfigReadError(message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigReadError(message: "not UTF-8 text")
        }
        return text
    }

    // MARK: value parsers (shared with the command line)

    static func integer(_ v: String, _ range: ClosedRange<Int>) throws(ConfigValueError) -> Int {
        guard let n = Int(v), range.contains(n) else {
            throw ConfigValueError(message: "expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    static func number(_ v: String, _ range: ClosedRange<Double>) throws(ConfigValueError) -> Double {
        guard let n = Double(v), n.isFinite, range.contains(n) else {
            throw ConfigValueError(message: "expected a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    static func boolean(_ v: String) throws(ConfigValueError) -> Bool {
        switch v.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default: throw ConfigValueError(message: "expected yes/no, true/false, on/off or 1/0")
        }
    }

    /// Parses a swift-log level name (`trace` … `critical`).
    static func logLevel(_ v: String) throws(ConfigValueError) -> Logger.Level {
        guard let l = Logger.Level(rawValue: v.lowercased()) else {
            throw ConfigValueError(message: "expected trace, debug, info, notice, warning, error or critical")
        }
        return l
    }
}

/// Why a configuration file could not be read (its errno text, or "not UTF-8 text").
public struct ConfigReadError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
