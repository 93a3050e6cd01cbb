// MatmulPrecision — how exactly the products with bfloat16 weight matrices treat the activations
// (PyTorch's `torch.set_float32_matmul_precision` vocabulary, applied to bfloat16 weights), and how
// exactly nf4 / fp4 products represent their code books.
//
// bfloat16: `highest` (the default) keeps the activations in F32: every product equals the F32 one
// on the weights' values (the weights widen exactly), as for every other type. `medium` rounds each
// activation to bfloat16 (nearest even) before it meets the weights, the way llama.cpp's and
// PyTorch's own bfloat16 products do, so CPUs with AVX512_BF16 multiply 32 pairs per instruction
// (vdpbf16ps) instead of widening the weights for 16 FMAs; each activation loses its low 16 bits
// (relative error ≤ 2⁻⁹), the products themselves stay exact and the sums F32.
//
// nf4 / fp4 (decode-sized products; int8 activations either way): `highest` multiplies the code
// book rounded to 2^-15 of each block's absmax, in two 8-bit parts; `medium` rounds it to 1/254
// in one part, half the lookups and dot products (BENCHMARKS.md measures the speed and the error).
// Other weight types ignore it: float16 has no such instruction on these CPUs, and int8 / q4 already
// quantize their activations against exact integer weights.

/// The product precision of bfloat16 and nf4 / fp4 weights for one served model.
public enum MatmulPrecision: String, CaseIterable, Sendable, CustomStringConvertible {
    /// F32 activations: exact products, the same results as the F32 weights' values.
    case highest
    /// Activations rounded to bfloat16 (vdpbf16ps where the CPU has AVX512_BF16); 8-bit nf4 / fp4 codes.
    case medium

    public var description: String { rawValue }
}
