// session.fork — a copy of one of the caller's idle sessions (history copied, KV cache shared
// copy-on-write). With a state folder the reply waits until the new row is written (a failed write:
// storage_unavailable, no new session; the source is never changed).
import GPT2Wire

struct SessionForkHandler: RequestHandler {
    let op = SessionForkRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionForkRequest.self)
        let store = request.server.engine.sessions
        let (s, write) = try mappingErrors { () throws(EngineError) in
            try store.forkWriting(r.session, owner: request.client.principal, name: r.name)
        }
        let sink = request.sink
        SessionStore.afterWrite(write) { failure in
            guard let failure else { return sink.result(SessionInfo(s, created: true)) }
            store.forgetFailedFork(s.id)
            sink.error(WireError(failure))
        }
    }
}
