// gpt2d — the GPT-2 inference daemon's command line. The options are the settings table's
// (GPT2Daemon/Config/DaemonSettings.swift, parsed by DaemonCommandLine); everything else lives in
// GPT2Daemon (Daemon.main: config, socket activation, models, services, signals).

import Foundation
import GPT2Daemon
import GPT2Wire

@main
enum GPT2D {
    static let version = DaemonVersion.current

    /// Exit status 0 for --help/--version, 1 for a usage error, else what `Daemon.main` returns.
    static func main() async {
        let command: DaemonCommand
        do {
            command = try DaemonCommandLine.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("Error: \(error.message)\n\(DaemonHelp.usage)\n".utf8))
            exit(1)
        }
        switch command {
        case .help:
            FileHandle.standardOutput.write(Data(DaemonHelp.text().utf8))
        case .version:
            FileHandle.standardOutput.write(Data("gpt2d \(version) (protocol v\(ProtocolVersion.current))\n".utf8))
        case .run(let configPath, let overrides):
            exit(await Daemon.main(configPath: configPath, overrides: overrides))
        }
    }
}
