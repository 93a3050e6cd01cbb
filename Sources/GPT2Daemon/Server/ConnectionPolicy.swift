// ConnectionPolicy — the rules connections of the socket listener live by that a reload may change:
// how long a connection may sit idle and how much unsent reply memory it may hold (taken when a
// connection is accepted), the reply memory of all connections together (read at each check) and
// who sees the daemon's totals in `stats` (read at each `stats`), and `models.unload`'s default drain
// time. Built from the daemon's settings
// (DaemonSettings), held by ServerState.

public struct ConnectionPolicy: Sendable, Equatable {
    /// A connection with no request in flight that sends nothing, and takes none of its replies,
    /// for this many seconds is closed (`connection_idle_timeout_s`); 0 = never.
    public var idleTimeoutSeconds: Double
    /// Root and this group's members see the totals in `stats` (`admin_group`); nil: root only.
    public var adminGroup: String?
    /// Bearer-token principals that see the totals as the group's members do (`admin_tokens`).
    public var adminTokens: Set<String>
    /// A connection's reply budget in bytes (`max_connection_reply_mib`): its requests not yet
    /// answered and written (their line sizes) plus the encoded reply being written. Over it, the
    /// connection's requests are not read until the client takes its replies.
    public var connectionReplyBytes: Int
    /// The same, summed over every connection (`max_reply_mib`). Over it, connections that have
    /// something of their own pending are not read; one with nothing pending may still send a request.
    public var totalReplyBytes: Int
    /// `models.unload`'s drain time when the request names none (`drain_timeout_s`), seconds.
    public var modelDrainSeconds: Double

    public init(idleTimeoutSeconds: Double = DaemonSettings.connectionIdleTimeout.defaultValue,
                adminGroup: String? = DaemonSettings.adminGroup.defaultValue,
                adminTokens: Set<String> = Set(DaemonSettings.adminTokens.defaultValue),
                connectionReplyBytes: Int = DaemonSettings.maxConnectionReplyMiB.defaultValue << 20,
                totalReplyBytes: Int = DaemonSettings.maxReplyMiB.defaultValue << 20,
                modelDrainSeconds: Double = DaemonSettings.drainTimeout.defaultValue) {
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.adminGroup = adminGroup
        self.adminTokens = adminTokens
        self.connectionReplyBytes = connectionReplyBytes
        self.totalReplyBytes = totalReplyBytes
        self.modelDrainSeconds = modelDrainSeconds
    }

    /// The policy the settings `c` describe.
    public init(_ c: DaemonConfig) {
        self.init(idleTimeoutSeconds: c.connectionIdleTimeoutSeconds, adminGroup: c.adminGroup, adminTokens: Set(c.adminTokens),
                  connectionReplyBytes: c.maxConnectionReplyMiB << 20, totalReplyBytes: c.maxReplyMiB << 20,
                  modelDrainSeconds: c.drainTimeoutSeconds)
    }
}
