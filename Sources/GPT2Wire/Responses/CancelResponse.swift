// cancel result: {target_id, cancelled}.

import GPT2JSON

public struct CancelResponse: WireResponse {
    public var targetID: RequestID
    /// True when a matching in-flight request was found and cancelled; false when none was (unknown id,
    /// or already finished). The cancelled request itself ends with a `cancelled` error line.
    public var cancelled: Bool

    public static let wireDefaults = CancelResponse(targetID: 0, cancelled: false)
    public static let wireFields: [WireField<Self>] = [
        .required("target_id", \.targetID, .requestID),
        .required("cancelled", \.cancelled, .bool),
    ]

    public init(targetID: RequestID, cancelled: Bool) {
        self.targetID = targetID
        self.cancelled = cancelled
    }
}
