// F32 → 16-bit float narrowing (see include/ckernels.h), for weights converted at load to bfloat16
// or float16: round to nearest, ties to even, as torch's .to(torch.bfloat16 / torch.float16).
// Plain integer C (no intrinsics, no F16 hardware or runtime helpers), so it runs on every CPU.
#include "ckernels.h"
#include <string.h>

/// One F32 (bits u) → BF16, round to nearest even; a NaN stays a quiet NaN with its sign.
static unsigned short bf16_of(unsigned int u) {
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (unsigned short)((u >> 16) | 0x0040u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

/// One F32 (bits u) → IEEE binary16, round to nearest even: overflow → ±inf, values below the
/// smallest normal → subnormals or ±0; a NaN stays a quiet NaN with its sign and top payload bits.
static unsigned short f16_of(unsigned int u) {
    const unsigned int sign = (u >> 16) & 0x8000u, a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (unsigned short)(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
    if (a >= 0x477FF000u) return (unsigned short)(sign | 0x7C00u);    // ≥ 65520 (incl. inf) → inf
    if (a >= 0x38800000u) {                                          // ≥ 2^-14: a normal half
        unsigned int r = a - 0x38000000u;                            // rebias the exponent 127 → 15
        r += 0xFFFu + ((r >> 13) & 1u);
        return (unsigned short)(sign | (r >> 13));
    }
    if (a <= 0x33000000u) return (unsigned short)sign;               // ≤ 2^-25 (the tie) → ±0
    // A subnormal half: the value in units of 2^-24 is m · 2^(e − 126), rounded to nearest even.
    const unsigned int e = a >> 23, m = (a & 0x7FFFFFu) | 0x800000u, shift = 126u - e;   // 14...24
    unsigned int q = m >> shift;
    const unsigned int rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (unsigned short)(sign | q);
}

void ck_narrow_f32(const void *src, void *dst, int kind, long n) {
    const char *s = src;
    char *d = dst;
    for (long i = 0; i < n; i++) {
        unsigned int u;
        memcpy(&u, s + 4 * i, 4);
        const unsigned short h = kind == CK_HALF_F16 ? f16_of(u) : bf16_of(u);
        memcpy(d + 2 * i, &h, 2);
    }
}
