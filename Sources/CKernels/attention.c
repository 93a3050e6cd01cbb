// Attention against the block KV cache for a few query rows (decode), and the KV element
// conversions (see include/ckernels.h, section "KV cache and decode attention").
//
// ck_attend_span is a single pass over a span of cached positions with an online softmax: per
// (query row, head) it keeps the running maximum m of the scaled scores, the sum l of exp(s − m)
// and the accumulator acc = Σ exp(s − m)·v, rescaling l and acc by exp(m_old − m_new) whenever the
// maximum grows. Each cached key and value row is read once per span (every head, every query row
// of the group: the 8-position tile stays in L1 meanwhile). ck_attend_merge combines the states
// of consecutive spans and writes acc / l. The result equals softmax(q·kᵀ·scale)·v up to the order
// of the summation (and the exp polynomial's ≈ 2e-7 relative error).
//
// The AVX2 bodies (AVX2 + FMA + F16C, 8 floats per vector) carry target attributes and are only
// called when the caller has checked ck_has_avx2(); the *_portable versions are plain C
// for every CPU (and for the tests). Decode attention is bound by reading the cache, so AVX-512
// would add nothing but a second copy of the code.
#include "ckernels.h"
#include "vmath_avx2.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define UNROLL _Pragma("clang loop unroll(full)")

enum { TILE = 8 };  // positions per tile: one score vector

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

// ---- AVX2 element conversions ---------------------------------------------------------------

/// Lanes i < left set (all ones), the rest clear: the mask for a ragged 8-float vector.
INLINE AVX2 __m256i lanes8(long left) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(left < 8 ? left : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// 8 bf16 bit patterns of x (packed in 128 bits), rounded like f32_to_bf16.
INLINE AVX2 __m128i bf16_round8(__m256 x) {
    const __m256i u = _mm256_castps_si256(x);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7FFF))), 16);
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF)), _mm256_set1_epi32(0x7F800000));
    const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
    // Each 32-bit lane holds a value ≤ 0xFFFF: pack to 16 bits, then gather the two 64-bit halves.
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08));
}

INLINE AVX2 __m128i narrow8(const int kind, __m256 x) {
    if (kind == CK_HALF_F16) return _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return bf16_round8(x);
}

/// 8 `kind` elements at p as F32; only the first `count` (≤ 8) are read, the rest are 0.
INLINE AVX2 __m256 kvload(const int kind, long count, const void *p) {
    if (kind == CK_KV_F32) {
        if (count >= 8) return _mm256_loadu_ps((const float *)p);
        return _mm256_maskload_ps((const float *)p, lanes8(count));
    }
    __m128i h;
    if (count >= 8) h = _mm_loadu_si128((const __m128i *)p);
    else {
        uint16_t t[8] = {0};
        memcpy(t, p, 2 * (size_t)count);
        h = _mm_loadu_si128((const __m128i *)t);
    }
    if (kind == CK_HALF_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

AVX2 void ck_kv_store(const float *src, void *dst, long n, int kind) {
    if (kind == CK_KV_F32) { memcpy(dst, src, (size_t)n * 4); return; }
    uint16_t *d = (uint16_t *)dst;
    long i = 0;
    if (kind == CK_HALF_F16)
        for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(d + i), narrow8(CK_HALF_F16, _mm256_loadu_ps(src + i)));
    else
        for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(d + i), narrow8(CK_HALF_BF16, _mm256_loadu_ps(src + i)));
    if (i < n) ck_kv_store_portable(src + i, d + i, n - i, kind);
}

AVX2 void ck_kv_load(const void *src, float *dst, long n, int kind) {
    if (kind == CK_KV_F32) { memcpy(dst, src, (size_t)n * 4); return; }
    const uint16_t *s = (const uint16_t *)src;
    long i = 0;
    if (kind == CK_HALF_F16) for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, kvload(CK_HALF_F16, 8, s + i));
    else for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, kvload(CK_HALF_BF16, 8, s + i));
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

// ---- AVX2 span -------------------------------------------------------------------------------

/// One vector whose lane j is the sum of r[j]'s 8 lanes.
INLINE AVX2 __m256 reduce8x8(const __m256 r[8]) {
    // hadd pairs: 128-bit half h of t[i] = (r[2i] pair sums, r[2i+1] pair sums) of that half.
    const __m256 t0 = _mm256_hadd_ps(r[0], r[1]), t1 = _mm256_hadd_ps(r[2], r[3]);
    const __m256 t2 = _mm256_hadd_ps(r[4], r[5]), t3 = _mm256_hadd_ps(r[6], r[7]);
    // Half h of u0: the sums of r[0..3] over that half's 4 lanes; u1: r[4..7].
    const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/// Scores of one query head against positions 0..<nt (≤ 8) of a tile: lane j = q_h · k_j
/// (unscaled), 0 for j ≥ nt. k points at the tile's first row, head h's columns; rows ldb bytes apart.
INLINE AVX2 __m256 tile_scores(const int kind, const float *qh, long HD, const char *k, long ldb, long nt) {
    __m256 r[TILE];
UNROLL
    for (int j = 0; j < TILE; j++) r[j] = _mm256_setzero_ps();
    for (long c = 0; c < HD; c += 8) {
        const long cnt = HD - c;
        const __m256 qv = cnt >= 8 ? _mm256_loadu_ps(qh + c) : _mm256_maskload_ps(qh + c, lanes8(cnt));
        const char *kc = k + c * kv_size(kind);
UNROLL
        for (int j = 0; j < TILE; j++)
            if (j < nt) r[j] = _mm256_fmadd_ps(qv, kvload(kind, cnt, kc + j * ldb), r[j]);
    }
    return reduce8x8(r);
}

/// acc[0:HD) = alpha·acc + Σ_{j < nt} p[j]·v_j; v points at the tile's first row, head h's columns.
INLINE AVX2 void tile_accumulate(const int kind, float *acc, long HD, float alpha, const float *p,
                                 const char *v, long ldb, long nt) {
    for (long c0 = 0; c0 < HD; c0 += 32) {   // 32 columns (4 vectors, 4 FMA chains) at a time
        __m256 a[4];
        long cnt[4];
UNROLL
        for (int g = 0; g < 4; g++) {
            cnt[g] = HD - c0 - 8 * g;
            a[g] = cnt[g] >= 8 ? _mm256_loadu_ps(acc + c0 + 8 * g)
                 : cnt[g] > 0 ? _mm256_maskload_ps(acc + c0 + 8 * g, lanes8(cnt[g])) : _mm256_setzero_ps();
            a[g] = _mm256_mul_ps(a[g], _mm256_set1_ps(alpha));
        }
        const char *vc = v + c0 * kv_size(kind);
        for (long j = 0; j < nt; j++) {
            const __m256 pj = _mm256_set1_ps(p[j]);
UNROLL
            for (int g = 0; g < 4; g++)
                if (cnt[g] > 0) a[g] = _mm256_fmadd_ps(pj, kvload(kind, cnt[g], vc + j * ldb + 8 * g * kv_size(kind)), a[g]);
        }
UNROLL
        for (int g = 0; g < 4; g++) {
            if (cnt[g] >= 8) _mm256_storeu_ps(acc + c0 + 8 * g, a[g]);
            else if (cnt[g] > 0) _mm256_maskstore_ps(acc + c0 + 8 * g, lanes8(cnt[g]), a[g]);
        }
    }
}

INLINE AVX2 void span_avx2(const int kind, const ck_kv_view *kv, const ck_attn_query *q,
                           long begin, long end, float *state) {
    const long HD = q->head_dim, NH = q->heads, stride = HD + 2, B = kv->block_tokens;
    const long ldb = kv->ld * kv_size(kind);   // bytes between positions' rows
    // Row i sees positions < first_visible + i, so the last row sees < first_visible + rows − 1 (the
    // cache's length): no tile, and no prefetch of a next tile, may reach a block past it.
    const long seen = q->first_visible + q->rows - 1;
    if (end > seen) end = seen;
    float p[TILE];
    for (long t0 = begin; t0 < end;) {
        // A tile: ≤ 8 positions inside one block.
        const long block_end = (t0 / B + 1) * B;
        const long nt0 = (end < block_end ? end : block_end) - t0, nt = nt0 < TILE ? nt0 : TILE;
        const char *k = kv_row(kv, 0, t0, 0), *v = kv_row(kv, 1, t0, 0);
        // The next tile's keys and values (each a contiguous run of rows) are prefetched a slice per
        // head while this one computes: the heads walk a tile column-slice by column-slice, an order
        // the hardware prefetcher does not follow, so without this every row is a cache miss.
        const long t1 = t0 + nt, nt1 = end - t1 < TILE ? end - t1 : TILE;
        const long rows1 = nt1 <= 0 ? 0 : ((t1 / B + 1) * B - t1 < nt1 ? (t1 / B + 1) * B - t1 : nt1);
        const char *k1 = rows1 ? kv_row(kv, 0, t1, 0) : k, *v1 = rows1 ? kv_row(kv, 1, t1, 0) : v;
        const long slice = (rows1 * ldb / NH + 63) & ~63L;
        int prefetched = 0;
        for (long i = 0; i < q->rows; i++) {
            const long valid = q->first_visible + i - t0 < nt ? q->first_visible + i - t0 : nt;
            if (valid <= 0) continue;
            const __m256i mk = lanes8(valid);
            const float *qi = q->q + i * q->ldq;
            for (long h = 0; h < NH; h++) {
                if (!prefetched)
                    for (long o = h * slice; o < (h + 1) * slice && o < rows1 * ldb; o += 64) {
                        _mm_prefetch(k1 + o, _MM_HINT_T0);
                        _mm_prefetch(v1 + o, _MM_HINT_T0);
                    }
                float *st = state + (i * NH + h) * stride;
                const long col = h * HD * kv_size(kind);
                const __m256 s = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY),
                    _mm256_mul_ps(tile_scores(kind, qi + h * HD, HD, k + col, ldb, valid), _mm256_set1_ps(q->scale)),
                    _mm256_castsi256_ps(mk));
                const float tmax = hmax8(s);
                const float m = tmax > st[0] ? tmax : st[0];
                const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(s, _mm256_set1_ps(m))), _mm256_castsi256_ps(mk));
                _mm256_storeu_ps(p, e);                                  // p[j] = exp(s_j − m), 0 past valid
                const float alpha = st[0] == m ? 1.0f : expf(st[0] - m);  // 0 for the first tile
                st[0] = m;
                st[1] = st[1] * alpha + hsum8(e);
                tile_accumulate(kind, st + 2, HD, alpha, p, v + col, ldb, valid);
            }
            prefetched = 1;
        }
        t0 += nt;
    }
}

AVX2 void ck_attend_span(const ck_kv_view *kv, const ck_attn_query *q, long begin, long end, float *state) {
    state_init(q, state);
    switch (kv->kind) {
    case CK_HALF_F16: span_avx2(CK_HALF_F16, kv, q, begin, end, state); break;
    case CK_HALF_BF16: span_avx2(CK_HALF_BF16, kv, q, begin, end, state); break;
    default: span_avx2(CK_KV_F32, kv, q, begin, end, state); break;
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
