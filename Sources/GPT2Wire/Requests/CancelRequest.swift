// cancel — stop an in-flight request sent earlier on the same connection.

import GPT2JSON

public struct CancelRequest: WireRequest {
    public typealias Response = CancelResponse
    public static let op = "cancel"

    /// The "id" of the request to cancel (string or number, compared exactly).
    public var targetID: RequestID

    public init(targetID: RequestID) { self.targetID = targetID }

    public init(from body: JSONObject) throws(WireError) {
        guard let t = try FieldReader(body).optionalRequestID("target_id") else { throw .missingField("target_id") }
        targetID = t
    }

    public func json() -> JSONObject { ["target_id": targetID.json] }
}
