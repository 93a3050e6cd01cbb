// BitsandbytesConfig — config.json's `quantization_config` as transformers writes it after saving a
// model loaded with BitsAndBytesConfig: {"quant_method": "bitsandbytes", "load_in_4bit": true,
// "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": false, …} or {"load_in_8bit": true, …}.
// Only what the loader checks the tensors against is kept; other keys (compute dtype, skip lists,
// thresholds) are transformers' business and ignored.

import GPT2Bounds
import GPT2JSON

struct BitsandbytesConfig: Equatable {
    /// What the config says the weights are: .nf4 / .fp4 (load_in_4bit, by bnb_4bit_quant_type) or .int8.
    let weightType: WeightType
    /// bnb_4bit_use_double_quant (false for 8-bit).
    let doubleQuant: Bool

    /// The config's bitsandbytes quantization, nil when config.json has no `quantization_config` or
    /// another quant_method. Throws `.badQuantization` naming config.json for a contradictory one.
    static func read(configPath path: String) throws -> BitsandbytesConfig? {
        let bytes: [UInt8]
        do throws(RegularFileError) { bytes = try RegularFile.read(path, limit: RegularFile.Caps.configFile) } catch {
            throw CheckpointError(error)
        }
        let json: JSON
        do { json = try bytes.withUnsafeBytes { raw in try CheckpointJSON.parse(raw) } } catch {
            throw CheckpointError.configInvalid(file: path, field: "quantization_config", reason: "config.json is not JSON")
        }
        guard let q = json["quantization_config"], !q.isNull else { return nil }
        func bad(_ reason: String) -> CheckpointError { .badQuantization(file: path, tensor: "quantization_config", reason: reason) }
        guard case .object = q else { throw bad("is a \(q.checkpointTypeName), expected an object") }
        guard q["quant_method"]?.stringValue == "bitsandbytes" else { return nil }
        let four = q["load_in_4bit"]?.boolValue ?? false, eight = q["load_in_8bit"]?.boolValue ?? false
        switch (four, eight) {
        case (true, false):
            let name = q["bnb_4bit_quant_type"]?.stringValue ?? "fp4"  // transformers' default
            guard let type = ["nf4": WeightType.nf4, "fp4": .fp4][name] else {
                throw bad("bnb_4bit_quant_type \"\(name)\" is not nf4 or fp4")
            }
            return BitsandbytesConfig(weightType: type, doubleQuant: q["bnb_4bit_use_double_quant"]?.boolValue ?? false)
        case (false, true):
            return BitsandbytesConfig(weightType: .int8, doubleQuant: false)
        default:
            throw bad("load_in_4bit and load_in_8bit are \(four) and \(eight): exactly one must be true")
        }
    }
}
