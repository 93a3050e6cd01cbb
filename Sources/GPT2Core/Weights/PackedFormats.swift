// PackedFormats — which PackedMatrix type implements each quantized WeightType. The loader asks
// here when a model is to be served as int8 / nf4 / q4 / fp4; a type without an entry cannot be loaded
// (CheckpointError.weightTypeUnavailable). Each format registers itself by one line below.

public enum PackedFormats {
    /// The format types, by the weight type they implement (`T.weightType` must equal the key).
    static let types: [WeightType: any PackedMatrix.Type] = [
        .int8: Int8Matrix.self, .nf4: NF4Matrix.self, .q4: Q4Matrix.self, .fp4: FP4Matrix.self,
    ]

    /// The PackedMatrix type serving `type`, or nil (float32 / bfloat16 / float16 are not packed,
    /// and a quantized type may not be built into this binary).
    public static func type(for type: WeightType) -> (any PackedMatrix.Type)? { types[type] }
}
