// cancel result: {target_id, cancelled}.

import GPT2JSON

public struct CancelResponse: WireResponse {
    public var targetID: RequestID
    /// True when a matching in-flight request was found and cancelled; false when none was (unknown id,
    /// or already finished). The cancelled request itself ends with a `cancelled` error line.
    public var cancelled: Bool

    public init(targetID: RequestID, cancelled: Bool) {
        self.targetID = targetID
        self.cancelled = cancelled
    }

    public init(from body: JSONObject) throws(WireError) {
        let r = FieldReader(body)
        guard let t = try r.optionalRequestID("target_id") else { throw .missingField("target_id") }
        targetID = t
        cancelled = try r.bool("cancelled")
    }

    public func json() -> JSONObject { ["target_id": targetID.json, "cancelled": .bool(cancelled)] }
}
