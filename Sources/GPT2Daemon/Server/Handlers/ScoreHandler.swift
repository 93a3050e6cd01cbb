// score — mapped to an engine ScoringRequest and handed to the engine; one result or error.
import GPT2Wire

struct ScoreHandler: RequestHandler {
    let op = ScoreRequest.op
    func handle(_ request: IncomingRequest) throws(WireError) {
        let r = try request.decode(ScoreRequest.self)
        let sink = request.sink
        request.server.engine.score(ScoringRequest(r), key: request.jobKey, client: request.client) { result in
            switch result {
            case .success(let res): sink.result(res) { ScoreResponse($0) }
            case .failure(let e): sink.error(WireError(e))
            }
        }
    }
}
