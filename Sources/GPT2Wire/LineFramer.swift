// LineFramer — newline-delimited framing of a byte stream, with a line-length limit.
//
// Bytes go in as they arrive (any chunking); complete lines come out without their "\n" (and without a
// "\r" just before it). Empty lines are skipped. A line longer than `maxLineBytes` produces one `.tooLong`
// as soon as that is known; the rest of it is dropped up to its newline, and framing resumes on the next
// line — the connection survives. No UTF-8 or JSON checks happen here (see `Envelope.parse`).

public struct LineFramer: Sendable {
    public enum Event: Sendable, Equatable {
        /// One complete line, terminator stripped, never empty.
        case line([UInt8])
        /// The current line exceeded the limit; reported once per such line.
        case tooLong
    }

    /// The longest line accepted, in bytes, not counting "\n" or a "\r" before it.
    public let maxLineBytes: Int
    private var partial: [UInt8] = []
    private var discarding = false

    public init(maxLineBytes: Int = ProtocolVersion.defaultMaxLineBytes) {
        precondition(maxLineBytes > 0)
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes of an unfinished line held so far.
    public var bufferedByteCount: Int { partial.count }

    /// Feeds one chunk; returns the events it completes, in order.
    public mutating func push(_ chunk: some Collection<UInt8>) -> [Event] {
        var events: [Event] = []
        var rest = chunk[...]
        while let nl = rest.firstIndex(of: 0x0A) {
            let piece = rest[..<nl]
            rest = rest[rest.index(after: nl)...]
            if discarding {
                discarding = false
                continue
            }
            partial.append(contentsOf: piece)
            if partial.last == 0x0D { partial.removeLast() }
            if partial.count > maxLineBytes {
                events.append(.tooLong)
            } else if !partial.isEmpty {
                events.append(.line(partial))
            }
            partial.removeAll(keepingCapacity: true)
        }
        if !discarding, !rest.isEmpty {
            partial.append(contentsOf: rest)
            // One byte of slack: a "\r" ending the line would not count.
            if partial.count > maxLineBytes + 1 {
                events.append(.tooLong)
                discarding = true
                partial.removeAll(keepingCapacity: false)
            }
        }
        return events
    }

    /// End of stream: a final line without "\n" is delivered (or reported too long); state is reset.
    public mutating func finish() -> [Event] {
        defer {
            partial.removeAll()
            discarding = false
        }
        if discarding { return [] }
        if partial.last == 0x0D { partial.removeLast() }
        if partial.count > maxLineBytes { return [.tooLong] }
        return partial.isEmpty ? [] : [.line(partial)]
    }

    /// The error line content for a `.tooLong` event.
    public var tooLongError: WireError {
        WireError(.lineTooLong, "request line longer than \(maxLineBytes) bytes; the line was discarded")
    }
}
