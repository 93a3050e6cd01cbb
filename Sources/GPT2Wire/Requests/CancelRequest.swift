// cancel — stop an in-flight request sent earlier on the same connection.

import GPT2JSON

public struct CancelRequest: WireRequest {
    public typealias Response = CancelResponse
    public static let op = "cancel"

    /// The "id" of the request to cancel (string or number, compared exactly).
    public var targetID: RequestID

    public static let wireDefaults = CancelRequest(targetID: 0)
    public static let wireFields: [WireField<Self>] = [.required("target_id", \.targetID, .requestID)]

    public init(targetID: RequestID) { self.targetID = targetID }
}
