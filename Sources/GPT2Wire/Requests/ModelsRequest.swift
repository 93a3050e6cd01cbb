// models — the loaded models and what they can do. Body: none.

public struct ModelsRequest: EmptyWireRequest {
    public typealias Response = ModelsResponse
    public static let op = "models"
    public init() {}
}
