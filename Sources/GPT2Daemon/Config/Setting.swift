// Setting — one entry of the daemon's settings table (DaemonSettings.swift): the config key, its
// command-line option, its value type and range, its default, its help text, and whether a SIGHUP
// applies a change. The file parser, the command line, `--help`, the reload diff and the documented
// defaults all read these entries; nothing else lists settings.
//
// Two shapes:
//   * `SettingSpec<Value>`: a single value (`kv_cache_mib = 1024`), at most once per file; on the
//     command line the last occurrence wins.
//   * `SettingList<Element>`: a repeatable value (`model = NAME=DIR`); every occurrence adds one, and
//     values given on the command line replace the file's.
// Both erase to `Setting`, the row the table is made of.

/// Whether a SIGHUP (re-reading the config file) applies a changed value.
public enum ReloadBehavior: String, Sendable {
    /// Applied at once (for example the log level; the model list: added models load, removed ones unload).
    case live
    /// Logged as "needs a restart" and not applied (socket, engine limits).
    case restart
}

/// One daemon setting, type-erased (see `SettingSpec` and `SettingList`).
public struct Setting: Sendable {
    /// The config-file key (`kv_cache_mib`).
    public let key: String
    /// The placeholder in `--help` (`--kv-cache-mib <mib>`).
    public let valueName: String
    /// One line for `--help`.
    public let help: String
    /// What values are accepted, in words (`0...16777216`, `yes or no`).
    public let accepted: String
    public let reload: ReloadBehavior
    /// True for `model`: each occurrence adds a value.
    public let repeatable: Bool
    /// The default as config-file text (`1024`, `no`); nil when there is none (`model`).
    public let defaultText: String?

    /// Checks one value's text (already trimmed).
    let validate: @Sendable (String) throws(SettingValueError) -> Void
    /// Parses `values` (one for a single setting, every occurrence for a list) into `config`.
    let assign: @Sendable ([String], inout DaemonConfig) throws(SettingValueError) -> Void
    /// True when the two configurations hold different values of this setting.
    let differs: @Sendable (DaemonConfig, DaemonConfig) -> Bool
    /// Copies this setting's value from the first configuration into the second.
    let copy: @Sendable (DaemonConfig, inout DaemonConfig) -> Void

    /// The command-line option (`kv_cache_mib` → `--kv-cache-mib`).
    public var option: String { Setting.option(forKey: key) }

    /// `--` + the key with `_` → `-`.
    public static func option(forKey key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }
}

/// A single-valued setting stored at `path` in `DaemonConfig`, whose initial value is `defaultValue`.
public struct SettingSpec<Value: Sendable & Equatable>: Sendable {
    public let key: String
    public let type: SettingType<Value>
    public let defaultValue: Value
    public let reload: ReloadBehavior
    public let valueName: String
    public let help: String
    let path: WritableKeyPath<DaemonConfig, Value> & Sendable

    public init(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, Value> & Sendable, _ type: SettingType<Value>,
        default defaultValue: Value, reload: ReloadBehavior, valueName: String, help: String
    ) {
        self.key = key
        self.path = path
        self.type = type
        self.defaultValue = defaultValue
        self.reload = reload
        self.valueName = valueName
        self.help = help
    }

    /// This setting as a table row.
    public var setting: Setting {
        let (type, path) = (self.type, self.path)
        return Setting(
            key: key, valueName: valueName, help: help, accepted: type.accepted, reload: reload,
            repeatable: false, defaultText: type.format(defaultValue),
            validate: { v throws(SettingValueError) in _ = try type.parse(v) },
            assign: { values, config throws(SettingValueError) in
                if let last = values.last { config[keyPath: path] = try type.parse(last) }
            },
            differs: { $0[keyPath: path] != $1[keyPath: path] },
            copy: { from, to in to[keyPath: path] = from[keyPath: path] })
    }
}

/// A repeatable setting stored as an array at `path` in `DaemonConfig` (empty by default).
public struct SettingList<Element: Sendable & Equatable>: Sendable {
    public let key: String
    public let type: SettingType<Element>
    public let reload: ReloadBehavior
    public let valueName: String
    public let help: String
    let path: WritableKeyPath<DaemonConfig, [Element]> & Sendable

    public init(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, [Element]> & Sendable, _ type: SettingType<Element>,
        reload: ReloadBehavior, valueName: String, help: String
    ) {
        self.key = key
        self.path = path
        self.type = type
        self.reload = reload
        self.valueName = valueName
        self.help = help
    }

    /// The initial value: none.
    public var defaultValue: [Element] { [] }

    /// This setting as a table row.
    public var setting: Setting {
        let (type, path) = (self.type, self.path)
        return Setting(
            key: key, valueName: valueName, help: help, accepted: type.accepted, reload: reload,
            repeatable: true, defaultText: nil,
            validate: { v throws(SettingValueError) in _ = try type.parse(v) },
            assign: { values, config throws(SettingValueError) in
                var parsed: [Element] = []
                for v in values { parsed.append(try type.parse(v)) }
                config[keyPath: path] = parsed
            },
            differs: { $0[keyPath: path] != $1[keyPath: path] },
            copy: { from, to in to[keyPath: path] = from[keyPath: path] })
    }
}
