// session.list — the caller's (its principal's: today its Unix user's) sessions only.
import GPT2Wire

struct SessionListHandler: RequestHandler {
    let op = SessionListRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(SessionListRequest.self)
        request.sink.result(SessionListResponse(sessions: request.server.engine.sessions.list(owner: request.client.principal).map(SessionInfo.init)))
    }
}
