// InfoEndpoints — the small endpoints: `GET /v1/models`, `GET /v1/models/{id}` (OpenAI's model
// objects, with vLLM's `max_model_len`: n_positions, and gpt2d's `loaded`: false while keep_alive has
// the model unloaded — it is listed, as it can be asked for: the request loads it again), `GET /health` (200 while serving, 503 once the
// daemon drains: the daemon-wide `ServingState`, the same flag the JSON-lines `health` op reads) and
// `POST /v1/chat/completions`, which GPT-2 cannot serve (no chat template): a 400 that says so, and
// `GET /metrics`: the Prometheus text (DaemonMetrics) for root and members of `admin_group` (the
// `metrics` op's rule), 403 `forbidden` for anyone else.
import GPT2JSON

struct InfoEndpoints {
    let context: HTTPContext

    /// Serving models and those keep_alive unloaded, in the `models` op's order (the engine's listing).
    private var listed: [JSON] {
        context.engine.modelListing().map { m in
            .object([
                "id": .string(m.name), "object": "model", "created": .int(Int64(context.startedAt)), "owned_by": "gpt2d",
                "max_model_len": .int(Int64(m.nPositions)), "loaded": .bool(m.loaded ?? true),
            ])
        }
    }

    func models() -> HTTPAnswer {
        .json(.ok, .object(["object": "list", "data": .array(listed)]))
    }

    func model(_ id: String) -> HTTPAnswer {
        guard let m = listed.first(where: { $0["id"] == .string(id) }) else { return .error(.unknownModel(id)) }
        return .json(.ok, m)
    }

    func health() -> HTTPAnswer {
        context.serving.isDraining
            ? .json(.serviceUnavailable, .object(["status": "shutting_down"]))
            : .json(.ok, .object(["status": "ok"]))
    }

    func metrics() -> HTTPAnswer {
        guard StatsAccess.seesTotals(context.client.principal, policy: context.server.policy) else {
            return .error(OpenAIError(.forbidden, MetricsHandler.forbiddenMessage, code: "forbidden"))
        }
        return .text(.ok, contentType: MetricsExposition.contentType, context.server.metrics.exposition(server: context.server))
    }

    func chatCompletions() -> HTTPAnswer {
        .error(OpenAIError.invalid(
            "GPT-2 has no chat template, so gpt2d does not serve chat completions: send the text as 'prompt' to POST /v1/completions",
            param: nil, code: "chat_not_supported"))
    }
}
