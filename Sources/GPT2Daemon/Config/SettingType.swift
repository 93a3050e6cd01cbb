// SettingType — how the text of one setting (a config-file value or a command-line argument) becomes a
// typed value and back. A type also says what it accepts, in words, for `--help` and for errors.
//
// Every setting of DaemonSettings uses one of these; the file, the command line and the docs all go
// through the same `parse` and `format`, so `kv_cache_mib = 1024` and `--kv-cache-mib 1024` accept the
// same text and the documented default is `format(default)`.

import Foundation
import GPT2Core


/// A value that a setting refused: the message says what was expected (`expected an integer in 0...1024`).
public struct SettingValueError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// Text ⇄ value for one kind of setting.
public struct SettingType<Value: Sendable>: Sendable {
    /// What the type accepts, for `--help` (`0...1024`, `yes or no`, `trace, debug, …`).
    public let accepted: String
    /// Parses already-trimmed text.
    public let parse: @Sendable (String) throws(SettingValueError) -> Value
    /// The text that `parse` turns back into `value` (used for documented defaults).
    public let format: @Sendable (Value) -> String

    public init(
        accepted: String,
        parse: @escaping @Sendable (String) throws(SettingValueError) -> Value,
        format: @escaping @Sendable (Value) -> String
    ) {
        self.accepted = accepted
        self.parse = parse
        self.format = format
    }
}

extension SettingType where Value == Int {
    /// A decimal integer within `range`.
    public static func integer(_ range: ClosedRange<Int>) -> Self {
        Self(accepted: "\(range.lowerBound)...\(range.upperBound)", parse: { v throws(SettingValueError) in
            guard let n = Int(v), range.contains(n) else {
                throw SettingValueError("expected an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }, format: { String($0) })
    }
}

extension SettingType where Value == Double {
    /// A finite decimal number within `range` (`600`, `0.5`); whole numbers are formatted without `.0`.
    public static func number(_ range: ClosedRange<Double>) -> Self {
        let format: @Sendable (Double) -> String = { n in
            n.rounded() == n && abs(n) < 1e15 ? String(Int(n)) : String(n)
        }
        let accepted = "\(format(range.lowerBound))...\(format(range.upperBound))"
        return Self(accepted: accepted, parse: { v throws(SettingValueError) in
            guard let n = Double(v), n.isFinite, range.contains(n) else {
                throw SettingValueError("expected a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }, format: format)
    }
}

extension SettingType where Value == Bool {
    /// yes/no, true/false, on/off or 1/0 (any case); formatted as yes/no.
    public static var boolean: Self {
        Self(accepted: "yes or no", parse: { v throws(SettingValueError) in
            switch v.lowercased() {
            case "yes", "true", "on", "1": return true
            case "no", "false", "off", "0": return false
            default: throw SettingValueError("expected yes/no, true/false, on/off or 1/0")
            }
        }, format: { $0 ? "yes" : "no" })
    }
}

extension SettingType where Value == String {
    /// An absolute file-system path.
    public static var absolutePath: Self {
        Self(accepted: "an absolute path", parse: { v throws(SettingValueError) in
            guard v.hasPrefix("/") else { throw SettingValueError("expected an absolute path") }
            return v
        }, format: { $0 })
    }
}

extension SettingType where Value == String {
    /// A Unix group name: 1–32 of letters, digits, `.`, `_`, `-`, not starting with `-`.
    public static var groupName: Self {
        Self(accepted: "a group name", parse: { v throws(SettingValueError) in
            let allowed = v.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
            }
            guard (1...32).contains(v.utf8.count), allowed, !v.hasPrefix("-") else {
                throw SettingValueError("expected a group name (1 to 32 letters, digits, '.', '_' or '-')")
            }
            return v
        }, format: { $0 })
    }
}

extension SettingType where Value == [String] {
    /// Bearer-token principal names (as in `http_tokens_file`: 1–64 of letters, digits, `.`, `_`, `-`,
    /// `@`), separated by commas; `none` (or nothing) is the empty list. Each name once.
    public static var principalNames: Self {
        Self(accepted: "none or NAME[,NAME…]", parse: { v throws(SettingValueError) in
            let text = v.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.lowercased() == "none" { return [] }
            var names: [String] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let name = part.trimmingCharacters(in: .whitespaces)
                guard BearerTokenFile.isPrincipal(name) else {
                    throw SettingValueError("expected principal names (1 to 64 letters, digits, '.', '_', '-' or '@') separated by commas, or none")
                }
                guard !names.contains(name) else { throw SettingValueError("principal '\(name)' is listed twice") }
                names.append(name)
            }
            return names
        }, format: { $0.isEmpty ? "none" : $0.joined(separator: ",") })
    }
}

extension SettingType where Value == ModelSpec {
    /// `NAME=DIR` (see `ModelSpec.parse`).
    public static var modelSpec: Self {
        Self(accepted: "NAME[:TYPE][@SECONDS]=DIR", parse: { v throws(SettingValueError) in
            guard let spec = ModelSpec.parse(v) else {
                throw SettingValueError("expected NAME=DIR, NAME:TYPE=DIR or NAME[:TYPE]@SECONDS=DIR (TYPE: checkpoint, \(WeightType.allCases.map(\.rawValue).joined(separator: ", ")); SECONDS: keep_alive > 0)")
            }
            return spec
        }, format: { $0.text })
    }
}

extension SettingType {
    /// One of an enumeration's raw values, matched case-insensitively (`log_level`, and for example a
    /// weight format).
    public static func choice(_ type: Value.Type) -> Self
    where Value: CaseIterable & RawRepresentable, Value.RawValue == String {
        let names = type.allCases.map(\.rawValue)
        let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
        return Self(accepted: names.joined(separator: ", "), parse: { v throws(SettingValueError) in
            guard let value = Value(rawValue: v.lowercased()) else { throw SettingValueError("expected \(list)") }
            return value
        }, format: { $0.rawValue })
    }

    /// `inner`, or nil spelled as `absent` (for a setting whose default comes from elsewhere, for example
    /// "the checkpoint's own format").
    public static func optional<Inner>(_ inner: SettingType<Inner>, absent: String) -> Self where Value == Inner? {
        Self(accepted: "\(absent), \(inner.accepted)", parse: { v throws(SettingValueError) in
            if v.lowercased() == absent { return nil }
            do throws(SettingValueError) { return try inner.parse(v) } catch {
                throw SettingValueError("\(error.message) or \(absent)")
            }
        }, format: { $0.map(inner.format) ?? absent })
    }
}
