// ConfigFile — the `key = value` format of /etc/gpt2d/gpt2d.conf.
//
//   * one `key = value` per line; whitespace around key and value is trimmed;
//   * blank lines and lines whose first non-blank character is `#` are ignored (no trailing comments:
//     `#` inside a value is part of it, since model paths may contain one);
//   * `model = NAME=DIR` may repeat; every other key at most once;
//   * an unknown key, a missing `=`, a repeated key or a bad value is an error naming `path:line`
//     (quoting at most UserText.defaultLimit bytes of the line or value);
//   * the file is a regular file of at most 1 MiB (or /dev/null); see `readText`.
//
// Which keys exist and what each accepts is DaemonSettings' table. systemd/gpt2d.conf.example documents
// every key with its default; ConfigDocsTests check that it lists exactly the table.

import Foundation
import GPT2Bounds

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
                throw ConfigError(here, "expected `key = value`, got '\(UserText.clip(line))'")
            }
            let key = String(line[..<eq]).trimmingWhitespace()
            let value = String(line[line.index(after: eq)...]).trimmingWhitespace()
            guard let setting = DaemonSettings.setting(forKey: key) else {
                throw ConfigError(here, "unknown key '\(UserText.clip(key))' (known: \(keyNames.joined(separator: ", ")))")
            }
            if !setting.repeatable, !seen.insert(key).inserted {
                throw ConfigError(here, "key '\(UserText.clip(key))' given twice")
            }
            do {
                try setting.validate(value)
            } catch {
                throw ConfigError(here, "\(key): \(error.message), got '\(UserText.clip(value))'")
            }
            layer.add(setting, value)
        }
        return layer
    }

    /// A file's text, nil when it does not exist. The file must be a regular file of at most
    /// `RegularFile.Caps.configFile` bytes (1 MiB), or /dev/null (no settings); a FIFO or another
    /// device is refused without blocking (RegularFile opens with O_NONBLOCK). The error says why.
    public static func readText(_ path: String) throws -> String? {
        if isNullDevice(path) { return "" }
        let bytes: [UInt8]
        do throws(RegularFileError) {
            bytes = try RegularFile.read(path, limit: RegularFile.Caps.configFile)
        } catch {
            if case .notFound = error { return nil }
            throw ConfigReadError(message: error.reason)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigReadError(message: "not UTF-8 text")
        }
        return text
    }

    /// True when `path` is the null character device (`--config /dev/null`: an empty configuration).
    static func isNullDevice(_ path: String) -> Bool {
        var st = stat(), null = stat()
        guard stat(path, &st) == 0, stat("/dev/null", &null) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == null.st_rdev
    }
}

/// Why a configuration file could not be read (its errno text, or "not UTF-8 text").
public struct ConfigReadError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
