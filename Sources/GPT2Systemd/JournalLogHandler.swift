// JournalLogHandler — structured log entries to systemd-journald via sd_journal_sendv(3).
//
// `sd_journal_send` is C-variadic and does not import into Swift; `sd_journal_sendv` takes an array of
// `iovec`, each one `FIELD=value`. Every entry carries:
//
//     MESSAGE=…            the message
//     PRIORITY=0…7         syslog priority from Logger.Level (JournalPriority.of)
//     SYSLOG_IDENTIFIER=   "gpt2d" (what `journalctl -t gpt2d` filters on)
//     CODE_FILE= CODE_LINE= CODE_FUNC=   the call site
//     LOGGER_LABEL=        the swift-log label
//     ERROR=               when the event carries an error
//     <METADATA KEY>=      each metadata entry, the key sanitised by JournalField.name(forMetadataKey:)
//
// Values may contain newlines (libsystemd switches to the binary field encoding itself).
// If sending fails (negative errno, e.g. EPERM from a seccomp filter or EMSGSIZE), the line goes to
// stderr with a `<N>` priority prefix instead, which journald understands if stderr is its stream.
// Note: when the journal socket does not exist at all, libsystemd returns 0 and drops the entry;
// GPT2Logging therefore only selects this handler when /run/systemd/journal/socket exists.

import CSystemd
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Maps swift-log levels to syslog priorities (the journal's `PRIORITY=` field, `<N>` prefixes).
public enum JournalPriority {
    /// trace/debug → 7 (debug), info → 6, notice → 5, warning → 4, error → 3, critical → 2 (crit).
    public static func of(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}

/// Journal field names.
public enum JournalField {
    /// Fields this handler writes itself; metadata keys that sanitise to one of them get a `META_` prefix
    /// so metadata cannot overwrite the message or priority.
    public static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
        "LOGGER_LABEL", "ERROR", "MESSAGE_ID", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP",
    ]

    /// The longest field name journald accepts.
    public static let maximumLength = 64

    /// A valid journal field name for a swift-log metadata key, or nil when nothing usable remains.
    ///
    /// journald accepts `[A-Z0-9_]`, not starting with `_` (trusted fields) nor with a digit, at most
    /// 64 characters. So: ASCII letters are uppercased, every other character outside `[A-Z0-9_]`
    /// becomes `_`, leading underscores are dropped, a leading digit gets an `F_` prefix, reserved names
    /// get a `META_` prefix, and the result is cut to 64 characters.
    /// Examples: `request-id` → `REQUEST_ID`, `_pid` → `PID`, `2fa` → `F_2FA`, `message` → `META_MESSAGE`.
    public static func name(forMetadataKey key: String) -> String? {
        var chars: [UInt8] = []
        chars.reserveCapacity(key.utf8.count)
        for scalar in key.unicodeScalars {
            switch scalar.value {
            case 0x61...0x7A: chars.append(UInt8(scalar.value - 0x20))  // a-z → A-Z
            case 0x41...0x5A, 0x30...0x39, 0x5F: chars.append(UInt8(scalar.value))  // A-Z 0-9 _
            default: chars.append(0x5F)  // anything else → _
            }
        }
        let firstKept = chars.firstIndex(where: { $0 != 0x5F }) ?? chars.endIndex
        chars.removeSubrange(chars.startIndex..<firstKept)
        guard !chars.isEmpty else { return nil }
        var name = String(decoding: chars, as: UTF8.self)
        if let first = chars.first, (0x30...0x39).contains(first) { name = "F_" + name }
        if reserved.contains(name) { name = "META_" + name }
        if name.utf8.count > maximumLength { name = String(name.prefix(maximumLength)) }
        return name
    }
}

/// Sends every message to the journal as a structured entry.
public struct JournalLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// `SYSLOG_IDENTIFIER=` value.
    public let identifier: String
    private var fallback: StderrLogHandler

    public init(
        label: String,
        logLevel: Logger.Level = .info,
        identifier: String = "gpt2d",
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = logLevel
        self.identifier = identifier
        self.metadataProvider = metadataProvider
        self.fallback = StderrLogHandler(label: label, logLevel: logLevel, priorityPrefix: true)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = LogMetadataMerge.merge(handler: metadata, provider: metadataProvider, event: event.metadata)
        let fields = Self.fields(
            level: event.level,
            message: event.message.description,
            metadata: merged,
            error: event.error.map { String(describing: $0) },
            label: label,
            identifier: identifier,
            file: event.file,
            function: event.function,
            line: event.line
        )
        if Self.send(fields) < 0 {
            var fallbackEvent = event
            fallbackEvent.metadata = merged
            var handler = fallback
            handler.metadata = [:]
            handler.metadataProvider = nil
            handler.log(event: fallbackEvent)
        }
    }

    /// The `FIELD=value` strings of one entry, in the order they are sent. Pure.
    public static func fields(
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata,
        error: String? = nil,
        label: String,
        identifier: String = "gpt2d",
        file: String,
        function: String,
        line: UInt
    ) -> [String] {
        var fields = [
            "MESSAGE=" + message,
            "PRIORITY=\(JournalPriority.of(level))",
            "SYSLOG_IDENTIFIER=" + identifier,
            "CODE_FILE=" + file,
            "CODE_LINE=\(line)",
            "CODE_FUNC=" + function,
            "LOGGER_LABEL=" + label,
        ]
        if let error { fields.append("ERROR=" + error) }
        // Sorted for a stable order. Keys that sanitise to the same name become repeated fields
        // (journald keeps every value); keys with no usable character are dropped.
        for key in metadata.keys.sorted() {
            guard let name = JournalField.name(forMetadataKey: key) else { continue }
            fields.append(name + "=" + metadata[key]!.description)
        }
        return fields
    }

    /// Sends the fields with `sd_journal_sendv`. Returns 0 on success (or when libsystemd silently drops
    /// the entry because the journal socket does not exist) or a negative errno.
    @discardableResult
    public static func send(_ fields: [String]) -> Int32 {
        // One contiguous buffer; each iovec points into it.
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.utf8)
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { raw -> Int32 in
            var vectors = ranges.map { range in
                iovec(iov_base: raw.baseAddress.map { $0 + range.lowerBound }, iov_len: range.count)
            }
            return vectors.withUnsafeMutableBufferPointer { iov in
                sd_journal_sendv(iov.baseAddress, Int32(iov.count))
            }
        }
    }
}
