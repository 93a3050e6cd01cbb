// ConfigFile — the `key = value` format of /etc/gpt2d/gpt2d.conf.
//
//   * one `key = value` per line; whitespace around key and value is trimmed;
//   * blank lines and lines whose first non-blank character is `#` are ignored (no trailing comments:
//     `#` inside a value is part of it, since model paths may contain one);
//   * `model = NAME=DIR` may repeat; every other key at most once;
//   * an unknown key, a missing `=`, a repeated key or a bad value is an error naming `path:line`.
//
// Which keys exist and what each accepts is DaemonSettings' table. systemd/gpt2d.conf.example documents
// every key with its default; ConfigDocsTests check that it lists exactly the table.

import Foundation

public enum ConfigFile {
    /// The accepted key names (DaemonSettings' keys, in table order).
    public static var keyNames: [String] { DaemonSettings.all.map(\.key) }

    /// Parses a whole file onto the defaults.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> DaemonConfig {
        try ConfigLayer.resolve([layer(text, path: path)])
    }

    /// Reads a file's lines into a checked layer; the first bad line throws, naming `path:line`.
    static func layer(_ text: String, path: String) throws(ConfigError) -> ConfigLayer {
        var layer = ConfigLayer(name: path)
        var seen = Set<String>()
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
            guard let setting = DaemonSettings.setting(forKey: key) else {
                throw ConfigError(here, "unknown key '\(key)' (known: \(keyNames.joined(separator: ", ")))")
            }
            if !setting.repeatable, !seen.insert(key).inserted {
                throw ConfigError(here, "key '\(key)' given twice")
            }
            do {
                try setting.validate(value)
            } catch {
                throw ConfigError(here, "\(key): \(error.message), got '\(value)'")
            }
            layer.add(setting, value)
        }
        return layer
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
}

/// Why a configuration file could not be read (its errno text, or "not UTF-8 text").
public struct ConfigReadError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
