// ProtocolVersion — the wire protocol's version and fixed limits (see PROTOCOL.md).

/// Protocol v1 constants shared by the daemon and clients.
public enum ProtocolVersion {
    /// The protocol version spoken by this module; reported by `health`.
    public static let current = 1
    /// Default longest request line accepted, in bytes, excluding the newline.
    public static let defaultMaxLineBytes = 1 << 20
    /// Deepest array/object nesting accepted in a request line.
    public static let maxDepth = 32
}
