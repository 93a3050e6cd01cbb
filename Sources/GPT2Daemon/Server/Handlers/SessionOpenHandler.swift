// session.open — a new empty session owned by the caller's principal, or with `name` the caller's
// session of that name when it has one (`created: false`). With a state folder the reply waits until
// the new session's row is written (a failed write: storage_unavailable, no session).
import GPT2Wire

struct SessionOpenHandler: RequestHandler {
    let op = SessionOpenRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionOpenRequest.self)
        let store = request.server.engine.sessions
        let (s, created, write) = try mappingErrors { () throws(EngineError) in
            try store.openOrCreate(model: r.model, owner: request.client.principal, name: r.name, idleTimeout: r.idleTimeoutSeconds)
        }
        let sink = request.sink
        SessionStore.afterWrite(write) { failure in
            guard let failure else { return sink.result(SessionInfo(s, created: created)) }
            store.forgetFailedOpen(s.id)
            sink.error(WireError(failure))
        }
    }
}
