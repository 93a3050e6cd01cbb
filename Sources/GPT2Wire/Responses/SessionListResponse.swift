// session.list result: {sessions: [SessionInfo]}.

import GPT2JSON

public struct SessionListResponse: WireResponse {
    public var sessions: [SessionInfo]

    public init(sessions: [SessionInfo]) { self.sessions = sessions }

    public init(from body: JSONObject) throws(WireError) {
        sessions = try FieldReader(body).objects("sessions") { (o) throws(WireError) in try SessionInfo(from: o) }
    }

    public func json() -> JSONObject { ["sessions": .array(sessions.map { .object($0.json()) })] }
}
