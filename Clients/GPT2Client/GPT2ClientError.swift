// GPT2ClientError — every way a GPT2Client call can fail.

import GPT2Wire

/// An error thrown by `GPT2Client`.
///
/// A cancelled calling task throws `CancellationError` (and the daemon is told to stop the request).
public enum GPT2ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The daemon answered the request with an `error` line: its stable code, message and field.
    case daemon(WireError)
    /// The socket could not be connected: `errno` is the connect(2) error when there is one
    /// (`ENOENT` = no socket at `path`, `ECONNREFUSED` = nobody listening, `EACCES` = no permission).
    case connectionFailed(path: String, errno: Int32?, description: String)
    /// The connection ended (daemon stopped or crashed) before the request's final line arrived.
    case connectionClosed
    /// No final line within the request's timeout; the daemon was asked to cancel the request.
    case timeout
    /// The daemon sent something this client cannot read (malformed line, result of the wrong shape).
    case protocolViolation(String)
    /// The request line is longer than the daemon accepts (`maxRequestBytes`); it was not sent.
    case requestTooLarge(bytes: Int, limit: Int)

    /// The daemon's error code, when the daemon answered with an error.
    public var code: WireErrorCode? {
        if case .daemon(let e) = self { return e.code }
        return nil
    }

    public var description: String {
        switch self {
        case .daemon(let e):
            return e.field.map { "\(e.code.rawValue) (\($0)): \(e.message)" } ?? "\(e.code.rawValue): \(e.message)"
        case .connectionFailed(let path, _, let d): return "cannot connect to \(path): \(d)"
        case .connectionClosed: return "the connection to gpt2d closed before the answer arrived"
        case .timeout: return "timed out waiting for gpt2d"
        case .protocolViolation(let m): return "protocol violation: \(m)"
        case .requestTooLarge(let n, let limit): return "request line of \(n) bytes exceeds the limit of \(limit) bytes"
        }
    }
}
