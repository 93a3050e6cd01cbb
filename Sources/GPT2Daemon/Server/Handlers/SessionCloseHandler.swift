// session.close — frees one of the caller's sessions.
import GPT2Wire

struct SessionCloseHandler: RequestHandler {
    let op = SessionCloseRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionCloseRequest.self)
        let closed = try mappingErrors { () throws(EngineError) in try request.server.engine.sessions.close(r.session, owner: request.client.principal) }
        request.sink.result(SessionCloseResponse(session: closed.id))
    }
}
