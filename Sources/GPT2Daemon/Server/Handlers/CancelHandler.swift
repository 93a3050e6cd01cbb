// cancel — stops an in-flight request of the same connection (matched by its id, exactly).
// The cancelled request ends with its own `cancelled` error line, sent by the engine; that line and
// this result may arrive in either order.
import GPT2Wire

struct CancelHandler: RequestHandler {
    let op = CancelRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(CancelRequest.self)
        let key = JobKey(connection: request.client.connection, id: r.targetID)
        let cancelled = request.server.engine.cancel(key)
        request.sink.result(CancelResponse(targetID: r.targetID, cancelled: cancelled))
    }
}
