// ResponseSink — where one request's response lines go.
//
// A request ends with exactly one `result` or `error` line (PROTOCOL.md §2). The sink enforces that:
// after the final line, further lines are dropped (a late engine event after a cancel, say). Lines may
// be sent from any thread (the engine's compute thread, a tokenizer pool thread, the event loop); they
// are handed to the connection's ordered outbound queue without blocking, as typed values: the mapping
// of engine events to wire responses and the JSON encoding happen on the connection's writer task,
// never on the thread that produced the answer.

import GPT2JSON
import GPT2Wire

/// One request's reply channel. Thread-safe; the first final line wins.
public final class ResponseSink: Sendable {
    /// The request's id, echoed on every line.
    public let id: RequestID?
    private let connection: ConnectionOutput
    private let finished = Locked(false)
    /// The request line's size, counted against the connection's reply budget until the final line
    /// is written (the connection's writer gives it back then).
    let requestBytes: Int
    /// Told once, with the final line's error code (nil: a result): the listener's request metrics.
    private let onFinal: (@Sendable (WireErrorCode?) -> Void)?

    init(id: RequestID?, connection: ConnectionOutput, requestBytes: Int = 0,
         onFinal: (@Sendable (WireErrorCode?) -> Void)? = nil) {
        self.id = id
        self.connection = connection
        self.requestBytes = requestBytes
        self.onFinal = onFinal
    }

    /// True once a result or error was sent.
    public var isFinished: Bool { finished.withLock { $0 } }

    /// A non-final line (a streamed token). Dropped after the final line.
    public func token(_ event: TokenEvent) {
        guard !isFinished else { return }
        let id = self.id
        connection.send(OutgoingLine { ResponseLine.token(id: id, event) }, final: false, isError: false)
    }

    /// One event of an engine generation. It is queued as the engine's value: the mapping to the
    /// wire's token line or result (Mapping/GenerationMapping) runs with the encoding, on the writer.
    public func send(_ event: EngineEvent) {
        let id = self.id
        switch event {
        case .token(let t):
            guard !isFinished else { return }
            connection.send(OutgoingLine { ResponseLine.token(id: id, TokenEvent(t)) }, final: false, isError: false)
        case .result(let r):
            result(r) { GenerateResponse($0) }
        case .error(let e):
            error(WireError(e))
        }
    }

    /// The final `result` line for an engine result, mapped (`map`) and encoded on the writer.
    public func result<Value: Sendable, R: WireResponse>(_ value: Value, as map: @escaping @Sendable (Value) -> R) {
        guard markFinished(nil) else { return }
        let id = self.id
        connection.send(OutgoingLine(releasing: requestBytes) { ResponseLine.result(id: id, map(value)) }, final: true, isError: false)
    }

    /// The final `result` line.
    public func result<R: WireResponse>(_ response: R) {
        guard markFinished(nil) else { return }
        let id = self.id
        connection.send(OutgoingLine(releasing: requestBytes) { ResponseLine.result(id: id, response) }, final: true, isError: false)
    }

    /// The final `result` line from a raw body.
    public func result(body: JSONObject) {
        guard markFinished(nil) else { return }
        let id = self.id
        connection.send(OutgoingLine(releasing: requestBytes) { ResponseLine.result(id: id, body: body) }, final: true, isError: false)
    }

    /// The final `error` line.
    public func error(_ error: WireError) {
        guard markFinished(error.code) else { return }
        let id = self.id
        connection.send(OutgoingLine(releasing: requestBytes) { ResponseLine.error(id: id, error) }, final: true, isError: true)
    }

    /// True for the first final line (`code`: its error code, nil for a result), which `onFinal` hears of.
    private func markFinished(_ code: WireErrorCode?) -> Bool {
        let first = finished.withLock { done in
            if done { return false }
            done = true
            return true
        }
        if first { onFinal?(code) }
        return first
    }
}

/// One response line as it is queued: how to encode it (JSON + newline). The connection's writer
/// calls `encode` just before writing, so whichever thread produced the answer only captures values.
struct OutgoingLine: Sendable {
    let encode: @Sendable () -> [UInt8]
    /// Bytes of the connection's reply budget given back once this line is written (a final line
    /// releases its request's line size; other lines 0).
    let releasedBytes: Int
    init(releasing releasedBytes: Int = 0, _ encode: @escaping @Sendable () -> [UInt8]) {
        self.encode = encode
        self.releasedBytes = releasedBytes
    }
}

/// What a `ResponseSink` needs from its connection (the seam that lets handlers be tested without a socket).
protocol ConnectionOutput: Sendable {
    /// Queues one line. `final` marks the end of a request (in-flight count).
    func send(_ line: OutgoingLine, final: Bool, isError: Bool)
}
