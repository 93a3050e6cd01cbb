// QuantizedCacheReport — what a quantized load did with its on-disk cache (GPT2Weights.quantizedCache):
// mapped a valid file (hit), found none and wrote one (miss), or found one it must not use and replaced
// it (rebuilt, with the reason). A file that cannot be written is not an error: the model is served
// from the weights just quantized and `writeError` says why nothing was cached.

public struct QuantizedCacheReport: Sendable, Equatable, CustomStringConvertible {
    public enum Outcome: String, Sendable {
        /// The matrices are views of the cache file's mapping; nothing was quantized.
        case hit
        /// No cache file: quantized at load, then written.
        case miss
        /// A cache file was there but corrupt, stale or foreign (`rejected`): quantized and replaced.
        case rebuilt
    }

    /// The cache file (in the cache folder, named by QuantizedCacheKey.fileName).
    public let path: String
    public let outcome: Outcome
    /// For `rebuilt`: why the existing file was not used.
    public let rejected: String?
    /// For `miss` / `rebuilt`: why the new file could not be written (nil: it was).
    public let writeError: String?
    /// Seconds spent digesting the checkpoint's bytes (the key's content part), every load.
    public let digestSeconds: Double
    /// Seconds spent opening and verifying the file (every load that finds one) plus writing it (miss,
    /// rebuilt).
    public let fileSeconds: Double

    public var description: String {
        var s = "cache: \(outcome.rawValue) (\(path))"
        if let rejected { s += "; old file rejected: \(rejected)" }
        if let writeError { s += "; not written: \(writeError)" }
        return s
    }
}
