// models.unload — stop serving one model without a restart (root and `admin_group` only). Its running
// requests may finish for up to `drain_timeout_s` seconds; the answer comes once it is gone.

import GPT2JSON

public struct ModelsUnloadRequest: WireRequest {
    public typealias Response = ModelUnloadResponse
    public static let op = "models.unload"

    /// The model's name.
    public var name: String
    /// Seconds its running requests may still run, 0…3600; nil: the daemon's `drain_timeout_s`.
    public var drainTimeoutSeconds: Double?

    public static let wireDefaults = ModelsUnloadRequest(name: "")
    public static let wireFields: [WireField<Self>] = [
        .required("name", \.name, .nonEmptyString),
        .optional("drain_timeout_s", \.drainTimeoutSeconds, .number(in: 0...3600)),
    ]

    public init(name: String, drainTimeoutSeconds: Double? = nil) {
        self.name = name
        self.drainTimeoutSeconds = drainTimeoutSeconds
    }
}
