// Journal field sanitising, priority mapping, journal entry fields, stderr line format, destination choice.

@testable import GPT2Systemd
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct JournalFieldTests {
    @Test(arguments: [
        ("request_id", "REQUEST_ID"),
        ("request-id", "REQUEST_ID"),
        ("Model.Name", "MODEL_NAME"),
        ("kv cache MiB", "KV_CACHE_MIB"),
        ("_pid", "PID"),
        ("__SYSTEMD_UNIT", "SYSTEMD_UNIT"),
        ("2fa", "F_2FA"),
        ("_9lives", "F_9LIVES"),
        ("größe", "GR__E"),
        ("message", "META_MESSAGE"),
        ("PRIORITY", "META_PRIORITY"),
        ("code_file", "META_CODE_FILE"),
        ("session", "SESSION"),
    ])
    func sanitisesMetadataKeys(key: String, expected: String) {
        #expect(JournalField.name(forMetadataKey: key) == expected)
    }

    @Test func dropsKeysWithNothingUsable() {
        #expect(JournalField.name(forMetadataKey: "") == nil)
        #expect(JournalField.name(forMetadataKey: "___") == nil)
        #expect(JournalField.name(forMetadataKey: "-") == nil)
    }

    @Test func resultIsAlwaysAValidJournalFieldName() {
        let keys = ["a", "_x", "0", "ä-ö", String(repeating: "k", count: 100), "x y\nz", "🙂key", "META_MESSAGE"]
        for key in keys {
            guard let name = JournalField.name(forMetadataKey: key) else { continue }
            #expect(!name.isEmpty && name.utf8.count <= 64, "\(key) → \(name)")
            #expect(name.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }, "\(key) → \(name)")
            #expect(name.first != "_", "\(key) → \(name)")
            #expect(!(name.first?.isNumber ?? false), "\(key) → \(name)")
        }
        #expect(JournalField.name(forMetadataKey: String(repeating: "k", count: 100)) == String(repeating: "K", count: 64))
    }
}

@Suite struct JournalPriorityTests {
    @Test func mapsLevelsToSyslogPriorities() {
        #expect(JournalPriority.of(.trace) == 7)
        #expect(JournalPriority.of(.debug) == 7)
        #expect(JournalPriority.of(.info) == 6)
        #expect(JournalPriority.of(.notice) == 5)
        #expect(JournalPriority.of(.warning) == 4)
        #expect(JournalPriority.of(.error) == 3)
        #expect(JournalPriority.of(.critical) == 2)
    }
}

@Suite struct JournalEntryTests {
    @Test func fieldsInOrderWithSanitisedMetadata() {
        let fields = JournalLogHandler.fields(
            level: .warning,
            message: "session evicted\nsecond line",
            metadata: ["session": "s-42", "request-id": "7", "_uid": "0", "message": "spoof"],
            error: "ENOMEM",
            label: "gpt2d.sessions",
            file: "GPT2Daemon/Sessions/SessionStore.swift",
            function: "evict(_:)",
            line: 88
        )
        #expect(fields == [
            "MESSAGE=session evicted\nsecond line",
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=gpt2d",
            "CODE_FILE=GPT2Daemon/Sessions/SessionStore.swift",
            "CODE_LINE=88",
            "CODE_FUNC=evict(_:)",
            "LOGGER_LABEL=gpt2d.sessions",
            "ERROR=ENOMEM",
            "UID=0",
            "META_MESSAGE=spoof",
            "REQUEST_ID=7",
            "SESSION=s-42",
        ])
    }

    @Test func nestedMetadataIsRendered() {
        let fields = JournalLogHandler.fields(
            level: .info, message: "m", metadata: ["tokens": ["1", "2"], "limits": ["max": "64"]],
            label: "l", identifier: "gpt2d-test", file: "f", function: "g", line: 1
        )
        #expect(fields.contains("SYSLOG_IDENTIFIER=gpt2d-test"))
        #expect(fields.contains(#"TOKENS=["1", "2"]"#))
        #expect(fields.contains(#"LIMITS=["max": "64"]"#))
    }

}

@Suite struct StderrFormatTests {
    @Test func plainLineWithTimestampAndSortedMetadata() {
        let line = StderrLogHandler.formatLine(
            level: .info, label: "gpt2d", message: "model loaded",
            metadata: ["model": "gpt2", "bytes": "497759232"],
            timestamp: "2026-11-22T00:45:19.123Z", priorityPrefix: false
        )
        #expect(line == "2026-11-22T00:45:19.123Z info gpt2d: model loaded bytes=497759232 model=gpt2\n")
    }

    @Test func priorityPrefixWithoutTimestamp() {
        let line = StderrLogHandler.formatLine(
            level: .error, label: "gpt2d.server", message: "accept failed",
            metadata: [:], timestamp: nil, priorityPrefix: true
        )
        #expect(line == "<3>error gpt2d.server: accept failed\n")
        #expect(StderrLogHandler.formatLine(level: .trace, label: "x", message: "t", metadata: [:], timestamp: nil, priorityPrefix: true)
            .hasPrefix("<7>trace x: t"))
        #expect(StderrLogHandler.formatLine(level: .critical, label: "x", message: "c", metadata: [:], timestamp: nil, priorityPrefix: true)
            .hasPrefix("<2>critical x: c"))
    }

    @Test func oneLinePerMessageWithEscapesAndQuotes() {
        let line = StderrLogHandler.formatLine(
            level: .warning, label: "gpt2d", message: "bad request\nfrom client\tX",
            metadata: ["prompt": "Hello \"world\"\n", "empty": "", "path": "a=b", "plain": "ok"],
            timestamp: nil, priorityPrefix: false
        )
        #expect(line == #"warning gpt2d: bad request\nfrom client\tX empty="" path="a=b" plain=ok prompt="Hello \"world\"\n""# + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    @Test func timestampFormat() {
        #expect(StderrLogHandler.formatTimestamp(seconds: 0, milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(StderrLogHandler.formatTimestamp(seconds: 1_795_308_319, milliseconds: 123) == "2026-11-22T00:45:19.123Z")
        let now = StderrLogHandler.timestampNow()
        #expect(now.count == 24 && now.hasSuffix("Z"))
    }

    @Test func handlerMergesMetadataAndWritesToSink() {
        let sink = LineSink()
        var handler = StderrLogHandler(label: "gpt2d.test", logLevel: .debug, priorityPrefix: true, sink: { sink.write($0) })
        handler[metadataKey: "model"] = "gpt2"
        handler.metadata["session"] = "a"
        var logger = Logger(label: "gpt2d.test", factory: { _ in handler })
        logger.logLevel = .debug
        logger.info("started", metadata: ["session": "b"])
        logger.trace("filtered out by level")
        logger.debug("two\nlines")
        #expect(sink.lines == [
            "<6>info gpt2d.test: started model=gpt2 session=b\n",
            "<7>debug gpt2d.test: two\\nlines model=gpt2 session=a\n",
        ])
    }

    @Test func handlerAddsMetadataProviderValues() {
        let sink = LineSink()
        let provider = Logger.MetadataProvider { ["request": "r1"] }
        let handler = StderrLogHandler(label: "l", priorityPrefix: true, metadataProvider: provider, sink: { sink.write($0) })
        handler.log(event: LogEvent(level: .notice, message: "hi", metadata: ["x": "1"], source: "s", file: "f", function: "g", line: 1))
        #expect(sink.lines == ["<5>notice l: hi request=r1 x=1\n"])
    }
}

extension EnvironmentTests {
    /// These touch /run/systemd/journal/socket, so they run serialized with the other global-state tests.
    @Suite struct JournalSendTests {
        /// libsystemd drops entries silently (returns 0) when the journal socket does not exist — which
        /// is why GPT2Logging only picks the journal when the socket is there.
        @Test func sendSucceedsOrDropsSilently() {
            let r = JournalLogHandler.send(["MESSAGE=gpt2d test entry", "PRIORITY=7", "SYSLOG_IDENTIFIER=gpt2d-test"])
            if !GPT2Logging.isJournalSocketUsable() {
                #expect(r == 0)
            } else {
                #expect(r <= 0)
            }
        }

        /// End to end through libsystemd: a fake journald socket receives the native-protocol datagram.
        /// Runs only where no journal socket exists and /run/systemd/journal can be created (as here,
        /// in a container as root); the socket and any directories it created are removed afterwards.
        @Test(.enabled(if: FakeJournal.canInstall, "a journal socket exists or /run/systemd is not writable"))
        func nativeProtocolDatagram() throws {
            let journal = try FakeJournal()
            defer { journal.remove() }
            #expect(GPT2Logging.isJournalSocketUsable())

            var handler = JournalLogHandler(label: "gpt2d.test", logLevel: .trace, identifier: "gpt2d")
            handler[metadataKey: "session"] = "s-1"
            let logger = Logger(label: "gpt2d.test", factory: { _ in handler })
            logger.error("two\nlines", metadata: ["request-id": "7"])

            let datagram = try #require(journal.listener.receiveBytes())
            let fields = try #require(parseNativeJournal(datagram))
            #expect(fields["MESSAGE"] == ["two\nlines"])
            #expect(fields["PRIORITY"] == ["3"])
            #expect(fields["SYSLOG_IDENTIFIER"] == ["gpt2d"])
            #expect(fields["LOGGER_LABEL"] == ["gpt2d.test"])
            #expect(fields["SESSION"] == ["s-1"])
            #expect(fields["REQUEST_ID"] == ["7"])
            #expect(fields["CODE_FILE"]?.first?.hasSuffix("LoggingTests.swift") == true)
            #expect(fields["CODE_FUNC"]?.first?.hasPrefix("nativeProtocolDatagram") == true)
            #expect(fields["CODE_LINE"].flatMap { $0.first.flatMap(Int.init) } != nil)
        }
    }

    @Suite struct JournalStreamTests {
        @Test func parsesJournalStream() {
            #expect(GPT2Logging.journalStream("8:12345", matchesDevice: 8, inode: 12345))
            #expect(!GPT2Logging.journalStream("8:12345", matchesDevice: 8, inode: 12346))
            #expect(!GPT2Logging.journalStream("9:12345", matchesDevice: 8, inode: 12345))
            #expect(!GPT2Logging.journalStream(nil, matchesDevice: 8, inode: 12345))
            #expect(!GPT2Logging.journalStream("", matchesDevice: 0, inode: 0))
            #expect(!GPT2Logging.journalStream("8:12345:1", matchesDevice: 8, inode: 12345))
            #expect(!GPT2Logging.journalStream("x:y", matchesDevice: 0, inode: 0))
        }

        @Test func destinationNeedsMatchingStreamAndJournalSocket() {
            #expect(GPT2Logging.destination(stderrIsJournal: true, journalSocketUsable: true) == .journal)
            #expect(GPT2Logging.destination(stderrIsJournal: true, journalSocketUsable: false)
                == .standardError(priorityPrefix: true))
            #expect(GPT2Logging.destination(stderrIsJournal: false, journalSocketUsable: true)
                == .standardError(priorityPrefix: false))
            #expect(GPT2Logging.destination(stderrIsJournal: false, journalSocketUsable: false)
                == .standardError(priorityPrefix: false))
        }

        @Test func detectsStderrConnectedToJournal() throws {
            var st = stat()
            try #require(fstat(2, &st) == 0)
            let matching = "\(st.st_dev):\(st.st_ino)"
            let other = "\(st.st_dev):\(st.st_ino &+ 1)"
            withEnvironment(["JOURNAL_STREAM": matching]) {
                #expect(GPT2Logging.isConnectedToJournal())
                let expected: GPT2Logging.Destination = GPT2Logging.isJournalSocketUsable()
                    ? .journal : .standardError(priorityPrefix: true)
                #expect(GPT2Logging.detectDestination() == expected)
                #expect(GPT2Logging.makeHandler(label: "x", level: .info, destination: .journal) is JournalLogHandler)
            }
            withEnvironment(["JOURNAL_STREAM": other]) {
                #expect(!GPT2Logging.isConnectedToJournal())
                #expect(GPT2Logging.detectDestination() == .standardError(priorityPrefix: false))
            }
            withEnvironment(["JOURNAL_STREAM": nil]) {
                #expect(GPT2Logging.detectDestination() == .standardError(priorityPrefix: false))
                let handler = GPT2Logging.makeHandler(label: "x", level: .notice, destination: .standardError(priorityPrefix: false))
                #expect(handler is StderrLogHandler)
                #expect(handler.logLevel == .notice)
            }
        }
    }
}

final class LineSink: @unchecked Sendable {
    private let lock = PlatformLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func write(_ line: String) { lock.withLock { stored.append(line) } }
}

/// A datagram socket bound at /run/systemd/journal/socket, standing in for journald.
struct FakeJournal {
    static let directory = "/run/systemd/journal"

    static var canInstall: Bool {
        access(GPT2Logging.journalSocketPath, F_OK) != 0 && geteuid() == 0 && access("/run", W_OK) == 0
    }

    let listener: DatagramListener
    private let createdDirectories: [String]

    init() throws {
        var created: [String] = []
        for dir in ["/run/systemd", Self.directory] where access(dir, F_OK) != 0 {
            guard mkdir(dir, 0o755) == 0 else { throw TestFailure("mkdir \(dir): errno \(errno)") }
            created.append(dir)
        }
        createdDirectories = created
        do {
            listener = try DatagramListener(address: GPT2Logging.journalSocketPath)
        } catch {
            for dir in created.reversed() { rmdir(dir) }
            throw error
        }
    }

    func remove() {
        unlink(GPT2Logging.journalSocketPath)
        for dir in createdDirectories.reversed() { rmdir(dir) }
    }
}

/// Parses journald's native protocol: `NAME=value\n`, or `NAME\n<le64 length><value>\n` for values
/// with newlines. Returns nil on malformed input.
func parseNativeJournal(_ bytes: [UInt8]) -> [String: [String]]? {
    var fields: [String: [String]] = [:]
    var i = 0
    while i < bytes.count {
        guard let newline = bytes[i...].firstIndex(of: 0x0A) else { return nil }
        let line = bytes[i..<newline]
        if let eq = line.firstIndex(of: 0x3D) {  // "="
            let name = String(decoding: bytes[i..<eq], as: UTF8.self)
            fields[name, default: []].append(String(decoding: bytes[(eq + 1)..<newline], as: UTF8.self))
            i = newline + 1
        } else {
            let name = String(decoding: line, as: UTF8.self)
            var p = newline + 1
            guard p + 8 <= bytes.count else { return nil }
            var length = 0
            for k in 0..<8 { length |= Int(bytes[p + k]) << (8 * k) }
            p += 8
            guard p + length < bytes.count, bytes[p + length] == 0x0A else { return nil }
            fields[name, default: []].append(String(decoding: bytes[p..<(p + length)], as: UTF8.self))
            i = p + length + 1
        }
    }
    return fields
}
