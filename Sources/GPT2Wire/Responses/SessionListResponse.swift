// session.list result: {sessions: [SessionInfo], totals: SessionTotals}. `totals` is optional on the
// wire (an older daemon does not send it); gpt2d always sends it.

import GPT2JSON

public struct SessionListResponse: WireResponse {
    public var sessions: [SessionInfo]
    public var totals: SessionTotals?

    public static let wireDefaults = SessionListResponse(sessions: [])
    public static let wireFields: [WireField<Self>] = [
        .required("sessions", \.sessions, .array(of: .object(SessionInfo.self))),
        .optional("totals", \.totals, .object(SessionTotals.self)),
    ]

    public init(sessions: [SessionInfo], totals: SessionTotals? = nil) { self.sessions = sessions; self.totals = totals }
}
