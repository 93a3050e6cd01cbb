// nf4 weights as bitsandbytes defines them (quantize_4bit with quant_type "nf4", blocksize 64; see
// ckernels.h): quantization with the same arithmetic (so the bytes match), bitsandbytes' optional
// double quantization of the absmax values, the tiles of 16 rows the product reads, dequantization,
// and the small-M product. bitsandbytes' fp4 (quant_type "fp4") has the same layout with another
// 16-value code book; every function here reads the matrix's `codebook`.
//
// The product turns each 4-bit index into a 15-bit integer code, c = round(16383·code), so its
// weight is absmax·c/16383 (within 2^-15·absmax of bitsandbytes' absmax·code, far below the int8
// activations' rounding), and runs it as two 8-bit codes, c = 128·h + l with h in [-128, 127] and l
// in [0, 127], through byte dot products: in a tile (ckernels.h) one 64-byte load, a mask and a
// shift give 4 indices of each of the 16 rows per 32-bit lane, vpshufb turns them into h and l, and
// vpdpbusd (or vpmaddubsw + vpmaddwd) multiplies them by 4 activation bytes broadcast to every lane:
// per (row, column, block) one exact int32 Σ c·a = 128·Σ h·a + Σ l·a and one fused multiply-add in
// F32 (quant_nf4_body.h; the portable body below). At matmul precision medium (w->codes =
// CK_4BIT_CODES_8) the codes are round(127·code) in one 8-bit part: half the lookups and dot
// products, within absmax/254.
#include "quant_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

enum { B = CK_NF4_BLOCK, B2 = CK_NF4_BLOCK2 };

/// bitsandbytes' NF4 code book (get_4bit_type("nf4")): its decimal literals, rounded to F32 through
/// a double as Python and torch do.
const float ck_nf4_code[16] = {
    (float)-1.0, (float)-0.6961928009986877, (float)-0.5250730514526367, (float)-0.39491748809814453,
    (float)-0.28444138169288635, (float)-0.18477343022823334, (float)-0.09105003625154495, (float)0.0,
    (float)0.07958029955625534, (float)0.16093020141124725, (float)0.24611230194568634,
    (float)0.33791524171829224, (float)0.44070982933044434, (float)0.5626170039176941,
    (float)0.7229568362236023, (float)1.0,
};

/// bitsandbytes' FP4 code book (get_4bit_type("fp4")): 1 sign, 2 exponent and 1 mantissa bit in
/// index order — 0, 0.0625, 8, 12, 4, 6, 2, 3 and their negatives — divided by 12 in F32 as torch's
/// div_ does (a test checks it against bitsandbytes' own table). Index 8 is +0: bitsandbytes' list
/// writes it as the Python integer -0, which is 0.
const float ck_fp4_code[16] = {
    0.0f, 0.0625f / 12.0f, 8.0f / 12.0f, 1.0f, 4.0f / 12.0f, 6.0f / 12.0f, 2.0f / 12.0f, 3.0f / 12.0f,
    0.0f, -0.0625f / 12.0f, -8.0f / 12.0f, -1.0f, -4.0f / 12.0f, -6.0f / 12.0f, -2.0f / 12.0f, -3.0f / 12.0f,
};

/// The code book of `codebook` (CK_4BIT_NF4 or CK_4BIT_FP4).
CK_INLINE const float *code_book(int codebook) { return codebook == CK_4BIT_FP4 ? ck_fp4_code : ck_nf4_code; }

/// bitsandbytes' signed 8-bit dynamic map (create_dynamic_map(), sorted), the code book of the
/// double-quantized absmax values, as torch 2.13 computes it on x86 CPUs (its linspace rounds a
/// few values differently from a plain formula, so the table is the format's definition; a test
/// checks it against bitsandbytes' own state2.code).
const float ck_nf4_dynamic_code[256] = {
    -0x1.fc66660000000p-1f, -0x1.f533340000000p-1f, -0x1.ee00000000000p-1f, -0x1.e6cccc0000000p-1f,
    -0x1.df999a0000000p-1f, -0x1.d866660000000p-1f, -0x1.d133340000000p-1f, -0x1.ca00000000000p-1f,
    -0x1.c2cccc0000000p-1f, -0x1.bb999a0000000p-1f, -0x1.b466660000000p-1f, -0x1.ad33340000000p-1f,
    -0x1.a600000000000p-1f, -0x1.9ecccc0000000p-1f, -0x1.97999a0000000p-1f, -0x1.9066660000000p-1f,
    -0x1.8933340000000p-1f, -0x1.8200000000000p-1f, -0x1.7acccc0000000p-1f, -0x1.73999a0000000p-1f,
    -0x1.6c66680000000p-1f, -0x1.6533340000000p-1f, -0x1.5e00000000000p-1f, -0x1.56cccc0000000p-1f,
    -0x1.4f999a0000000p-1f, -0x1.4866680000000p-1f, -0x1.4133340000000p-1f, -0x1.3a00000000000p-1f,
    -0x1.32cccc0000000p-1f, -0x1.2b999a0000000p-1f, -0x1.2466680000000p-1f, -0x1.1d33340000000p-1f,
    -0x1.1600000000000p-1f, -0x1.0ecccc0000000p-1f, -0x1.0799980000000p-1f, -0x1.0066660000000p-1f,
    -0x1.f266640000000p-2f, -0x1.e400000000000p-2f, -0x1.d599980000000p-2f, -0x1.c733340000000p-2f,
    -0x1.b8cccc0000000p-2f, -0x1.aa66660000000p-2f, -0x1.9c00000000000p-2f, -0x1.8d99980000000p-2f,
    -0x1.7f33340000000p-2f, -0x1.70cccc0000000p-2f, -0x1.6266660000000p-2f, -0x1.5400000000000p-2f,
    -0x1.4599980000000p-2f, -0x1.3733340000000p-2f, -0x1.28cccc0000000p-2f, -0x1.1a66680000000p-2f,
    -0x1.0c00000000000p-2f, -0x1.fb33320000000p-3f, -0x1.de66660000000p-3f, -0x1.c1999a0000000p-3f,
    -0x1.a4cccc0000000p-3f, -0x1.8800000000000p-3f, -0x1.6b33340000000p-3f, -0x1.4e66660000000p-3f,
    -0x1.31999a0000000p-3f, -0x1.14cccc0000000p-3f, -0x1.f000000000000p-4f, -0x1.b666680000000p-4f,
    -0x1.93d70a0000000p-4f, -0x1.8851ee0000000p-4f, -0x1.7cccce0000000p-4f, -0x1.7147ae0000000p-4f,
    -0x1.65c2900000000p-4f, -0x1.5a3d700000000p-4f, -0x1.4eb8540000000p-4f, -0x1.4333340000000p-4f,
    -0x1.37ae140000000p-4f, -0x1.2c28f60000000p-4f, -0x1.20a3d60000000p-4f, -0x1.151eba0000000p-4f,
    -0x1.09999a0000000p-4f, -0x1.fc28f60000000p-5f, -0x1.e51eba0000000p-5f, -0x1.ce147a0000000p-5f,
    -0x1.b70a3e0000000p-5f, -0x1.a000000000000p-5f, -0x1.88f5c20000000p-5f, -0x1.71eb860000000p-5f,
    -0x1.5ae1460000000p-5f, -0x1.43d70a0000000p-5f, -0x1.2cccce0000000p-5f, -0x1.15c2900000000p-5f,
    -0x1.fd70a40000000p-6f, -0x1.cf5c2a0000000p-6f, -0x1.a147ae0000000p-6f, -0x1.7333340000000p-6f,
    -0x1.451eba0000000p-6f, -0x1.170a3e0000000p-6f, -0x1.d1eb860000000p-7f, -0x1.75c2900000000p-7f,
    -0x1.3e76c80000000p-7f, -0x1.2c08300000000p-7f, -0x1.19999a0000000p-7f, -0x1.072b020000000p-7f,
    -0x1.e978d40000000p-8f, -0x1.c49ba60000000p-8f, -0x1.9fbe760000000p-8f, -0x1.7ae1480000000p-8f,
    -0x1.56041a0000000p-8f, -0x1.3126e80000000p-8f, -0x1.0c49ba0000000p-8f, -0x1.ced9140000000p-9f,
    -0x1.851eb80000000p-9f, -0x1.3b645a0000000p-9f, -0x1.e353f80000000p-10f, -0x1.4fdf3a0000000p-10f,
    -0x1.eecbfe0000000p-11f, -0x1.b3d07c0000000p-11f, -0x1.78d5000000000p-11f, -0x1.3dd9820000000p-11f,
    -0x1.02de020000000p-11f, -0x1.8fc5060000000p-12f, -0x1.19ce0a0000000p-12f, -0x1.47ae160000000p-13f,
    -0x1.743e960000000p-14f, -0x1.15df660000000p-14f, -0x1.6f00680000000p-15f, -0x1.64840c0000000p-16f,
    -0x1.040bfe0000000p-17f, -0x1.b435280000000p-19f, -0x1.27476e0000000p-21f, 0x0.0p+0f,
    0x1.27476e0000000p-21f, 0x1.b435280000000p-19f, 0x1.040bfe0000000p-17f, 0x1.64840c0000000p-16f,
    0x1.6f00680000000p-15f, 0x1.15df660000000p-14f, 0x1.743e960000000p-14f, 0x1.47ae160000000p-13f,
    0x1.19ce0a0000000p-12f, 0x1.8fc5060000000p-12f, 0x1.02de020000000p-11f, 0x1.3dd9820000000p-11f,
    0x1.78d5000000000p-11f, 0x1.b3d07c0000000p-11f, 0x1.eecbfe0000000p-11f, 0x1.4fdf3a0000000p-10f,
    0x1.e353f80000000p-10f, 0x1.3b645a0000000p-9f, 0x1.851eb80000000p-9f, 0x1.ced9140000000p-9f,
    0x1.0c49ba0000000p-8f, 0x1.3126e80000000p-8f, 0x1.56041a0000000p-8f, 0x1.7ae1480000000p-8f,
    0x1.9fbe760000000p-8f, 0x1.c49ba60000000p-8f, 0x1.e978d40000000p-8f, 0x1.072b020000000p-7f,
    0x1.19999a0000000p-7f, 0x1.2c08300000000p-7f, 0x1.3e76c80000000p-7f, 0x1.75c2900000000p-7f,
    0x1.d1eb860000000p-7f, 0x1.170a3e0000000p-6f, 0x1.451eba0000000p-6f, 0x1.7333340000000p-6f,
    0x1.a147ae0000000p-6f, 0x1.cf5c2a0000000p-6f, 0x1.fd70a40000000p-6f, 0x1.15c2900000000p-5f,
    0x1.2cccce0000000p-5f, 0x1.43d70a0000000p-5f, 0x1.5ae1460000000p-5f, 0x1.71eb860000000p-5f,
    0x1.88f5c20000000p-5f, 0x1.a000000000000p-5f, 0x1.b70a3e0000000p-5f, 0x1.ce147a0000000p-5f,
    0x1.e51eba0000000p-5f, 0x1.fc28f60000000p-5f, 0x1.09999a0000000p-4f, 0x1.151eba0000000p-4f,
    0x1.20a3d60000000p-4f, 0x1.2c28f60000000p-4f, 0x1.37ae140000000p-4f, 0x1.4333340000000p-4f,
    0x1.4eb8540000000p-4f, 0x1.5a3d700000000p-4f, 0x1.65c2900000000p-4f, 0x1.7147ae0000000p-4f,
    0x1.7cccce0000000p-4f, 0x1.8851ee0000000p-4f, 0x1.93d70a0000000p-4f, 0x1.b666680000000p-4f,
    0x1.f000000000000p-4f, 0x1.14cccc0000000p-3f, 0x1.31999a0000000p-3f, 0x1.4e66660000000p-3f,
    0x1.6b33340000000p-3f, 0x1.8800000000000p-3f, 0x1.a4cccc0000000p-3f, 0x1.c1999a0000000p-3f,
    0x1.de66660000000p-3f, 0x1.fb33320000000p-3f, 0x1.0c00000000000p-2f, 0x1.1a66680000000p-2f,
    0x1.28cccc0000000p-2f, 0x1.3733340000000p-2f, 0x1.4599980000000p-2f, 0x1.5400000000000p-2f,
    0x1.6266660000000p-2f, 0x1.70cccc0000000p-2f, 0x1.7f33340000000p-2f, 0x1.8d99980000000p-2f,
    0x1.9c00000000000p-2f, 0x1.aa66660000000p-2f, 0x1.b8cccc0000000p-2f, 0x1.c733340000000p-2f,
    0x1.d599980000000p-2f, 0x1.e400000000000p-2f, 0x1.f266640000000p-2f, 0x1.0066660000000p-1f,
    0x1.0799980000000p-1f, 0x1.0ecccc0000000p-1f, 0x1.1600000000000p-1f, 0x1.1d33340000000p-1f,
    0x1.2466680000000p-1f, 0x1.2b999a0000000p-1f, 0x1.32cccc0000000p-1f, 0x1.3a00000000000p-1f,
    0x1.4133340000000p-1f, 0x1.4866680000000p-1f, 0x1.4f999a0000000p-1f, 0x1.56cccc0000000p-1f,
    0x1.5e00000000000p-1f, 0x1.6533340000000p-1f, 0x1.6c66680000000p-1f, 0x1.73999a0000000p-1f,
    0x1.7acccc0000000p-1f, 0x1.8200000000000p-1f, 0x1.8933340000000p-1f, 0x1.9066660000000p-1f,
    0x1.97999a0000000p-1f, 0x1.9ecccc0000000p-1f, 0x1.a600000000000p-1f, 0x1.ad33340000000p-1f,
    0x1.b466660000000p-1f, 0x1.bb999a0000000p-1f, 0x1.c2cccc0000000p-1f, 0x1.ca00000000000p-1f,
    0x1.d133340000000p-1f, 0x1.d866660000000p-1f, 0x1.df999a0000000p-1f, 0x1.e6cccc0000000p-1f,
    0x1.ee00000000000p-1f, 0x1.f533340000000p-1f, 0x1.fc66660000000p-1f, 0x1.0000000000000p+0f,
};

static long padded(long k) { return (k + B - 1) / B * B; }

// ---- Quantization (bitsandbytes' arithmetic, step by step in F32) -------------------------------

/// Index of the nearest NF4 value as torch.bucketize(scaled, midpoints) picks it: the number of
/// midpoints (code[i] + code[i+1]) / 2 strictly below `v` (a tie goes to the lower value).
static unsigned nf4_index(float v) {
    unsigned q = 0;
    for (int i = 0; i < 15; i++) q += ((ck_nf4_code[i] + ck_nf4_code[i + 1]) / 2.0f) < v;
    return q;
}

/// FP4's code book sorted ascending (torch.argsort, the tie of indices 0 and 8 in index order) as indices,
/// and the midpoints between neighbours: a value's index is fp4_order[number of midpoints below it].
static const unsigned char fp4_order[16] = {11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3};

static unsigned fp4_index(float v) {
    unsigned q = 0;
    for (int i = 0; i < 15; i++) q += ((ck_fp4_code[fp4_order[i]] + ck_fp4_code[fp4_order[i + 1]]) / 2.0f) < v;
    return fp4_order[q];
}

/// Blockwise absmax scaling as bitsandbytes does it, each scaled value given an index by `index`.
static void quantize_4bit(const float *w, long n, long k, unsigned char *packed, float *absmax,
                          unsigned (*index)(float)) {
    const long kp = padded(k), nb = kp / B;
    for (long j = 0; j < n; j++) {
        const float *wr = w + j * k;
        unsigned char *pr = packed + j * (kp / 2);
        for (long b = 0; b < nb; b++) {
            const long p0 = b * B, p1 = p0 + B < k ? p0 + B : k;
            float amax = 0.0f;
            for (long p = p0; p < p1; p++) amax = fmaxf(amax, fabsf(wr[p]));
            absmax[j * nb + b] = amax;
            const float inv = 1.0f / fmaxf(amax, 1e-38f);
            for (long p = p0; p < p0 + B; p += 2) {
                float s0 = p < p1 ? wr[p] * inv : 0.0f, s1 = p + 1 < p1 ? wr[p + 1] * inv : 0.0f;
                s0 = fminf(fmaxf(s0, -1.0f), 1.0f);
                s1 = fminf(fmaxf(s1, -1.0f), 1.0f);
                pr[p / 2] = (unsigned char)(index(s0) << 4 | index(s1));
            }
        }
    }
}

void ck_nf4_quantize(const float *w, long n, long k, unsigned char *packed, float *absmax) {
    quantize_4bit(w, n, k, packed, absmax, nf4_index);
}

void ck_fp4_quantize(const float *w, long n, long k, unsigned char *packed, float *absmax) {
    quantize_4bit(w, n, k, packed, absmax, fp4_index);
}

/// Index into the dynamic map for a value already scaled to [-1, 1], as bitsandbytes' CPU
/// quantize_blockwise finds it: the value is rounded to one of 65536 evenly spaced points of
/// [-1, 1], and that point's index is the number of code midpoints below the point.
static unsigned dynamic_index(float v) {
    v = fminf(fmaxf(v, -1.0f), 1.0f);
    const unsigned u = (unsigned)(uint16_t)((v + 1.0f) * 0.5f * 65535.0f + 0.5f);
    const float point = -1.0f + (2.0f * (float)u) / 65535.0f;
    unsigned lo = 0, hi = 255;  // count of midpoints < point, by bisection over the sorted midpoints
    while (lo < hi) {
        const unsigned mid = (lo + hi) / 2;
        if (0.5f * (ck_nf4_dynamic_code[mid] + ck_nf4_dynamic_code[mid + 1]) < point) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void ck_nf4_compress_absmax(const float *absmax, long count, unsigned char *qabsmax, float *absmax2,
                            float *offset) {
    double total = 0;
    for (long i = 0; i < count; i++) total += absmax[i];
    const float mean = count > 0 ? (float)(total / (double)count) : 0.0f;
    *offset = mean;
    for (long b = 0; b * B2 < count; b++) {
        const long i0 = b * B2, i1 = i0 + B2 < count ? i0 + B2 : count;
        float amax = 0.0f;
        for (long i = i0; i < i1; i++) amax = fmaxf(amax, fabsf(absmax[i] - mean));
        absmax2[b] = amax;
        const float inv = amax > 0.0f ? 1.0f / amax : 0.0f;
        for (long i = i0; i < i1; i++)
            qabsmax[i] = amax > 0.0f ? (unsigned char)dynamic_index((absmax[i] - mean) * inv) : 0;
    }
}

// ---- Tiles of 16 rows (ckernels.h) ----------------------------------------------------------

enum { T = CK_QUANT_TILE };

long ck_nf4_tiled_rows(long n) { return (n + T - 1) / T * T; }

/// Index of row j's block b in the tiled absmax / qabsmax.
static long scale_index(long j, long b, long nb) { return ((j / T) * nb + b) * T + j % T; }

/// Row j's block b's 64 indices.
static void get_block(const unsigned char *packed, long j, long b, long nb, unsigned char q[B]) {
    ck_tile_nibbles_get(packed + ck_tile_nibbles_offset(j, b, nb, B / 8), B / 8, q);
}

void ck_nf4_tile(const unsigned char *bnb_packed, const void *bnb_scales, int double_quantized, long n, long k,
                 unsigned char *packed, void *scales) {
    const long kp = padded(k), nb = kp / B, np = ck_nf4_tiled_rows(n);
    const size_t elem = double_quantized ? 1 : sizeof(float);
    memset(packed, 0, (size_t)(np * kp / 2));
    memset(scales, 0, elem * (size_t)(np * nb));
    for (long j = 0; j < n; j++)
        for (long b = 0; b < nb; b++) {
            const unsigned char *src = bnb_packed + j * (kp / 2) + b * (B / 2);   // value 2t high, 2t + 1 low
            unsigned char q[B];
            for (int t = 0; t < B / 2; t++) { q[2 * t] = src[t] >> 4; q[2 * t + 1] = src[t] & 15; }
            ck_tile_nibbles_put(packed + ck_tile_nibbles_offset(j, b, nb, B / 8), B / 8, q);
            memcpy((char *)scales + elem * (size_t)scale_index(j, b, nb), (const char *)bnb_scales + elem * (size_t)(j * nb + b), elem);
        }
}

void ck_nf4_untile(const ck_nf4_matrix *w, unsigned char *bnb_packed, void *bnb_scales) {
    const long kp = padded(w->k), nb = kp / B;
    const size_t elem = w->absmax ? sizeof(float) : 1;
    const void *scales = w->absmax ? (const void *)w->absmax : (const void *)w->qabsmax;
    for (long j = 0; j < w->n; j++)
        for (long b = 0; b < nb; b++) {
            unsigned char q[B];
            get_block(w->packed, j, b, nb, q);
            unsigned char *dst = bnb_packed + j * (kp / 2) + b * (B / 2);
            for (int t = 0; t < B / 2; t++) dst[t] = (unsigned char)(q[2 * t] << 4 | q[2 * t + 1]);
            memcpy((char *)bnb_scales + elem * (size_t)(j * nb + b), (const char *)scales + elem * (size_t)scale_index(j, b, nb), elem);
        }
}

/// The absmax of row j's block b: stored, or dynamic_code[qabsmax]·absmax2 + offset with absmax2
/// that of bitsandbytes' row-major block index (F32 operations in that order: every body's).
CK_INLINE float block_absmax(const ck_nf4_matrix *w, long j, long b, long nb) {
    if (w->absmax) return w->absmax[scale_index(j, b, nb)];
    return ck_nf4_dynamic_code[w->qabsmax[scale_index(j, b, nb)]] * w->absmax2[(unsigned long)(j * nb + b) / B2] + w->offset;
}

void ck_nf4_dequantize_rows(const ck_nf4_matrix *w, long j0, long j1, float *out, long ldo) {
    const long kp = padded(w->k), nb = kp / B;
    const float *code = code_book(w->codebook);
    for (long j = j0; j < j1; j++)
        for (long b = 0; b < nb; b++) {
            const float am = block_absmax(w, j, b, nb);
            unsigned char q[B];
            get_block(w->packed, j, b, nb, q);
            for (long t = 0; t < B && b * B + t < w->k; t++) out[(j - j0) * ldo + b * B + t] = code[q[t]] * am;
        }
}

static void dequant_rows(const void *w, long j0, long j1, float *out, long ldo) {
    ck_nf4_dequantize_rows(w, j0, j1, out, ldo);
}

void ck_nf4_dequantize_rows_parallel(const ck_nf4_matrix *w, long j0, long j1, float *out, long ldo) {
    ck_quant_dequantize_parallel(w, dequant_rows, j0, j1, out, ldo);
}

// ---- Product ----------------------------------------------------------------------------------

/// The product's codes, round(16383·code[q]) (halves away from zero): NF4 (−16383 for q = 0, 16383
/// for 15) and FP4 (index order, as ck_fp4_code).
static const int16_t nf4_c15[16] = {
    -16383, -11406, -8602, -6470, -4660, -3027, -1492, 0, 1304, 2637, 4032, 5536, 7220, 9217, 11844, 16383,
};
static const int16_t fp4_c15[16] = {
    0, 85, 10922, 16383, 5461, 8192, 2731, 4096, 0, -85, -10922, -16383, -5461, -8192, -2731, -4096,
};

/// The same at CK_4BIT_CODES_8: round(127·code[q]).
static const int16_t nf4_c8[16] = {-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127};
static const int16_t fp4_c8[16] = {0, 1, 85, 127, 42, 64, 21, 32, 0, -1, -85, -127, -42, -64, -21, -32};

CK_INLINE const int16_t *product_codes(int codebook, int codes) {
    if (codes == CK_4BIT_CODES_8) return codebook == CK_4BIT_FP4 ? fp4_c8 : nf4_c8;
    return codebook == CK_4BIT_FP4 ? fp4_c15 : nf4_c15;
}

int ck_4bit_product_unit(int codes) { return codes == CK_4BIT_CODES_8 ? 127 : 16383; }

int ck_nf4_product_code(unsigned q) { return nf4_c15[q & 15u]; }

int ck_4bit_product_code(int codebook, int codes, unsigned q) { return product_codes(codebook, codes)[q & 15u]; }

/// What the product's bodies read besides W and the activations.
typedef struct {
    const ck_nf4_matrix *w;
    const int16_t *codes;      // the product codes of w's code book and w->codes
    int codes8;                // w->codes == CK_4BIT_CODES_8: one 8-bit part (h = c, no l)
    const float *asu;          // a_scale / unit per (row, block), [m, nb]
    // for vpshufb, by index: the codes' high parts h = c >> 7 (AVX2: as signed bytes; VNNI: h + 128,
    // its unsigned operand) and low parts l = c & 127; with codes8, h = c and l = 0
    unsigned char hi[16], lo[16];
    // AVX2 with 15-bit codes: the codes' low and high bytes (int16 c = clo | chi << 8), and the
    // activations as int16, [m, kp]
    unsigned char clo[16], chi[16];
    const int16_t *a16;
} nf4_ctx;

/// Portable: the SIMD bodies' operations (quant_nf4_body.h) with fmaf, so the same bits; each block's
/// 64 indices unpacked once for all the rows.
static void tile_c(const void *cv, const ck_qact *a, long i0, int mr, long j0, int nt, float *out) {
    const nf4_ctx *c = cv;
    const ck_nf4_matrix *w = c->w;
    const long kp = a->kp, nb = a->nb;
    for (int col = 0; col < nt; col++) {
        const long j = j0 + col;
        float acc[CK_QUANT_MR] = {0};
        for (long b = 0; b < nb; b++) {
            unsigned char q[B];
            get_block(w->packed, j, b, nb, q);
            const float am = block_absmax(w, j, b, nb);
            for (int i = 0; i < mr; i++) {
                const int8_t *aq = a->q + (i0 + i) * kp + b * B;
                int32_t s = 0;
                for (int t = 0; t < B; t++) s += c->codes[q[t]] * aq[t];
                acc[i] = fmaf((float)s, am * c->asu[(i0 + i) * nb + b], acc[i]);
            }
        }
        for (int i = 0; i < mr; i++) out[i * T + col] = acc[i];
    }
}

#define CK_QVNNI 0
#include "quant_nf4_body.h"
#undef CK_QVNNI
#define CK_QVNNI 1
#include "quant_nf4_body.h"
#undef CK_QVNNI

int ck_nf4_multiply(const ck_nf4_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta) {
    ck_qact a;
    if (!ck_qact_make(&a, x, m, w->k, ldx, B)) return 0;
    float *asu = malloc(sizeof(float) * (size_t)(a.m * a.nb) + 64);
    if (!asu) { ck_qact_free(&a); return 0; }
    const int codes8 = w->codes == CK_4BIT_CODES_8;
    const float unit = (float)ck_4bit_product_unit(w->codes);
    for (long i = 0; i < a.m * a.nb; i++) asu[i] = a.scale[i] / unit;
    nf4_ctx c = {w, product_codes(w->codebook, w->codes), codes8, asu, {0}, {0}, {0}, {0}, NULL};
    const int level = ck_quant_level();
    for (unsigned q = 0; q < 16; q++) {
        const int h = codes8 ? c.codes[q] : c.codes[q] >> 7;   // arithmetic shift: floor(c / 128)
        c.hi[q] = (unsigned char)(level == CK_QUANT_VNNI ? h + 128 : h);
        c.lo[q] = (unsigned char)(codes8 ? 0 : c.codes[q] & 127);
        c.clo[q] = (unsigned char)((uint16_t)c.codes[q] & 0xFF);
        c.chi[q] = (unsigned char)((uint16_t)c.codes[q] >> 8);
    }
    int16_t *a16 = NULL;
    if (level == CK_QUANT_AVX2 && !codes8) {
        if (!(a16 = malloc(sizeof(int16_t) * (size_t)(a.m * a.kp) + 64))) { free(asu); ck_qact_free(&a); return 0; }
        for (long i = 0; i < a.m * a.kp; i++) a16[i] = a.q[i];
        c.a16 = a16;
    }
    ck_quant_run_tiles(&c, &a, w->n, level == CK_QUANT_VNNI ? nf4_tile_vnni : level == CK_QUANT_AVX2 ? nf4_tile_avx2 : tile_c,
                       y, ldy, beta);
    free(a16);
    free(asu);
    ck_qact_free(&a);
    return 1;
}
