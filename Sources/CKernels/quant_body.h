// Included (no include guard) at the top of every quant_<format>_body.h, once per level: defines the
// names, target and integer dot products of the level CK_QVNNI selects. See quant_internal.h.
#include "quant_internal.h"
#include <immintrin.h>

#ifndef CK_QVNNI
#error "define CK_QVNNI (0: AVX2, 1: VNNI) before including a body template"
#endif
// A format's SIMD body is written once, in quant_<format>_body.h, and included by its .c file once per
// level, with CK_QVNNI 0 (AVX2) or 1 (VNNI) defined: CK_QNAME(x) then names x_avx2 or x_vnni,
// CK_QTARGET is the matching target attribute, and the integer dot products below are one VNNI
// instruction or their exact AVX2 equivalent. Both produce the same int32 lanes (lane l sums the
// products of bytes / words 4l…4l+3 / 2l, 2l+1 of its operands), so the bodies give the same bits.
#undef CK_QNAME
#undef CK_QTARGET
#undef CK_DPBUSD
#undef CK_DPWSSD
#if CK_QVNNI
#define CK_QNAME(x) x##_vnni
#define CK_QTARGET CK_VNNI
/// acc + Σ of 4 products u8 · s8 per int32 lane (vpdpbusd, exact for all operands).
#define CK_DPBUSD(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
/// acc + Σ of 2 products s16 · s16 per int32 lane (vpdpwssd, exact: no pair is −32768·−32768).
#define CK_DPWSSD(acc, a, b) _mm256_dpwssd_epi32(acc, a, b)
#else
#define CK_QNAME(x) x##_avx2
#define CK_QTARGET CK_AVX2
/// The same with vpmaddubsw → vpmaddwd: exact while each adjacent pair of u8 · s8 products fits
/// int16, which the callers' operands guarantee (int8: |w| ≤ 127 times |a| ≤ 127; q4: 15 · 127).
#define CK_DPBUSD(acc, u, s) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
#define CK_DPWSSD(acc, a, b) _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
#endif
