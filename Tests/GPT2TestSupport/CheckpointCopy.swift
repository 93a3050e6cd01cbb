// CheckpointCopy — a single-file checkpoint re-encoded in another float type, for tests that need
// the same model stored as F16 or BF16 (the quality tests' bfloat16 candidate) without committing
// a second copy of it.
import Foundation
import GPT2Core

/// Writes `destination`/config.json (copied) and `destination`/model.safetensors holding every tensor
/// of `source`/model.safetensors, in the same order and with the same names and shapes, re-encoded as
/// `dtype` ("F32", "F16" round to nearest, "BF16" round to nearest even). Creates `destination`.
public func writeCheckpointCopy(from source: String, to destination: String, dtype: String) throws {
    try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
    let config = try Data(contentsOf: URL(fileURLWithPath: source + "/config.json"))
    try config.write(to: URL(fileURLWithPath: destination + "/config.json"))
    let file = try SafeTensorsFile.open(path: source + "/" + CheckpointLoader.weightsFileName)
    var writer = SafeTensorsWriter()
    for name in file.names {
        guard let info = file.info(name) else { continue }
        if info.dtype.isConvertibleFloat {
            writer.add(name, shape: info.shape, floats: try file.floats(name), dtype: dtype)
        } else {
            writer.add(name, dtype: info.dtype.rawValue, shape: info.shape, bytes: Array(try file.rawBytes(name)))
        }
    }
    try writer.write(to: destination + "/" + CheckpointLoader.weightsFileName)
}
