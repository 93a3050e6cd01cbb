// QuantizedCacheKey — what a quantized-weight cache file must have been made from to be used: the
// checkpoint's content (ContentDigest of config.json and every weight file), the weight type, the
// PackedMatrix type that quantized it and that type's quantizer version, and the cache file format's
// version. It is written into the file's safetensors metadata and compared field by field at open;
// any difference makes the file stale (rebuilt, never used).
//
// The file NAME is not the key: it is derived from the checkpoint's directory path and the weight
// type, so one file per (model directory, type) exists and a checkpoint changed in place replaces its
// old file instead of leaving it behind.

import Foundation

struct QuantizedCacheKey: Equatable, Sendable {
    /// The cache file layout (QuantizedCacheFile). Bump when the layout or its metadata change.
    static let formatVersion = 1

    /// The quantizer version of each packed format: bump a type's number whenever its quantize
    /// kernel (Sources/CKernels/quant_*.c) or its segment layout produces other bytes, so every old
    /// cache file of that type is rebuilt.
    static let quantizerVersions: [WeightType: Int] = [.int8: 2, .nf4: 2, .q4: 2, .fp4: 2]   // 2: tiles of 16 rows

    /// 32 hex digits: ContentDigest of the checkpoint (`checkpointDigest(configPath:files:discarding:)`).
    let checkpointDigest: String
    let weightType: WeightType
    /// The PackedMatrix type's name ("Q4Matrix"): a test's own format never meets the real one's file.
    let format: String
    let quantizerVersion: Int
    let formatVersion: Int

    init(checkpointDigest: String, weightType: WeightType, format: any PackedMatrix.Type,
         quantizerVersion: Int? = nil, formatVersion: Int = QuantizedCacheKey.formatVersion) {
        self.checkpointDigest = checkpointDigest
        self.weightType = weightType
        self.format = String(describing: format)
        self.quantizerVersion = quantizerVersion ?? Self.quantizerVersions[weightType] ?? 0
        self.formatVersion = formatVersion
    }

    /// The metadata entries that carry the key (besides the checksums QuantizedCacheFile adds).
    var metadata: [String: String] {
        ["format": "gpt2d-quantized-cache",
         "gpt2d.cache_format": String(formatVersion),
         "gpt2d.weight_type": weightType.rawValue,
         "gpt2d.quantizer": "\(format)/\(quantizerVersion)",
         "gpt2d.checkpoint_xxh3_128": checkpointDigest]
    }

    /// Why a file with `metadata` was not made for this key, or nil when it was (every field equal).
    func mismatch(_ metadata: [String: String]) -> String? {
        for (field, want) in self.metadata.sorted(by: { $0.key < $1.key }) {
            let got = metadata[field]
            if got != want { return "\(field) is \(got.map { "'\($0)'" } ?? "missing"), expected '\(want)'" }
        }
        return nil
    }

    /// The digest of a checkpoint: config.json's bytes, then each weight file's name, size and bytes
    /// in `files` order (the loader's: one file, or the shards sorted by name). `discarding`: give each
    /// file's pages back once hashed (a quantized load reads its matrices from the cache).
    static func checkpointDigest(configPath: String, files: [SafeTensorsFile], discarding: Bool) throws -> String {
        let digest = ContentDigest()
        let config: Data
        do { config = try Data(contentsOf: URL(fileURLWithPath: configPath)) } catch {
            throw CheckpointError.cannotOpen(path: configPath, reason: error.localizedDescription)
        }
        config.withUnsafeBytes { raw in
            digest.update(raw.count)
            digest.update(raw)
        }
        digest.update(files.count)
        for file in files {
            digest.update((file.path as NSString).lastPathComponent)
            digest.update(file.mapping, discarding: discarding)
        }
        return digest.hex()
    }

    /// The cache file name for a checkpoint directory served as `type`:
    /// "<directory name>.<type>.<16 hex digits of XXH3-64 of the resolved absolute directory path>.safetensors"
    /// (the name's characters outside [A-Za-z0-9._-] become "_", at most 64 of them kept).
    static func fileName(checkpointDirectory: String, weightType type: WeightType) -> String {
        let absolute = URL(fileURLWithPath: checkpointDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        let base = (absolute as NSString).lastPathComponent
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let safe = String(base.map { allowed.contains($0) ? $0 : "_" }.prefix(64))
        let pathHash = Array(absolute.utf8).withUnsafeBytes { ContentDigest.checksum($0) }
        return "\(safe.isEmpty ? "model" : safe).\(type.rawValue).\(ContentDigest.hex(pathHash)).safetensors"
    }
}
