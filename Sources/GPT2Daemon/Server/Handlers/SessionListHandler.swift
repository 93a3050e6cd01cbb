// session.list — the caller's principal's sessions only, with its totals next to its quotas.
import GPT2Wire

struct SessionListHandler: RequestHandler {
    let op = SessionListRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(SessionListRequest.self)
        let store = request.server.engine.sessions, owner = request.client.principal
        request.sink.result(SessionListResponse(sessions: store.list(owner: owner).map { SessionInfo($0) },
                                                totals: SessionTotals(store.usage(owner: owner))))
    }
}
