// StderrLogHandler — one line per log message on stderr (daemon(7): "log to stderr").
//
// Line format (fields separated by one space; metadata sorted by key):
//
//     [<N>][2026-11-22T00:45:19.123Z ]LEVEL LABEL: MESSAGE[ key=value …]
//
// * `<N>` — the syslog priority (`<6>` for info …) when `priorityPrefix` is on. journald parses it
//   from a stream connected to it (`SyslogLevelPrefix=yes`, the default), so it is used when stderr is
//   the journal but the native journal socket is unusable. The timestamp is then left out too
//   (journald stamps every line itself).
// * The timestamp is UTC with milliseconds, only when `priorityPrefix` is off.
// * Newlines, CRs and tabs in the message are escaped (`\n`, `\r`, `\t`) so one call is one line.
//   Metadata values are quoted (`key="a b"`) when empty or containing spaces, quotes, `=`, `\`
//   or control characters.

import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Writes each message as one line to stderr (or to an injected sink).
public struct StderrLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Prefix lines with `<N>` syslog priorities (and drop the timestamp) for journald's stream parser.
    public let priorityPrefix: Bool
    private let sink: @Sendable (String) -> Void

    /// - Parameters:
    ///   - sink: receives each complete line including its trailing `\n`; defaults to a locked
    ///     single `write(2)` on fd 2.
    public init(
        label: String,
        logLevel: Logger.Level = .info,
        priorityPrefix: Bool = false,
        metadataProvider: Logger.MetadataProvider? = nil,
        sink: @escaping @Sendable (String) -> Void = StderrLogHandler.writeToStandardError
    ) {
        self.label = label
        self.logLevel = logLevel
        self.priorityPrefix = priorityPrefix
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = LogMetadataMerge.merge(handler: metadata, provider: metadataProvider, event: event.metadata)
        if let error = event.error { merged["error"] = .string(String(describing: error)) }
        let line = Self.formatLine(
            level: event.level,
            label: label,
            message: event.message.description,
            metadata: merged,
            timestamp: priorityPrefix ? nil : Self.timestampNow(),
            priorityPrefix: priorityPrefix
        )
        sink(line)
    }

    /// Formats one log line (with trailing `\n`). Pure; see the file header for the format.
    public static func formatLine(
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata,
        timestamp: String?,
        priorityPrefix: Bool
    ) -> String {
        var line = ""
        if priorityPrefix { line += "<\(JournalPriority.of(level))>" }
        if let timestamp { line += timestamp + " " }
        line += level.rawValue + " " + label + ": " + escapeMessage(message)
        for key in metadata.keys.sorted() {
            line += " " + escapeMessage(key) + "=" + quoteValue(metadata[key]!.description)
        }
        line += "\n"
        return line
    }

    /// `text` with `\`-escapes for newline, carriage return and tab (one message stays one line).
    static func escapeMessage(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\t" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `value` as is when it is a plain token, else double-quoted with `\"`, `\\`, `\n`, `\r`, `\t`, `\u{…}` escapes.
    static func quoteValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func timestampNow() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return formatTimestamp(seconds: Int(ts.tv_sec), milliseconds: Int(ts.tv_nsec / 1_000_000))
    }

    /// Formats a Unix time as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
    public static func formatTimestamp(seconds: Int, milliseconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
            + "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
            + "." + pad(Int32(milliseconds), 3) + "Z"
    }

    /// Writes `line` to fd 2 with as few `write(2)` calls as possible, serialised across threads.
    @Sendable
    public static func writeToStandardError(_ line: String) {
        stderrLock.withLock {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(2, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if Glibc.errno == EINTR { continue }
                        return
                    }
                    offset += n
                }
            }
        }
    }

    private static let stderrLock = PlatformLock()
}

/// Merges handler, provider and per-call metadata (later wins), as swift-log handlers conventionally do.
enum LogMetadataMerge {
    static func merge(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        event: Logger.Metadata?
    ) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get(), !provided.isEmpty {
            merged.merge(provided, uniquingKeysWith: { _, new in new })
        }
        if let event, !event.isEmpty {
            merged.merge(event, uniquingKeysWith: { _, new in new })
        }
        return merged
    }
}

/// A pthread mutex (no Foundation in this target). Used for short critical sections only.
final class PlatformLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
