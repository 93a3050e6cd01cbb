// ConfigLayer — the checked values of one configuration source (the config file, or the command line),
// and how layers combine into a DaemonConfig through swift-configuration.
//
// Each layer is checked against DaemonSettings while it is read, so an error names its own place
// (`path:line` or `--option`). The layers then become swift-configuration `InMemoryProvider`s and a
// `ConfigReader` over them, highest precedence first (command line, then file), answers each setting;
// what no layer gives keeps the table's default. A repeatable setting (`model`) is one array value per
// layer, so the command line's models replace the file's as a whole.

import Configuration

/// The checked raw values from one source, by setting key.
struct ConfigLayer: Sendable {
    /// Where the values come from (`/etc/gpt2d/gpt2d.conf`, `command line`), for provider names.
    let name: String
    /// key → every value given, in order (single settings keep only their last).
    private(set) var values: [String: [String]] = [:]

    init(name: String) { self.name = name }

    /// Adds one checked value (`setting.validate` already passed).
    mutating func add(_ setting: Setting, _ value: String) {
        if setting.repeatable {
            values[setting.key, default: []].append(value)
        } else {
            values[setting.key] = [value]
        }
    }

    /// The layer as a swift-configuration provider: a string per single setting, a string array per list.
    var provider: InMemoryProvider {
        var contents: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, vs) in values {
            guard let setting = DaemonSettings.setting(forKey: key), let last = vs.last else { continue }
            let content: ConfigContent = setting.repeatable ? .stringArray(vs) : .string(last)
            contents[AbsoluteConfigKey([key])] = ConfigValue(content, isSecret: false)
        }
        return InMemoryProvider(name: name, values: contents)
    }

    /// The table's defaults overlaid with `layers` (first = highest precedence).
    static func resolve(_ layers: [ConfigLayer]) throws(ConfigError) -> DaemonConfig {
        var config = DaemonConfig()
        guard !layers.isEmpty else { return config }
        let reader = ConfigReader(providers: layers.map(\.provider))
        for setting in DaemonSettings.all {
            let key = ConfigKey([setting.key])
            let found: [String]?
            if setting.repeatable {
                found = reader.stringArray(forKey: key)
            } else {
                found = reader.string(forKey: key).map { [$0] }
            }
            guard let found else { continue }
            do {
                try setting.assign(found, &config)
            } catch {
                // Unreachable for checked layers; kept as an error rather than a crash.
                throw ConfigError(setting.key, "\(error.message), got '\(found.joined(separator: ", "))'")
            }
        }
        return config
    }
}
