// GPT2Client+Models — the ops that change which models the daemon serves (root and the daemon's
// `admin_group` only; anyone else gets `GPT2ClientError.daemon` with code `forbidden`).

import GPT2Wire

extension GPT2Client {
    /// `models.load`: serve the checkpoint in `directory` (a path on the daemon's machine) as `name`;
    /// answers once it serves (loading takes seconds; give a `timeout` long enough, or none).
    /// - Parameters:
    ///   - weightType: "float32", "bfloat16", "float16", "int8", "nf4", "q4" or "checkpoint"; nil: the
    ///     daemon's `weight_type`.
    ///   - keepAliveSeconds: unused this long, the model is unloaded and loaded again at its next
    ///     request; nil: served until unloaded.
    /// Errors: `model_exists`, `model_load_failed` (`field` "directory"), `invalid_field`.
    public func modelsLoad(name: String, directory: String, weightType: String? = nil, keepAliveSeconds: Double? = nil,
                           timeout: Duration? = nil) async throws -> ModelLoadResponse {
        try await send(ModelsLoadRequest(name: name, directory: directory, weightType: weightType,
                                         keepAliveSeconds: keepAliveSeconds), timeout: timeout)
    }

    /// `models.unload`: stop serving `name`; its running requests may run for `drainTimeoutSeconds`
    /// (0…3600; nil: the daemon's `drain_timeout_s`), then end with `model_unavailable`. Answers once its
    /// memory is given back. Errors: `unknown_model`, `model_unavailable` (being loaded or unloaded).
    public func modelsUnload(_ name: String, drainTimeoutSeconds: Double? = nil,
                             timeout: Duration? = nil) async throws -> ModelUnloadResponse {
        try await send(ModelsUnloadRequest(name: name, drainTimeoutSeconds: drainTimeoutSeconds), timeout: timeout)
    }
}
