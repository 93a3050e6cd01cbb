// Principal — who owns sessions and prompt-cache entries. Today every request arrives on the Unix
// socket and its principal is the peer's Unix user (SO_PEERCRED's uid). The key is the uid alone:
// PROTOCOL.md gives sessions to a Unix *user*, so the same user under another primary group
// (newgrp, sg) still reaches them. Another transport adds a case (an HTTP bearer token's subject,
// say) without changing the engine, which only compares principals.

public enum Principal: Sendable, Hashable, CustomStringConvertible {
    /// A local Unix user, by uid.
    case unixUser(uid: UInt32)

    public var description: String {
        switch self {
        case .unixUser(let uid): return "uid \(uid)"
        }
    }
}
