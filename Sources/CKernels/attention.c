// Attention against the block KV cache for a few query rows (decode), and the KV element
// conversions (see include/ckernels.h, section "KV cache and decode attention").
//
// ck_attend_span is a single pass over a span of cached positions with an online softmax: per
// (query row, head) it keeps the running maximum m of the scaled scores, the sum l of exp(s − m)
// and the accumulator acc = Σ exp(s − m)·v, rescaling l and acc by exp(m_old − m_new) whenever the
// maximum grows. Each cached key and value row is read once per span (every head, every query row
// of the group: the 16-position tile stays in L1 meanwhile). ck_attend_merge combines the states
// of consecutive spans and writes acc / l. The result equals softmax(q·kᵀ·scale)·v up to the order
// of the summation (and the exp polynomial's ≈ 2e-7 relative error).
//
// The AVX-512 bodies carry target attributes and are only called when the caller has checked
// ck_has_avx512(); the *_portable versions are plain C for every CPU (and for the tests).
#include "ckernels.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("clang loop unroll(full)")

enum { TILE = 16 };  // positions per tile: one score vector

long ck_attn_state_floats(long rows, long heads, long head_dim) { return rows * heads * (head_dim + 2); }

// ---- Scalar element conversions (round to nearest even; exact widening) ---------------------

/// IEEE binary16 bits of f, rounded to nearest even; overflow gives ±inf, NaN stays a quiet NaN.
static uint16_t f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint32_t sign = (u >> 16) & 0x8000u, mag = u & 0x7FFFFFFFu;
    if (mag > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((mag >> 13) & 0x3FFu));   // NaN
    if (mag >= 0x47800000u) return (uint16_t)(sign | 0x7C00u);      // ≥ 65536 (and inf): inf
    if (mag < 0x38800000u) {                                         // below 2^-14: subnormal or 0
        if (mag < 0x33000000u) return (uint16_t)sign;                // below 2^-25: rounds to 0
        const uint32_t e = mag >> 23, m = (mag & 0x7FFFFFu) | 0x800000u;
        const uint32_t shift = 126 - e;                              // 14..24: value = m·2^(e−150)
        uint32_t h = m >> shift;                                     // in units of 2^-24
        const uint32_t rest = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rest > half || (rest == half && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((mag >> 13) - (112u << 10));                       // rebias 127 → 15, keep 10 bits
    const uint32_t rest = mag & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;        // may carry into inf: correct
    return (uint16_t)(sign | h);
}

static float f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    uint32_t u;
    if (e == 0x1F) u = sign | 0x7F800000u | (m << 13);
    else if (e == 0) {
        const float v = (float)m * 0x1p-24f;                          // exact
        memcpy(&u, &v, 4);
        u |= sign;
    } else u = sign | ((e + 112u) << 23) | (m << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/// bfloat16 bits of f (the top half, rounded to nearest even); NaN stays a quiet NaN.
static uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static float bf16_to_f32(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void ck_kv_store_portable(const float *src, void *dst, long n, int kind) {
    if (kind == CK_KV_F32) { memcpy(dst, src, (size_t)n * 4); return; }
    uint16_t *d = (uint16_t *)dst;
    if (kind == CK_HALF_F16) for (long i = 0; i < n; i++) d[i] = f32_to_f16(src[i]);
    else for (long i = 0; i < n; i++) d[i] = f32_to_bf16(src[i]);
}

void ck_kv_load_portable(const void *src, float *dst, long n, int kind) {
    if (kind == CK_KV_F32) { memcpy(dst, src, (size_t)n * 4); return; }
    const uint16_t *s = (const uint16_t *)src;
    if (kind == CK_HALF_F16) for (long i = 0; i < n; i++) dst[i] = f16_to_f32(s[i]);
    else for (long i = 0; i < n; i++) dst[i] = bf16_to_f32(s[i]);
}

// ---- AVX-512 element conversions ------------------------------------------------------------

INLINE AVX512 __mmask16 lanes(long left) {
    return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u);
}

/// 16 bf16 bit patterns (in 32-bit lanes' low halves) of x, rounded like f32_to_bf16.
INLINE AVX512 __m256i bf16_round16(__m512 x) {
    const __m512i u = _mm512_castps_si512(x);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF))), 16);
    const __mmask16 nan = _mm512_cmp_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                                _mm512_set1_epi32(0x7F800000), _MM_CMPINT_NLE);
    r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(r);
}

INLINE AVX512 __m256i narrow16(const int kind, __m512 x) {
    if (kind == CK_HALF_F16) return _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return bf16_round16(x);
}

/// 16 `kind` elements at p as F32; lanes outside mk read as 0 and are not touched in memory
/// (masked 16-bit loads need AVX-512BW, so a partial vector goes through a zero-padded copy).
INLINE AVX512 __m512 kvload(const int kind, __mmask16 mk, const void *p) {
    if (kind == CK_KV_F32) return _mm512_maskz_loadu_ps(mk, p);
    __m256i h;
    if (mk == (__mmask16)0xFFFF) h = _mm256_loadu_si256((const __m256i *)p);
    else {
        uint16_t t[16] = {0};
        memcpy(t, p, 2 * (size_t)__builtin_popcount(mk));
        h = _mm256_loadu_si256((const __m256i *)t);
    }
    if (kind == CK_HALF_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

AVX512 void ck_kv_store(const float *src, void *dst, long n, int kind) {
    if (kind == CK_KV_F32) { memcpy(dst, src, (size_t)n * 4); return; }
    uint16_t *d = (uint16_t *)dst;
    long i = 0;
    if (kind == CK_HALF_F16)
        for (; i + 16 <= n; i += 16) _mm256_storeu_si256((__m256i *)(d + i), narrow16(CK_HALF_F16, _mm512_loadu_ps(src + i)));
    else
        for (; i + 16 <= n; i += 16) _mm256_storeu_si256((__m256i *)(d + i), narrow16(CK_HALF_BF16, _mm512_loadu_ps(src + i)));
    if (i < n) ck_kv_store_portable(src + i, d + i, n - i, kind);
}

AVX512 void ck_kv_load(const void *src, float *dst, long n, int kind) {
    if (kind == CK_KV_F32) { memcpy(dst, src, (size_t)n * 4); return; }
    const uint16_t *s = (const uint16_t *)src;
    long i = 0;
    if (kind == CK_HALF_F16) for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, kvload(CK_HALF_F16, 0xFFFF, s + i));
    else for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, kvload(CK_HALF_BF16, 0xFFFF, s + i));
    if (i < n) ck_kv_load_portable(s + i, dst + i, n - i, kind);
}

// ---- Spans: shared bookkeeping --------------------------------------------------------------

INLINE long kv_size(int kind) { return kind == CK_KV_F32 ? 4 : 2; }

/// Address of element `col` of position `pos`'s row in the key (values = 0) or value slab.
INLINE const char *kv_row(const ck_kv_view *kv, int values, long pos, long col) {
    const long b = pos / kv->block_tokens, r = pos % kv->block_tokens;
    const long off = (values ? kv->value_offset : kv->key_offset) + r * kv->ld + col;
    return (const char *)kv->blocks[b] + off * kv_size(kv->kind);
}

static void state_init(const ck_attn_query *q, float *state) {
    const long n = q->rows * q->heads, stride = q->head_dim + 2;
    for (long i = 0; i < n; i++) {
        float *st = state + i * stride;
        st[0] = -INFINITY;
        st[1] = 0;
        for (long d = 0; d < q->head_dim; d++) st[2 + d] = 0;
    }
}

// ---- Portable span ---------------------------------------------------------------------------

void ck_attend_span_portable(const ck_kv_view *kv, const ck_attn_query *q, long begin, long end, float *state) {
    const long HD = q->head_dim, NH = q->heads, stride = HD + 2;
    state_init(q, state);
    float k[HD > 0 ? HD : 1], v[HD > 0 ? HD : 1];
    for (long p = begin; p < end; p++) {
        for (long i = 0; i < q->rows; i++) {
            if (p >= q->first_visible + i) continue;   // row i sees positions < first_visible + i
            const float *qi = q->q + i * q->ldq;
            for (long h = 0; h < NH; h++) {
                float *st = state + (i * NH + h) * stride;
                ck_kv_load_portable(kv_row(kv, 0, p, h * HD), k, HD, kv->kind);
                float s = 0;
                for (long d = 0; d < HD; d++) s += qi[h * HD + d] * k[d];
                s *= q->scale;
                const float m = s > st[0] ? s : st[0];
                const float alpha = expf(st[0] - m), e = expf(s - m);   // exp(−inf) = 0 at the start
                st[0] = m;
                st[1] = st[1] * alpha + e;
                ck_kv_load_portable(kv_row(kv, 1, p, h * HD), v, HD, kv->kind);
                for (long d = 0; d < HD; d++) st[2 + d] = st[2 + d] * alpha + e * v[d];
            }
        }
    }
}

// ---- AVX-512 span ----------------------------------------------------------------------------

/// One vector whose lane j is the sum of r[j]'s 16 lanes (a transposing reduction tree).
INLINE AVX512 __m512 reduce16x16(const __m512 r[16]) {
    __m512 z[8], w[4], u[2];
UNROLL
    for (int i = 0; i < 8; i++)   // lanes 0–7: r[2i] folded to 8 partial sums, 8–15: r[2i+1]
        z[i] = _mm512_add_ps(_mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], 0x44),
                             _mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], 0xEE));
UNROLL
    for (int i = 0; i < 4; i++)   // 128-bit lane k: r[4i+k] folded to 4 partial sums
        w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(z[2 * i], z[2 * i + 1], 0x88),
                             _mm512_shuffle_f32x4(z[2 * i], z[2 * i + 1], 0xDD));
UNROLL
    for (int i = 0; i < 2; i++)   // 128-bit lane k: r[8i+k] (2 sums), then r[8i+4+k] (2 sums)
        u[i] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0x44),
                             _mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0xEE));
    // 128-bit lane k: r[k], r[4+k], r[8+k], r[12+k]; i.e. lane 4k+i holds r[4i+k].
    const __m512 s = _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], 0x88), _mm512_shuffle_ps(u[0], u[1], 0xDD));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, s);
}

/// Scores of one query head against positions 0..<nt of a tile: lane j = q_h · k_j (unscaled).
/// k points at the tile's first row, head h's columns; rows are ld elements apart.
INLINE AVX512 __m512 tile_scores(const int kind, const float *qh, long HD, const char *k, long ldb, long nt) {
    __m512 r[16];
UNROLL
    for (int j = 0; j < 16; j++) r[j] = _mm512_setzero_ps();
    for (long c = 0; c < HD; c += 16) {
        const __mmask16 mk = lanes(HD - c);
        const __m512 qv = _mm512_maskz_loadu_ps(mk, qh + c);
        const char *kc = k + c * kv_size(kind);
UNROLL
        for (int j = 0; j < 16; j++)
            if (j < nt) r[j] = _mm512_fmadd_ps(qv, kvload(kind, mk, kc + j * ldb), r[j]);
    }
    return reduce16x16(r);
}

/// acc[0:HD) = alpha·acc + Σ_{j < nt} p[j]·v_j; v points at the tile's first row, head h's columns.
INLINE AVX512 void tile_accumulate(const int kind, float *acc, long HD, float alpha, const float *p,
                                   const char *v, long ldb, long nt) {
    for (long c0 = 0; c0 < HD; c0 += 64) {   // 64 columns (4 vectors, 4 FMA chains) at a time
        __m512 a[4];
        __mmask16 mk[4];
UNROLL
        for (int g = 0; g < 4; g++) {
            mk[g] = lanes(HD - c0 - 16 * g);
            a[g] = _mm512_mul_ps(_mm512_maskz_loadu_ps(mk[g], acc + c0 + 16 * g), _mm512_set1_ps(alpha));
        }
        const char *vc = v + c0 * kv_size(kind);
        for (long j = 0; j < nt; j++) {
            const __m512 pj = _mm512_set1_ps(p[j]);
UNROLL
            for (int g = 0; g < 4; g++)
                if (mk[g]) a[g] = _mm512_fmadd_ps(pj, kvload(kind, mk[g], vc + j * ldb + 16 * g * kv_size(kind)), a[g]);
        }
UNROLL
        for (int g = 0; g < 4; g++) _mm512_mask_storeu_ps(acc + c0 + 16 * g, mk[g], a[g]);
    }
}

INLINE AVX512 void span_avx512(const int kind, const ck_kv_view *kv, const ck_attn_query *q,
                               long begin, long end, float *state) {
    const long HD = q->head_dim, NH = q->heads, stride = HD + 2, B = kv->block_tokens;
    const long ldb = kv->ld * kv_size(kind);   // bytes between positions' rows
    const long last = q->first_visible + q->rows - 1;  // the last row sees positions < last + 1
    if (end > last + 1) end = last + 1;
    float p[TILE];
    for (long t0 = begin; t0 < end;) {
        // A tile: ≤ 16 positions inside one block.
        const long block_end = (t0 / B + 1) * B;
        const long nt0 = (end < block_end ? end : block_end) - t0, nt = nt0 < TILE ? nt0 : TILE;
        const char *k = kv_row(kv, 0, t0, 0), *v = kv_row(kv, 1, t0, 0);
        for (long i = 0; i < q->rows; i++) {
            const long valid = q->first_visible + i - t0 < nt ? q->first_visible + i - t0 : nt;
            if (valid <= 0) continue;
            const __mmask16 mk = lanes(valid);
            const float *qi = q->q + i * q->ldq;
            for (long h = 0; h < NH; h++) {
                float *st = state + (i * NH + h) * stride;
                const long col = h * HD * kv_size(kind);
                const __m512 s = _mm512_mul_ps(tile_scores(kind, qi + h * HD, HD, k + col, ldb, valid),
                                               _mm512_set1_ps(q->scale));
                const float tmax = _mm512_mask_reduce_max_ps(mk, s);
                const float m = tmax > st[0] ? tmax : st[0];
                _mm512_mask_storeu_ps(p, mk, s);
                const float sum = ck_exp_shifted_sum(p, valid, m);    // p[j] = exp(s_j − m)
                const float alpha = st[0] == m ? 1.0f : expf(st[0] - m);  // 0 for the first tile
                st[0] = m;
                st[1] = st[1] * alpha + sum;
                tile_accumulate(kind, st + 2, HD, alpha, p, v + col, ldb, valid);
            }
        }
        t0 += nt;
    }
}

AVX512 void ck_attend_span(const ck_kv_view *kv, const ck_attn_query *q, long begin, long end, float *state) {
    state_init(q, state);
    switch (kv->kind) {
    case CK_HALF_F16: span_avx512(CK_HALF_F16, kv, q, begin, end, state); break;
    case CK_HALF_BF16: span_avx512(CK_HALF_BF16, kv, q, begin, end, state); break;
    default: span_avx512(CK_KV_F32, kv, q, begin, end, state); break;
    }
}

// ---- Merge -----------------------------------------------------------------------------------

void ck_attend_merge(const ck_attn_query *q, const float *states, long parts, float *out, long ldo) {
    const long HD = q->head_dim, NH = q->heads, stride = HD + 2;
    const long part = ck_attn_state_floats(q->rows, NH, HD);
    for (long i = 0; i < q->rows; i++) {
        for (long h = 0; h < NH; h++) {
            const long at = (i * NH + h) * stride;
            float m = -INFINITY;
            for (long s = 0; s < parts; s++) if (states[s * part + at] > m) m = states[s * part + at];
            float *o = out + i * ldo + h * HD;
            float l = 0;
            for (long d = 0; d < HD; d++) o[d] = 0;
            for (long s = 0; s < parts; s++) {
                const float *st = states + s * part + at;
                if (st[1] == 0) continue;                 // this span holds no position of row i
                const float w = st[0] == m ? 1.0f : expf(st[0] - m);
                l += st[1] * w;
                for (long d = 0; d < HD; d++) o[d] += st[2 + d] * w;
            }
            const float inv = 1 / l;
            for (long d = 0; d < HD; d++) o[d] *= inv;
        }
    }
}
