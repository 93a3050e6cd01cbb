// Temperature — transformers' TemperatureLogitsWarper: scores / T (sampling only).

public struct Temperature: LogitsProcessor {
    public let temperature: Float
    public init(_ t: Float) { precondition(t > 0); temperature = t }

    public func process(_ logits: inout [Float], history: [Int32]) {
        let t = temperature
        for i in logits.indices { logits[i] /= t }
    }
}
