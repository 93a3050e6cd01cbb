// GPT2Logging — chooses where gpt2d's swift-log output goes and bootstraps LoggingSystem once.
//
// systemd connects a service's stderr to journald and then sets `JOURNAL_STREAM=<st_dev>:<st_ino>`
// (decimal) of that stream (systemd.exec(5)). Because stderr may have been redirected since
// (`gpt2d 2>file` run from a unit's shell, or inherited by a child), the variable alone proves nothing:
// the journal is used only if fd 2's fstat() device and inode match it. Otherwise output is plain
// stderr lines with timestamps.
//
// libsystemd's sd_journal_sendv() returns 0 and silently drops the entry when the journal socket
// (/run/systemd/journal/socket) does not exist, so the native protocol is only chosen when it does;
// otherwise `<N>`-prefixed lines on the stream keep the priorities.
//
//   stderr is the journal stream, socket exists → JournalLogHandler (native fields; `<N>` lines on
//                                                 stderr if a send fails)
//   stderr is the journal stream, no socket     → StderrLogHandler with `<N>` prefixes, no timestamp
//   anything else                               → StderrLogHandler (timestamped lines)

import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Logging set-up for gpt2d.
public enum GPT2Logging {
    /// Where log messages go.
    public enum Destination: Sendable, Equatable {
        /// Structured entries via `sd_journal_sendv`.
        case journal
        /// One line per message on stderr; `priorityPrefix` adds `<N>` and drops the timestamp.
        case standardError(priorityPrefix: Bool)
    }

    /// True when `journalStream` (the `JOURNAL_STREAM` value, `"<dev>:<ino>"` in decimal) names the
    /// given device and inode. Pure.
    public static func journalStream(_ journalStream: String?, matchesDevice device: UInt64, inode: UInt64) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        return dev == device && ino == inode
    }

    /// True when file descriptor `fd` (default: stderr) is the stream `JOURNAL_STREAM` names.
    public static func isConnectedToJournal(fileDescriptor fd: Int32 = 2) -> Bool {
        guard let raw = getenv("JOURNAL_STREAM") else { return false }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        return journalStream(String(cString: raw), matchesDevice: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// journald's native-protocol socket.
    public static let journalSocketPath = "/run/systemd/journal/socket"

    /// True when `journalSocketPath` exists and is a socket.
    public static func isJournalSocketUsable() -> Bool {
        var st = stat()
        guard stat(journalSocketPath, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFSOCK
    }

    /// The destination for the given facts (pure; see the file header).
    public static func destination(stderrIsJournal: Bool, journalSocketUsable: Bool) -> Destination {
        guard stderrIsJournal else { return .standardError(priorityPrefix: false) }
        return journalSocketUsable ? .journal : .standardError(priorityPrefix: true)
    }

    /// The destination for this process: `destination(stderrIsJournal:journalSocketUsable:)` applied to
    /// `isConnectedToJournal()` and `isJournalSocketUsable()`.
    public static func detectDestination() -> Destination {
        destination(stderrIsJournal: isConnectedToJournal(), journalSocketUsable: isJournalSocketUsable())
    }

    /// A handler for `label` writing to `destination`.
    public static func makeHandler(
        label: String,
        level: Logger.Level,
        destination: Destination,
        identifier: String = "gpt2d"
    ) -> any LogHandler {
        switch destination {
        case .journal:
            return JournalLogHandler(label: label, logLevel: level, identifier: identifier)
        case .standardError(let priorityPrefix):
            return StderrLogHandler(label: label, logLevel: level, priorityPrefix: priorityPrefix)
        }
    }

    /// Bootstraps swift-log for the process with `detectDestination()`.
    ///
    /// Call once, early in `main`, before any `Logger` is created: swift-log allows one bootstrap per
    /// process (a second call traps). Returns the destination chosen, for a start-up log line.
    @discardableResult
    public static func bootstrap(level: Logger.Level = .info, identifier: String = "gpt2d") -> Destination {
        let destination = detectDestination()
        LoggingSystem.bootstrap { label in
            makeHandler(label: label, level: level, destination: destination, identifier: identifier)
        }
        return destination
    }
}
