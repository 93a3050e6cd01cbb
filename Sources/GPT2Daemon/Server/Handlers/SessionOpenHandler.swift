// session.open — a new empty session owned by the peer's Unix user.
import GPT2Wire

struct SessionOpenHandler: RequestHandler {
    let op = SessionOpenRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionOpenRequest.self)
        let s = try mappingErrors { () throws(EngineError) in try request.server.engine.sessions.open(model: r.model, owner: request.client.principal) }
        request.sink.result(SessionInfo(s))
    }
}
