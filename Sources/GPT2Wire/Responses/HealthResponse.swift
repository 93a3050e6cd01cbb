// health result: {status, protocol_version, uptime_seconds}.

import GPT2JSON

public struct HealthResponse: WireResponse {
    /// "ok" when serving; "shutting_down" while draining.
    public var status: String
    public var protocolVersion: Int
    public var uptimeSeconds: Double

    public static let wireDefaults = HealthResponse(uptimeSeconds: 0)
    public static let wireFields: [WireField<Self>] = [
        .required("status", \.status, .string),
        .required("protocol_version", \.protocolVersion, .int()),
        .required("uptime_seconds", \.uptimeSeconds, .number()),
    ]

    public init(status: String = "ok", protocolVersion: Int = ProtocolVersion.current, uptimeSeconds: Double) {
        self.status = status
        self.protocolVersion = protocolVersion
        self.uptimeSeconds = uptimeSeconds
    }
}
