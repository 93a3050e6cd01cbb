// session.close — frees one of the caller's sessions. With a state folder the reply waits until its
// row is deleted (a failed delete: storage_unavailable, and the session is open again).
import GPT2Wire

struct SessionCloseHandler: RequestHandler {
    let op = SessionCloseRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(SessionCloseRequest.self)
        let store = request.server.engine.sessions
        let (closed, write) = try mappingErrors { () throws(EngineError) in try store.closeWriting(r.session, owner: request.client.principal) }
        let sink = request.sink
        SessionStore.afterWrite(write) { failure in
            guard let failure else { return sink.result(SessionCloseResponse(session: closed.id)) }
            store.reopenAfterFailedClose(closed)
            sink.error(WireError(failure))
        }
    }
}
