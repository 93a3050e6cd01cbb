// health result: {status, protocol_version, uptime_seconds}.

import GPT2JSON

public struct HealthResponse: WireResponse {
    /// "ok" when serving; "shutting_down" while draining.
    public var status: String
    public var protocolVersion: Int
    public var uptimeSeconds: Double

    public init(status: String = "ok", protocolVersion: Int = ProtocolVersion.current, uptimeSeconds: Double) {
        self.status = status
        self.protocolVersion = protocolVersion
        self.uptimeSeconds = uptimeSeconds
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        status = try r.string("status")
        protocolVersion = try r.int("protocol_version")
        uptimeSeconds = try r.double("uptime_seconds")
    }

    public func json() -> JSONObject {
        ["status": .string(status), "protocol_version": .int(Int64(protocolVersion)),
         "uptime_seconds": .double(uptimeSeconds)]
    }
}
