// Internal to the quantized-weight kernels (quant_*.c): activation quantization, the ISA choice,
// and the column-split driver that every format's small-M product runs through.
#ifndef CK_QUANT_INTERNAL_H
#define CK_QUANT_INTERNAL_H
#include "ckernels.h"
#include <stdint.h>

#define CK_INLINE static inline __attribute__((always_inline))

/// Activations of one product, quantized per row and per block of `block` values along K:
/// q[i, p] = round(x[i, p] / scale[i, b]) in [-127, 127], scale[i, b] = absmax / 127 (0 for an all-zero
/// block), sum[i, b] = Σ q[i, block b]. Rows are padded with zeros to kp (a multiple of `block`).
typedef struct {
    long m, k, kp, nb, block;
    int8_t *q;      // [m, kp]
    float *scale;   // [m, nb]
    int32_t *sum;   // [m, nb]
} ck_qact;

/// Allocates and fills `a` for x (m, k) with row stride ldx; returns 0 on allocation failure.
int ck_qact_make(ck_qact *a, const float *x, long m, long k, long ldx, long block);
void ck_qact_free(ck_qact *a);

/// Activation rows one call of a ck_quant_tile_fn takes (a tile's unpacked block serves them all),
/// and the rows a many-row product walks at a time (a block's activations stay in L2).
enum { CK_QUANT_MR = 8, CK_QUANT_ROW_BLOCK = 64 };

/// The body of a ck_quant_tile_fn: body(MR, ctx, a, i0, j, out) with MR = mr (1...8) a compile-time
/// constant, so each row count gets its own unrolled copy.
#define CK_QUANT_ROWS(body, c, a, i0, mr, j, out) do { \
        switch (mr) { \
        case 1: body(1, c, a, i0, j, out); break; \
        case 2: body(2, c, a, i0, j, out); break; \
        case 3: body(3, c, a, i0, j, out); break; \
        case 4: body(4, c, a, i0, j, out); break; \
        case 5: body(5, c, a, i0, j, out); break; \
        case 6: body(6, c, a, i0, j, out); break; \
        case 7: body(7, c, a, i0, j, out); break; \
        default: body(8, c, a, i0, j, out); break; \
        } \
    } while (0)

/// Weight rows (output columns) one call of a ck_quant_tile_fn takes: a tile.
enum { CK_QUANT_TILE = 16 };

/// The 4-bit tiles of q4 and nf4 (ckernels.h): per tile and block of 8·chunks values along K,
/// 64·chunks bytes whose byte 64L + 4c + t holds value 8L + t of the tile's row c in its low nibble
/// and value 8L + 4 + t in its high nibble. The offset of row j's block b (nb blocks per row) there:
CK_INLINE long ck_tile_nibbles_offset(long j, long b, long nb, int chunks) {
    return ((j / CK_QUANT_TILE) * nb + b) * 64 * chunks + 4 * (j % CK_QUANT_TILE);
}

/// The block's 8·chunks values from its row's bytes (at ck_tile_nibbles_offset).
CK_INLINE void ck_tile_nibbles_get(const unsigned char *bytes, int chunks, unsigned char *q) {
    for (int L = 0; L < chunks; L++)
        for (int t = 0; t < 4; t++) {
            q[8 * L + t] = bytes[64 * L + t] & 15;
            q[8 * L + 4 + t] = bytes[64 * L + t] >> 4;
        }
}

/// The block's 8·chunks values (each 0...15) into its row's bytes.
CK_INLINE void ck_tile_nibbles_put(unsigned char *bytes, int chunks, const unsigned char *q) {
    for (int L = 0; L < chunks; L++)
        for (int t = 0; t < 4; t++) bytes[64 * L + t] = (unsigned char)(q[8 * L + t] | q[8 * L + 4 + t] << 4);
}

/// out[i·CK_QUANT_TILE + c] = Σ_p dequantized activation (i0 + i, p) · dequantized weight (j0 + c, p)
/// for i < mr (1...CK_QUANT_MR) and c < nt (1...CK_QUANT_TILE): a tile of weight rows against up to
/// 8 activation rows, each row's value computed with the same operations whatever mr, i0 and nt are.
typedef void (*ck_quant_tile_fn)(const void *w, const ck_qact *a, long i0, int mr, long j0, int nt, float *out);

/// y[i, j] = beta·y[i, j] + the tiles' values for i < a->m, j < n: whole tiles of output columns split
/// over the compute pool, many rows walked in blocks of CK_QUANT_ROW_BLOCK (a block's activations and
/// a task's weight rows stay in L2).
void ck_quant_run_tiles(const void *w, const ck_qact *a, long n, ck_quant_tile_fn fn, float *y, long ldy, float beta);

/// How far ahead of its reads a body prefetches W into L2, in bytes of the weight stream (a matrix's
/// rows are contiguous, so the distance runs on into the next rows): the DRAM latency of ~100–150 ns
/// at a core's ~20 GB/s. The hardware prefetchers alone, or a distance of two rows (0.75 KiB at
/// k = 768), left a decode step's products waiting on memory: at 4 KiB nf4's step at m = 1 took
/// 0.8× the time, q4's 0.8×, int8's 0.85× and int8's at 8 rows 0.8× (Zen 5, quant_kbench; BENCHMARKS.md).
enum { CK_QUANT_PREFETCH = 4096 };

/// Prefetches the line CK_QUANT_PREFETCH bytes past p (a stream's read position) into L2; `ratio`
/// scales the distance for a side stream read at 1/ratio of W's bytes (the scales). Prefetches
/// never fault, so running past the matrix's end is harmless.
#define CK_QUANT_PREFETCH_AHEAD(p, ratio) \
    _mm_prefetch((const char *)(p) + CK_QUANT_PREFETCH / (ratio), _MM_HINT_T1)

/// A tile body in passes of up to 4 rows (AVX2's registers): body(MR, c, a, i0, j, out) with MR
/// 1...4 a compile-time constant, each pass's rows at out + r·CK_QUANT_TILE.
#define CK_QUANT_TILE_ROWS4(body, c, a, i0, mr, j, out) do { \
        for (int r_ = 0; r_ < (mr); r_ += 4) \
            switch ((mr) - r_ < 4 ? (mr) - r_ : 4) { \
            case 1: body(1, c, a, (i0) + r_, j, (out) + r_ * CK_QUANT_TILE); break; \
            case 2: body(2, c, a, (i0) + r_, j, (out) + r_ * CK_QUANT_TILE); break; \
            case 3: body(3, c, a, (i0) + r_, j, (out) + r_ * CK_QUANT_TILE); break; \
            default: body(4, c, a, (i0) + r_, j, (out) + r_ * CK_QUANT_TILE); break; \
            } \
    } while (0)

/// Rows [j0, j1) of a weight matrix widened to F32: row j at out + (j − j0)·ldo.
typedef void (*ck_dequant_fn)(const void *w, long j0, long j1, float *out, long ldo);

/// fn over rows [j0, j1), split over the compute pool.
void ck_quant_dequantize_parallel(const void *w, ck_dequant_fn fn, long j0, long j1, float *out, long ldo);

/// IEEE binary16 bits → F32 (exact, subnormals included) and F32 → binary16 bits (round to nearest even).
float ck_f16_to_f32(uint16_t h);
uint16_t ck_f32_to_f16(float f);

#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))
#define CK_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#endif
