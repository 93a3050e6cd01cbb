// session.info — one of the caller's sessions.
import GPT2Wire

struct SessionInfoHandler: RequestHandler {
    let op = SessionInfoRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionInfoRequest.self)
        let s = try mappingErrors { () throws(EngineError) in try request.server.engine.sessions.info(r.session, owner: request.client.principal) }
        request.sink.result(SessionInfo(s))
    }
}
