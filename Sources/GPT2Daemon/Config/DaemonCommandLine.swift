// DaemonCommandLine — gpt2d's arguments, read from the settings table: every setting `key` is the option
// `--key-with-dashes <value>` (or `--key-with-dashes=<value>`), plus `--config <file>`, `--version` and
// `-h`/`--help`. A single setting given twice keeps the last value; `--model` may repeat.
//
// The values are not checked here: they become `ConfigOverrides` and are checked with the config file's
// values by the same table (an error names the option). `--help` is rendered from the table too
// (DaemonHelp.swift).

/// What the command line asks for.
public enum DaemonCommand: Sendable, Equatable {
    /// Run the daemon with this config file (nil: the default path) and these overrides.
    case run(configPath: String?, overrides: ConfigOverrides)
    case help
    case version
}

/// A command line that names no known option, lacks a value, or has a stray argument (exit status 1).
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum DaemonCommandLine {
    /// The option naming the config file (not a setting: it says where the settings are).
    static let configOption = "--config"

    /// Parses the arguments after the program name.
    public static func parse(_ arguments: [String]) throws(UsageError) -> DaemonCommand {
        if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) { return .help }
        if arguments.contains("--version") { return .version }
        var configPath: String?
        var overrides = ConfigOverrides()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("-") else { throw UsageError("Unexpected argument '\(argument)'") }
            let name: String
            var value: String?
            if let eq = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<eq])
                value = String(argument[argument.index(after: eq)...])
            } else {
                name = argument
            }
            // nil: `--config`, the one option that is not a setting.
            let setting: Setting?
            if name == configOption {
                setting = nil
            } else if let s = Self.setting(forOption: name) {
                setting = s
            } else {
                throw UsageError("Unknown option '\(name)'")
            }
            if value == nil {
                // The next argument is the value unless it is another long option (`--socket --model …`).
                guard let next = rest.first, !next.hasPrefix("--") else {
                    throw UsageError("Missing value for '\(name)'")
                }
                value = rest.removeFirst()
            }
            if let setting {
                overrides.set(setting.key, value)
            } else {
                configPath = value
            }
        }
        return .run(configPath: configPath, overrides: overrides)
    }

    /// The setting whose option is `option` (`--kv-cache-mib`).
    static func setting(forOption option: String) -> Setting? {
        DaemonSettings.all.first { $0.option == option }
    }
}
