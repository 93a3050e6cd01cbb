// DaemonHelp — the text of `gpt2d --help`, rendered from the settings table: one option per setting with
// its placeholder, help line, accepted values, default and whether a SIGHUP applies it; the reload
// sentence names the table's live settings.

import GPT2Wire

public enum DaemonHelp {
    /// Width the help text is wrapped to.
    static let width = 80
    /// Column where option help starts.
    static let helpColumn = 30

    /// The whole `--help` text (ends with a newline).
    public static func text() -> String {
        let live = DaemonSettings.liveKeys.joined(separator: ", ")
        var out = "OVERVIEW: Serve GPT-2 models to local programs over a Unix socket "
            + "(JSON lines, protocol v\(ProtocolVersion.current)).\n\n"
        out += wrap("""
        Settings come from the config file (default \(DaemonConfig.defaultConfigPath), optional; see \
        systemd/gpt2d.conf.example); each option below overrides the file's key of the same name \
        (kv_cache_mib = N is --kv-cache-mib N). Under systemd the listening socket is taken from socket \
        activation (gpt2d.socket) and --socket is ignored. SIGHUP re-reads the config file (\(live) apply \
        live — models are loaded and unloaded; engine limits need a restart). SIGTERM/SIGINT drain in-flight requests and exit 0.
        """, indent: 0) + "\n"
        out += "USAGE: gpt2d [--config <file>] [--<option> <value> ...]\n\nOPTIONS:\n"
        out += option("\(DaemonCommandLine.configOption) <file>", "Config file (must exist when given).")
        for s in DaemonSettings.all {
            var facts = [s.accepted]
            if let d = s.defaultText { facts.append("default: \(d)") }
            if s.reload == .live { facts.append("SIGHUP applies it") }
            out += option("\(s.option) <\(s.valueName)>", "\(s.help) (\(facts.joined(separator: "; ")))")
        }
        out += option("--version", "Show the version.")
        out += option("-h, --help", "Show help information.")
        out += """

        EXIT STATUS:
          0  stopped cleanly (SIGTERM/SIGINT), or --help/--version
          1  usage or configuration error (bad option, bad config file, no model)
          2  a model failed to load
          3  the socket could not be bound or adopted: another daemon already serves on it ("already
             serving on <path>"), the path is not a socket or a stale socket of another uid, or its
             directory is writable by others without the sticky bit

        """
        return out
    }

    /// The usage line printed after a usage error.
    public static var usage: String {
        "Usage: gpt2d [--config <file>] [--<option> <value> ...]\n  See 'gpt2d --help' for more information."
    }

    /// `  name   help…` with the help wrapped at `width`, continuation lines at `helpColumn`.
    static func option(_ name: String, _ help: String) -> String {
        let head = "  " + name
        // A name too long for the column gets a line of its own.
        let pad = head.count < helpColumn
            ? String(repeating: " ", count: helpColumn - head.count)
            : "\n" + String(repeating: " ", count: helpColumn)
        return head + pad + wrap(help, indent: helpColumn).dropFirst(helpColumn)
    }

    /// `text` as lines of at most `width` characters (longer words stay whole), each indented by `indent`.
    static func wrap(_ text: String, indent: Int) -> String {
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty, indent + line.count + 1 + word.count > width {
                lines.append(margin + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(margin + line) }
        return lines.map { $0 + "\n" }.joined()
    }
}
