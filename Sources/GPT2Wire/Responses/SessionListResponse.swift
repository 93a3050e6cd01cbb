// session.list result: {sessions: [SessionInfo]}.

import GPT2JSON

public struct SessionListResponse: WireResponse {
    public var sessions: [SessionInfo]

    public static let wireDefaults = SessionListResponse(sessions: [])
    public static let wireFields: [WireField<Self>] = [.required("sessions", \.sessions, .array(of: .object(SessionInfo.self)))]

    public init(sessions: [SessionInfo]) { self.sessions = sessions }
}
