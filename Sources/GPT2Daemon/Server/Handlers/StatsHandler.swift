// stats — engine counters plus the server's own (connections, requests and error lines): the
// daemon's totals for root and `admin_group`, the asking user's own counts for everyone else.
import GPT2Wire

struct StatsHandler: RequestHandler {
    let op = StatsRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        _ = try request.decode(StatsRequest.self)
        request.sink.result(request.server.statsResponse(for: request.client))
    }
}
