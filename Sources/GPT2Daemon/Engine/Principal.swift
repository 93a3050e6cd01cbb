// Principal — who owns sessions and prompt-cache entries. A request on a Unix socket (JSON lines or
// HTTP) belongs to the peer's Unix user (SO_PEERCRED's uid). The key is the uid alone: PROTOCOL.md
// gives sessions to a Unix *user*, so the same user under another primary group (newgrp, sg) still
// reaches them. A request on the HTTP listener's loopback TCP socket belongs to the principal its
// bearer token names in the operator's token file (Listeners/HTTP/BearerTokens.swift). The engine
// only compares principals; a token principal and a Unix user never share anything.

public enum Principal: Sendable, Hashable, CustomStringConvertible {
    /// A local Unix user, by uid.
    case unixUser(uid: UInt32)
    /// A bearer token's principal (its name in `http_tokens_file`).
    case token(name: String)

    public var description: String {
        switch self {
        case .unixUser(let uid): return "uid \(uid)"
        case .token(let name): return "token principal '\(name)'"
        }
    }
}
