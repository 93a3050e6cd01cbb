// session.open — a new empty session owned by the peer's Unix user. With a state folder the reply
// waits until the session's row is written (a failed write: storage_unavailable, no session).
import GPT2Wire

struct SessionOpenHandler: RequestHandler {
    let op = SessionOpenRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionOpenRequest.self)
        let store = request.server.engine.sessions
        let (s, write) = try mappingErrors { () throws(EngineError) in try store.openWriting(model: r.model, owner: request.client.principal) }
        let sink = request.sink
        SessionStore.afterWrite(write) { failure in
            guard let failure else { return sink.result(SessionInfo(s)) }
            store.forgetFailedOpen(s.id)
            sink.error(WireError(failure))
        }
    }
}
