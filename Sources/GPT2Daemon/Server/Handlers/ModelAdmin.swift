// ModelAdmin — what models.load and models.unload share: only root, members of `admin_group` and the
// token principals of `admin_tokens` may change what the daemon serves (StatsAccess's rule, as for
// `metrics`); everyone else gets `forbidden`.
import GPT2Core
import GPT2Wire

enum ModelAdmin {
    /// The refusal's message.
    static let forbiddenMessage = "models.load and models.unload change what the daemon serves: only root, members of admin_group and admin_tokens principals may use them"

    /// Throws `forbidden` unless the caller is root, in `admin_group` or an `admin_tokens` principal.
    static func requireAdmin(_ request: IncomingRequest) throws(WireError) {
        guard StatsAccess.seesTotals(request.client.principal, policy: request.server.policy) else {
            throw WireError(.forbidden, forbiddenMessage)
        }
    }

    /// `weight_type`'s value: nil or "checkpoint" → nil (the daemon's `weight_type`, as a config entry
    /// without `:TYPE`), else a WeightType name.
    static func weightType(_ text: String?) throws(WireError) -> WeightType? {
        guard let text, text != "checkpoint" else { return nil }
        guard let t = WeightType(rawValue: text) else {
            let names = (["checkpoint"] + WeightType.allCases.map(\.rawValue)).map { "\"\($0)\"" }.joined(separator: ", ")
            throw WireError.invalidField("weight_type", expected: "one of \(names)", got: .string(text))
        }
        return t
    }
}
