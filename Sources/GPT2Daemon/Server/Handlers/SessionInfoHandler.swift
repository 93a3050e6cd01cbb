// session.info — one of the caller's sessions.
import GPT2Wire

struct SessionInfoHandler: RequestHandler {
    let op = SessionInfoRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionInfoRequest.self)
        request.sink.result(try request.server.engine.sessions.info(r.session, owner: request.client.uid))
    }
}
