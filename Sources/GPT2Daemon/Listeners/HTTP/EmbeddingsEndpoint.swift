// EmbeddingsEndpoint — `POST /v1/embeddings`: every input (a string, an array of strings, token ids
// or token-id arrays) is one sequence of one engine `hiddenStates` call (the same shared batches and
// the same pooling as the JSON-lines `embed` op: its defaults, last-token pooling, not normalized;
// gpt2d's extra fields `pooling` and `normalize` choose otherwise). `encoding_format` float (default)
// or base64 (little-endian float32, as OpenAI's SDK decodes it); `dimensions` is refused (GPT-2's
// hidden size is fixed). Texts are tokenized off the connection's event loop.
import Dispatch
import Foundation
import GPT2JSON
import GPT2Tasks

struct EmbeddingsEndpoint {
    let context: HTTPContext

    func answer(_ request: HTTPRequest) async -> HTTPAnswer {
        do {
            return .json(.ok, try await embed(request))
        } catch let e as OpenAIError {
            return .error(e)
        } catch {
            return .error(OpenAIError(.internalServerError, "\(error)", type: "server_error"))
        }
    }

    private func embed(_ request: HTTPRequest) async throws -> JSON {
        let f = try OpenAIFields(parsing: request.body)
        let name = try f.requiredString("model")
        guard let inputs = try f.prompts("input") else {
            throw OpenAIError.invalid("'input' is required", param: "input", code: "missing_field")
        }
        try f.refuse("dimensions", "GPT-2's embeddings have the model's hidden size; leave 'dimensions' out")
        let format = try f.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else { throw f.outOfRange("encoding_format", "\"float\" or \"base64\"") }
        let poolingName = try f.string("pooling") ?? EmbeddingPooling.last.rawValue
        guard let pooling = EmbeddingPooling(rawValue: poolingName) else { throw f.outOfRange("pooling", "\"last\" or \"mean\"") }
        let normalize = try f.bool("normalize") ?? false
        _ = try f.string("user")
        let model = try await context.model(name)
        let embedder = Embedder(config: model.model.config)

        // Tokenizing is CPU work: not on the event loop.
        let plans: [HiddenRequest] = try await withCheckedThrowingContinuation { c in
            DispatchQueue.global(qos: .userInitiated).async {
                do {
                    c.resume(returning: try inputs.map { p -> HiddenRequest in
                        let ids: [Int]
                        switch p {
                        case .text(let t): ids = model.tokenizer.encode(t)
                        case .tokens(let t): ids = t
                        }
                        return try embedder.request(ids: ids, pooling: pooling)
                    })
                } catch let e as TaskError {
                    c.resume(throwing: OpenAIError.invalid("'input': \(e.description)", param: "input",
                                                           code: { if case .inputTooLong = e { return "context_length_exceeded" }; return "invalid_value" }()))
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
        let sequences = plans.map { HiddenSequence(tokens: $0.tokens, rows: $0.rows) }
        let hidden = try await withCheckedThrowingContinuation { (c: CheckedContinuation<[[Float]], Error>) in
            context.engine.hiddenStates(model: name, sequences: sequences, key: context.jobKey, client: context.client,
                                        costField: "input") { result in
                c.resume(with: result.mapError { OpenAIError($0) })
            }
        }
        var data: [JSON] = []
        for (i, h) in hidden.enumerated() {
            let vector = embedder.finish(hidden: h, pooling: pooling, normalize: normalize)
            let encoded: JSON = format == "base64" ? .string(Self.base64(vector)) : .array(vector.map(JSON.float))
            data.append(.object(["object": "embedding", "index": .int(Int64(i)), "embedding": encoded]))
        }
        let tokens = plans.reduce(0) { $0 + $1.tokens.count }
        return .object([
            "object": "list", "data": .array(data), "model": .string(name),
            "usage": .object(["prompt_tokens": .int(Int64(tokens)), "total_tokens": .int(Int64(tokens))]),
        ])
    }

    /// The floats as little-endian float32 bytes, base64 (OpenAI's `encoding_format: base64`).
    static func base64(_ v: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(v.count * 4)
        for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }
}
