// CKernels — the parts of the forward pass that need x86 SIMD intrinsics (AVX-512F, selected at run
// time) or raw threads:
//  - small-M kernels (kernels.c for AVX-512, kernels_avx2.c for AVX2 + FMA, small_plain.c for any
//    CPU; small_dispatch.c picks one): batched decode multiplies a few activation rows (1..16) by
//    every weight matrix; OpenBLAS packs the whole weight matrix for that, tripling memory traffic;
//    these stream each weight once;
//  - a packed, register-tiled GEMM for prefill (gemm.c), which OpenBLAS under
//    OPENBLAS_CORETYPE=Haswell runs with AVX2 kernels at half this CPU's FMA width;
//  - decode attention over the block KV cache and KV element conversions (attention.c);
//  - the log-sum-exp of a logits row (logsumexp.c), the normaliser of every log-softmax;
//  - the compute pool (pool.c) that runs all of them, and the Swift kernels' loops, on N threads.
// Everything else stays in Swift.
#ifndef CKERNELS_H
#define CKERNELS_H

/// 16-bit weight element kinds for the *_w16 kernels (little-endian, as safetensors stores them).
#define CK_HALF_F16 1   /* IEEE binary16 */
#define CK_HALF_BF16 2  /* bfloat16: the top 16 bits of an F32 */

/// 1 when this CPU has AVX-512 F, BW and VL (the packed GEMM, the AVX-512 small-M bodies and vmath;
/// every AVX-512 CPU but the Xeon Phi has all three), else 0.
int ck_has_avx512(void);

/// 1 when this CPU has AVX2, FMA and F16C (the AVX2 small-M bodies), else 0.
int ck_has_avx2(void);

/// Instruction-set levels of the small-M kernels (ck_matmul_kn / ck_matmul_nk and their *_w16 and
/// *_parallel forms), best first: every level computes the same products (the SIMD levels keep the
/// FMA order of their own tiling; they agree with each other to rounding, not bit for bit).
#define CK_ISA_PLAIN 0   /* plain C, any CPU */
#define CK_ISA_AVX2 1    /* AVX2 + FMA + F16C, 8 lanes */
#define CK_ISA_AVX512 2  /* AVX-512F, 16 lanes */

/// The level the small-M kernels use: the best this CPU has, or lower when the environment says
/// GPT2D_ISA=plain or GPT2D_ISA=avx2 (read once, at the first call).
int ck_isa(void);

/// ck_matmul_kn_w16 / ck_matmul_nk_w16 (kind 0: F32 weights) on the given level, clamped to what
/// the CPU has: for tests comparing the levels on one machine.
void ck_matmul_kn_isa(int level, const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                      long n, float *y, long ldy, float beta);
void ck_matmul_nk_isa(int level, const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                      long n, float *y, long ldy, float beta);

/// The largest number of W rows per accumulation chunk of ck_matmul_kn (y is loaded and stored once
/// per chunk; tiles of few rows take shorter chunks — the chunk never changes the results, since y
/// round-trips exactly). Callers that split one product's K into several calls start each call at a
/// multiple of it.
#define CK_KN_CHUNK 16

/// y[i, 0:n] = beta·y[i, 0:n] + Σ_p x[i, p] · w[p, 0:n]   for i < m (≤ 16), on the ck_isa() level
/// (AVX-512: one register tile of all m rows; AVX2: groups of ≤ 8 rows, each reading W again)
/// w is row-major [k, n] with row stride ldw (Conv1D layout); beta is 0 or 1.
void ck_matmul_kn(const float *x, long m, long k, long ldx,
                  const float *w, long ldw, long n,
                  float *y, long ldy, float beta);

/// y[i, 0:n] = beta·y[i, 0:n] + Σ_p x[i, p] · w[j, p]      for i < m (≤ 16), j < n, on the ck_isa() level
/// (groups of ≤ 8 rows, each reading W again)
/// w is row-major [n, k] with row stride ldw (nn.Linear layout); beta is 0 or 1.
void ck_matmul_nk(const float *x, long m, long k, long ldx,
                  const float *w, long ldw, long n,
                  float *y, long ldy, float beta);


/// ck_matmul_kn / ck_matmul_nk with 16-bit weights: w points at `kind` elements (2-byte or no
/// alignment; e.g. straight into a checkpoint mapping), same layouts, ldw in elements. The
/// elements are widened to F32 in registers, exactly, and the same FMAs run in the same order, so
/// the results equal the F32 kernels' on the upcast weights bit for bit.
void ck_matmul_kn_w16(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta);
void ck_matmul_nk_w16(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw, long n,
                      float *y, long ldy, float beta);

/// C[m, n] = alpha · A[m, k] · op(B) + beta · C, all row-major with row strides lda/ldb/ldc.
/// op(B) = B, B is [k, n] (Conv1D layout) when transB == 0; op(B) = Bᵀ, B is [n, k] (Linear layout)
/// when transB != 0. beta == 0 never reads C. AVX-512F only (check ck_has_avx512 first); one thread.
void ck_gemm(long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, int transB, float beta, float *c, long ldc);

/// ck_gemm with B stored as 16-bit floats of `kind` (CK_HALF_F16 / CK_HALF_BF16; ldb in elements;
/// 2-byte or no alignment), widened exactly to F32 while packing: the result equals ck_gemm's on the
/// upcast B bit for bit. One thread.
void ck_gemm_w16(long m, long n, long k, float alpha, const float *a, long lda,
                 const void *b, int kind, long ldb, int transB, float beta, float *c, long ldc);

/// How many column tasks ck_gemm_task splits this product into for `threads` threads (≥ 1 when
/// m, n > 0). Tasks are independent: any thread may run any of them, in any order.
long ck_gemm_tasks(long m, long n, long k, long threads);

/// Task `task` of `tasks` of the ck_gemm product above: a contiguous range of C's columns.
void ck_gemm_task(long task, long tasks, long m, long n, long k, float alpha,
                  const float *a, long lda, const float *b, long ldb, int transB,
                  float beta, float *c, long ldc);

// ---- bfloat16 dot products (bf16dot.c) ----------------------------------------------------------
// Matmul precision "medium" for bfloat16 weights: each activation is rounded to bfloat16 (nearest
// even) once per product, and every product of two bf16 values is exact in F32 (8-bit significands);
// only the sums round.

/// 1 when this CPU has AVX512_BF16 (with AVX-512 F, BW and VL), else 0.
int ck_has_avx512_bf16(void);

/// 1 when ck_matmul_bf16dot_parallel may run: ck_has_avx512_bf16() and ck_isa() == CK_ISA_AVX512
/// (GPT2D_ISA=avx2 or plain turns it off, as for the other AVX-512 bodies).
int ck_bf16dot_available(void);

/// y = beta·y + bf16(x)·W with W bfloat16 (`w`, any alignment, row stride ldw elements): W [k, n]
/// when nk == 0 (Conv1D), W [n, k] when nk != 0 (Linear; y = bf16(x)·Wᵀ). Any m; products on
/// vdpbf16ps (F32 sums, each instruction adding two products to a lane and rounding after each).
/// Columns split over the pool. beta is 0 or 1 (0 never reads y). Returns 0 only when scratch could
/// not be allocated (y then partly written). Needs ck_bf16dot_available().
int ck_matmul_bf16dot_parallel(int nk, const float *x, long m, long k, long ldx, const void *w, long ldw, long n,
                               float *y, long ldy, float beta);

/// bf16(x[i, p]) as F32 for i < m, p < k (the same rounding), row-major with row stride k, in the
/// calling thread's scratch (valid until its next call; NULL when out of memory): what CPUs without
/// ck_bf16dot_available() multiply on the exact kernels to compute the same products (the same
/// exact products; the sums in those kernels' order). Any CPU.
const float *ck_bf16_rounded(const float *x, long m, long k, long ldx);

// ---- Narrowing (narrow.c), any CPU ----------------------------------------------------------

/// dst[i] = src[i] rounded to nearest even as a 16-bit float of `kind` (CK_HALF_F16 / CK_HALF_BF16),
/// for i < n. src holds F32, dst 16-bit elements, both little-endian and of any alignment.
void ck_narrow_f32(const void *src, void *dst, int kind, long n);

// ---- Elementwise math (vmath.c), AVX-512F only ------------------------------------------------

/// x[i] = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in place (gelu_new / gelu_pytorch_tanh).
void ck_gelu_tanh(float *x, long n);

/// x[i] = exp(x[i] − shift) in place for i < n; returns Σ of the results.
float ck_exp_shifted_sum(float *x, long n, float shift);

// ---- Log-sum-exp (logsumexp.c): AVX2 + FMA, plain C elsewhere ----------------------------------

/// log Σ_i exp(x[i]) for i < n, computed around the maximum (AVX2: float32 exponentials of whole
/// vectors, chunk sums added in double, relative error ≈ 1e-7 at n = 50257; the rest in double).
/// A non-finite maximum (all −inf, an inf, a NaN) is returned as it is; n ≤ 0 gives −inf. On the
/// ck_isa() level.
double ck_log_sum_exp(const float *x, long n);
/// The same on the given level (clamped to what the CPU has), and the plain C body: for tests.
double ck_log_sum_exp_isa(int level, const float *x, long n);
double ck_log_sum_exp_portable(const float *x, long n);

// ---- Compute pool -----------------------------------------------------------------------------

/// A task of a parallel loop: `task` in [0, tasks); `thread` in [0, ck_pool_threads()) is unique
/// among the tasks of one loop running at the same moment (an index for per-thread scratch).
typedef void (*ck_task_fn)(void *ctx, long task, int thread);

/// Sets the pool's size (the calling thread counts as one; 1 = no workers). Returns the size in effect.
/// Safe at any time: waits for a running loop to end.
int ck_pool_set_threads(int threads);

/// The pool's size (≥ 1).
int ck_pool_threads(void);

/// Runs fn(ctx, t, thread) for every t in [0, tasks) on the pool and returns when all are done.
/// The caller takes part. One loop runs on the pool at a time: a loop started while another runs
/// (from another thread, or nested inside a task) runs all its tasks on its own caller, thread 0.
void ck_pool_run(long tasks, ck_task_fn fn, void *ctx);

/// ck_gemm split by columns over the pool.
void ck_gemm_parallel(long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, int transB, float beta, float *c, long ldc);

/// ck_gemm_w16 split by columns over the pool (the same split as ck_gemm_parallel).
void ck_gemm_w16_parallel(long m, long n, long k, float alpha, const float *a, long lda,
                          const void *b, int kind, long ldb, int transB, float beta, float *c, long ldc);

/// ck_matmul_kn / ck_matmul_nk for any m, columns split over the pool, rows in groups of 8.
void ck_matmul_kn_parallel(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                           float *y, long ldy, float beta);
void ck_matmul_nk_parallel(const float *x, long m, long k, long ldx, const float *w, long ldw, long n,
                           float *y, long ldy, float beta);
/// The same with 16-bit weights (ck_matmul_kn_w16 / ck_matmul_nk_w16), split the same way.
void ck_matmul_kn_w16_parallel(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                               long n, float *y, long ldy, float beta);
void ck_matmul_nk_w16_parallel(const float *x, long m, long k, long ldx, const void *w, int kind, long ldw,
                               long n, float *y, long ldy, float beta);

// ---- Heap (heap.c) ----------------------------------------------------------------------------

/// Gives the free pages of the C heap back to the kernel (glibc's malloc_trim; a no-op elsewhere and
/// under a sanitizer, whose heap is its own): for after a load whose staging buffers the heap kept.
void ck_heap_trim(void);

// ---- KV cache and decode attention (attention.c) ---------------------------------------------

/// KV cache element kinds: F32, or the 16-bit kinds above (CK_HALF_F16, CK_HALF_BF16).
#define CK_KV_F32 0

/// dst[0:n) = src[0:n) as `kind` elements (16-bit: rounded to nearest even, overflow to ±inf, NaN
/// stays NaN; F32: a copy). dst needs 2-byte alignment. AVX2 (ck_has_avx2); the
/// _portable twin runs anywhere and gives the same bits.
void ck_kv_store(const float *src, void *dst, long n, int kind);
void ck_kv_store_portable(const float *src, void *dst, long n, int kind);

/// dst[0:n) = the `kind` elements at src widened to F32 (exact). AVX2 / anywhere.
void ck_kv_load(const void *src, float *dst, long n, int kind);
void ck_kv_load_portable(const void *src, float *dst, long n, int kind);

/// One layer's keys and values of one sequence in the block cache: position p's key row is at
/// blocks[p / block_tokens] + key_offset + (p % block_tokens)·ld elements of `kind` (values: at
/// value_offset). Head h owns columns [h·head_dim, (h+1)·head_dim) of a row.
typedef struct {
    const void *const *blocks;
    long block_tokens;
    long key_offset, value_offset;
    long ld;
    int kind;
} ck_kv_view;

/// Consecutive query rows of one sequence: row i (< rows) is q + i·ldq (heads·head_dim F32,
/// heads concatenated) and sees positions [0, first_visible + i) (causal).
typedef struct {
    const float *q;
    long ldq, rows, first_visible, heads, head_dim;
    float scale;
} ck_attn_query;

/// Floats of one span's state: per (row i, head h), at (i·heads + h)·(head_dim + 2): the running
/// maximum m of the scaled scores, l = Σ exp(s − m), then acc[head_dim] = Σ exp(s − m)·v.
long ck_attn_state_floats(long rows, long heads, long head_dim);

/// Positions [begin, end) (each row clipped to what it sees) in one pass with an online softmax:
/// initialises `state` and leaves the span's (m, l, acc) there. Each key/value row is read once.
/// One thread; AVX2 (ck_has_avx2) / the _portable twin anywhere (the same up to rounding).
void ck_attend_span(const ck_kv_view *kv, const ck_attn_query *q, long begin, long end, float *state);
void ck_attend_span_portable(const ck_kv_view *kv, const ck_attn_query *q, long begin, long end, float *state);

/// Merges `parts` consecutive span states (ck_attn_state_floats each, in position order) and
/// writes row i, head h's softmax(scale·q·kᵀ)·v to out + i·ldo + h·head_dim. Every row must see
/// at least one position of the spans. Plain C.
void ck_attend_merge(const ck_attn_query *q, const float *states, long parts, float *out, long ldo);

// ---- Quantized weights (quant_*.c): int8, nf4, q4 -------------------------------------------------
// Every matrix is output-major (N, K): row j holds the K weights of output j, in blocks along K;
// rows are padded with zero weights to a whole number of blocks (kp values). The products
// quantize the activations per row and per block (the weights' block size) to int8 with an F32
// absmax/127 scale, and sum each block's products exactly in int32 before scaling, on the body
// ck_quant_level() names (VNNI, AVX2 or portable C: all three give the same bits). Products split
// their output columns over the compute pool; they return 0 only when scratch allocation failed.

/// The bodies of the quantized products, from the most portable up. Every body sums a block's
/// products exactly in int32 and scales and adds them with the same F32 operations in the same
/// order (fused multiply-adds, the blocks in order), so all three give the same bits.
#define CK_QUANT_PORTABLE 0  /* plain C, any CPU */
#define CK_QUANT_AVX2 1      /* AVX2 + FMA + F16C: vpmaddubsw / vpmaddwd */
#define CK_QUANT_VNNI 2      /* AVX2 + AVX-512 VNNI, VL, BW: vpdpbusd / vpdpwssd, mostly on 512-bit registers */
/// 1 when the CPU has AVX-512 VNNI with VL and BW (and AVX2 + FMA + F16C).
int ck_has_avx512_vnni(void);
/// The body the quantized products the calling thread starts now use: the best this CPU and
/// ck_isa() allow (VNNI needs ck_isa() == CK_ISA_AVX512, so GPT2D_ISA=avx2 stops at AVX2 and
/// GPT2D_ISA=plain at portable), capped by ck_quant_set_process_level_cap and by this thread's
/// ck_quant_set_level_cap.
int ck_quant_level(void);
/// Caps the level of the products the calling thread starts (tests comparing the bodies); other
/// threads' products are not affected: the body is chosen by the thread that starts a product.
/// CK_QUANT_VNNI (or more) removes the cap.
void ck_quant_set_level_cap(int level);
/// Caps every thread's level (GPT2D_CPU=generic: CK_QUANT_PORTABLE).
void ck_quant_set_process_level_cap(int level);

/// int8: blocks of CK_I8_BLOCK values, w ≈ q·scale, q in [-127, 127], scale = absmax / 127 (F32),
/// stored in tiles of 16 output rows (n rounded up to ck_i8_tiled_rows(n), the missing rows zero):
/// per tile and block, 1024 bytes whose byte 64d + 4c + j is q + 128 (unsigned) of value 4d + j of
/// the tile's row c (d = 0...15), and the 16 rows' scales (quant_int8.c).
#define CK_I8_BLOCK 64
typedef struct {
    const unsigned char *q;  // [tiled_rows / 16, kp / CK_I8_BLOCK, 1024]: q + 128
    const float *scale;      // [tiled_rows / 16, kp / CK_I8_BLOCK, 16]
    long n, k;
} ck_i8_matrix;
/// n rounded up to whole tiles of 16 rows: the rows q and scale hold.
long ck_i8_tiled_rows(long n);
/// Quantizes w (n, k) row-major into q [ck_i8_tiled_rows(n) · kp] and scale [… · kp / CK_I8_BLOCK].
void ck_i8_quantize(const float *w, long n, long k, unsigned char *q, float *scale);
/// The same from values given row by row: rows [n, k] (int8, row stride ldr), every block of row j
/// scaled row_scale[j] (bitsandbytes' int8: SCB[j] / 127).
void ck_i8_tile_rows(const signed char *rows, long ldr, const float *row_scale, long n, long k, unsigned char *q, float *scale);
/// Rows [j0, j1) widened to F32 (k values each) at out + (j − j0)·ldo; *_parallel on the pool.
void ck_i8_dequantize_rows(const ck_i8_matrix *w, long j0, long j1, float *out, long ldo);
void ck_i8_dequantize_rows_parallel(const ck_i8_matrix *w, long j0, long j1, float *out, long ldo);
/// y[i, j] = beta·y[i, j] + Σ_p x[i, p]·W[j, p] for i < m, j < n (beta 0 or 1; 0 never reads y).
int ck_i8_multiply(const ck_i8_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta);

/// nf4 with bitsandbytes' values: blocks of CK_NF4_BLOCK values along K, w = code[q]·absmax with a
/// 4-bit index q per value. With double quantization the absmax values are stored as qabsmax (indices
/// into ck_nf4_dynamic_code) with one F32 absmax2 per CK_NF4_BLOCK2 of them, counted over the blocks
/// in row-major order (row j's block b is block j·kp/CK_NF4_BLOCK + b, as bitsandbytes counts them),
/// and one mean offset: absmax = dynamic_code[qabsmax]·absmax2 + offset. The same layout and kernels
/// serve bitsandbytes' FP4 (quant_type "fp4"): only the 16-value code book differs (`codebook`:
/// CK_4BIT_NF4 → ck_nf4_code, CK_4BIT_FP4 → ck_fp4_code).
///
/// bitsandbytes' own layout (ck_nf4_quantize's output, its files' bytes): packed [n, kp / 2], two
/// indices per byte, the first (even) value in the high nibble; absmax or qabsmax [n · kp / 64],
/// row-major. For k a multiple of CK_NF4_BLOCK these bytes equal bitsandbytes' for the flattened
/// (n, k) tensor.
///
/// ck_nf4_matrix holds the values in tiles of 16 output rows instead (n rounded up to
/// ck_nf4_tiled_rows(n); ck_nf4_tile makes them from bitsandbytes' layout): per tile and block,
/// 512 bytes whose byte 64L + 4c + j holds value 8L + j of the tile's row c in its low nibble and
/// value 8L + 4 + j in its high nibble (L = 0...7), and the 16 rows' absmax (F32) or qabsmax (U8)
/// for that block; absmax2 and offset stay as bitsandbytes has them (quant_nf4.c).
#define CK_NF4_BLOCK 64
#define CK_NF4_BLOCK2 256
#define CK_4BIT_NF4 0
#define CK_4BIT_FP4 1
/// The product's integer codes (ck_4bit_product_code): round(16383·code) in two 8-bit parts (the
/// default: within 2^-15 of the block absmax), or round(127·code) in one (fewer dot products per
/// block, within 1/254 of it: matmul precision medium).
#define CK_4BIT_CODES_15 0
#define CK_4BIT_CODES_8 1
typedef struct {
    const unsigned char *packed;   // [tiled_rows / 16, kp / CK_NF4_BLOCK, 512]
    const float *absmax;           // [tiled_rows / 16, kp / CK_NF4_BLOCK, 16], or NULL when double-quantized:
    const unsigned char *qabsmax;  // [tiled_rows / 16, kp / CK_NF4_BLOCK, 16]
    const float *absmax2;          // [ceil(n · kp / CK_NF4_BLOCK / CK_NF4_BLOCK2)], by row-major block
    float offset;
    long n, k;
    int codebook;                  // CK_4BIT_NF4 or CK_4BIT_FP4
    int codes;                     // CK_4BIT_CODES_15 or CK_4BIT_CODES_8 (the product only)
} ck_nf4_matrix;
/// n rounded up to whole tiles of 16 rows: the rows packed and absmax / qabsmax hold.
long ck_nf4_tiled_rows(long n);
/// bitsandbytes' layout into tiles: bnb_packed [n, kp / 2] and bnb_scales (F32 absmax, or U8
/// qabsmax when double_quantized) [n · kp / 64], read byte-wise (any alignment: a file's bytes),
/// into packed [ck_nf4_tiled_rows(n) · kp / 2] and scales [ck_nf4_tiled_rows(n) · kp / 64] of the
/// same element type; the missing rows are zeros.
void ck_nf4_tile(const unsigned char *bnb_packed, const void *bnb_scales, int double_quantized, long n, long k,
                 unsigned char *packed, void *scales);
/// The inverse: w's indices and absmax / qabsmax in bitsandbytes' layout (sizes as ck_nf4_tile's inputs).
void ck_nf4_untile(const ck_nf4_matrix *w, unsigned char *bnb_packed, void *bnb_scales);
extern const float ck_nf4_code[16];
/// bitsandbytes' FP4 code book (get_4bit_type("fp4")), in index (bit-pattern) order, not sorted.
extern const float ck_fp4_code[16];
extern const float ck_nf4_dynamic_code[256];
/// The product's integer code for index q at CK_4BIT_CODES_15: round(16383·ck_nf4_code[q]).
int ck_nf4_product_code(unsigned q);
/// The product's code for either code book and either `codes`: round(unit·code[q]) (halves away
/// from zero) with unit = ck_4bit_product_unit(codes): 16383 (CK_4BIT_CODES_15) or 127 (CK_4BIT_CODES_8).
int ck_4bit_product_code(int codebook, int codes, unsigned q);
int ck_4bit_product_unit(int codes);
/// Quantizes w (n, k) into bitsandbytes' layout: packed [n, kp / 2] and absmax [n · kp / CK_NF4_BLOCK].
void ck_nf4_quantize(const float *w, long n, long k, unsigned char *packed, float *absmax);
/// The same with the FP4 code book, as bitsandbytes' quantize_4bit(quant_type="fp4") picks indices:
/// torch.bucketize over the midpoints of the sorted code book, then back to bit-pattern order.
void ck_fp4_quantize(const float *w, long n, long k, unsigned char *packed, float *absmax);
/// Double quantization of `count` absmax values: qabsmax [count], absmax2 [ceil(count / CK_NF4_BLOCK2)], offset.
void ck_nf4_compress_absmax(const float *absmax, long count, unsigned char *qabsmax, float *absmax2, float *offset);
void ck_nf4_dequantize_rows(const ck_nf4_matrix *w, long j0, long j1, float *out, long ldo);
void ck_nf4_dequantize_rows_parallel(const ck_nf4_matrix *w, long j0, long j1, float *out, long ldo);
/// As ck_i8_multiply; the weights it multiplies are absmax·ck_4bit_product_code(w->codebook, w->codes, q)
/// / ck_4bit_product_unit(w->codes).
int ck_nf4_multiply(const ck_nf4_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta);

/// q4: groups of CK_Q4_GROUP values, w = d·q + m, q in 0...15, d and m binary16 per group, stored in
/// tiles of 16 output rows (n rounded up to ck_q4_tiled_rows(n), the missing rows zero): per tile and
/// group, 256 bytes whose byte 64L + 4c + j holds value 8L + j of the tile's row c in its low nibble
/// and value 8L + 4 + j in its high nibble (L = 0...3), and 32 binary16 values: the 16 rows' d, then
/// their m (quant_q4.c).
#define CK_Q4_GROUP 32
typedef struct {
    const unsigned char *packed;  // [tiled_rows / 16, kp / CK_Q4_GROUP, 256]
    const unsigned short *dm;     // [tiled_rows / 16, kp / CK_Q4_GROUP, 2, 16]: d, then m, as binary16 bits
    long n, k;
} ck_q4_matrix;
/// n rounded up to whole tiles of 16 rows: the rows packed and dm hold.
long ck_q4_tiled_rows(long n);
/// Quantizes w (n, k) row-major into packed [ck_q4_tiled_rows(n) · kp / 2] and dm [… · kp / 16].
void ck_q4_quantize(const float *w, long n, long k, unsigned char *packed, unsigned short *dm);
/// The same values given row by row: group i (= j · kp / 32 + g) of row j at groups + i · group_stride,
/// 16 bytes (value t in the low nibble of byte t, value t + 16 in its high nibble — GGUF Q4_0's order,
/// whose blocks are 18 bytes apart), its d and m at group_dm[2i], group_dm[2i + 1]; into the tiled
/// packed and dm.
void ck_q4_tile_groups(const unsigned char *groups, long group_stride, const unsigned short *group_dm, long n, long k,
                       unsigned char *packed, unsigned short *dm);
void ck_q4_dequantize_rows(const ck_q4_matrix *w, long j0, long j1, float *out, long ldo);
void ck_q4_dequantize_rows_parallel(const ck_q4_matrix *w, long j0, long j1, float *out, long ldo);
int ck_q4_multiply(const ck_q4_matrix *w, const float *x, long m, long ldx, float *y, long ldy, float beta);

#endif
