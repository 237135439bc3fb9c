//===- NttAvx512.cpp - AVX-512 stages of the negacyclic NTT ---------------===//
//
// The stages whose butterfly span is at least 16 words, sixteen lanes at a
// time (1.35x the AVX2 stage per measured pass at N = 2^16 on the CI's
// AMD EPYC), two stages per pass over memory where both are that wide; the
// narrower stages and the final reductions are the AVX2 code's. The butterflies
// are those of NttAvx2.cpp in 512-bit registers; tests require all paths to
// agree bit for bit.
//
//===----------------------------------------------------------------------===//

#include "cerium/kernels/CpuBackend.h"

#include <immintrin.h>

// GCC 12 reports the intentionally undefined source operands inside
// avx512fintrin.h (_mm512_undefined_epi32) as maybe-uninitialized when
// the intrinsics inline here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define CERIUM_AVX512 __attribute__((target("avx512f"), always_inline)) inline

namespace cerium::kernels::cpu {
namespace {

CERIUM_AVX512 __m512i mulHi(__m512i a, __m512i b) {
  __m512i even = _mm512_srli_epi64(_mm512_mul_epu32(a, b), 32);
  __m512i odd =
      _mm512_mul_epu32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32));
  return _mm512_mask_blend_epi32(0xAAAA, even, odd);
}

CERIUM_AVX512 __m512i reduceOnce(__m512i x, __m512i m) {
  return _mm512_min_epu32(x, _mm512_sub_epi32(x, m));
}

CERIUM_AVX512 __m512i mulShoupLazy(__m512i x, __m512i w, __m512i wq,
                                   __m512i p) {
  __m512i q = mulHi(x, wq);
  return _mm512_sub_epi32(_mm512_mullo_epi32(x, w), _mm512_mullo_epi32(q, p));
}

CERIUM_AVX512 void forwardButterfly(__m512i &x, __m512i &y, __m512i w,
                                    __m512i wq, __m512i p, __m512i twoP) {
  __m512i u = reduceOnce(x, twoP);
  __m512i v = mulShoupLazy(y, w, wq, p);
  x = _mm512_add_epi32(u, v);
  y = _mm512_add_epi32(_mm512_sub_epi32(u, v), twoP);
}

CERIUM_AVX512 void inverseButterfly(__m512i &x, __m512i &y, __m512i w,
                                    __m512i wq, __m512i p, __m512i twoP) {
  __m512i u = _mm512_add_epi32(x, y);
  __m512i v = _mm512_add_epi32(_mm512_sub_epi32(x, y), twoP);
  x = reduceOnce(u, twoP);
  y = mulShoupLazy(v, w, wq, p);
}

CERIUM_AVX512 __m512i broadcast(const uint32_t *table, size_t i) {
  return _mm512_set1_epi32(static_cast<int>(table[i]));
}

/// One stage with `m` groups of span `half` (>= 16), forward or inverse.
template <bool Forward>
CERIUM_AVX512 void wideStage(uint32_t *a, size_t m, size_t half,
                             const uint32_t *w, const uint32_t *wq, __m512i p,
                             __m512i twoP) {
  for (size_t i = 0; i < m; ++i) {
    const __m512i vw = broadcast(w, m + i), vwq = broadcast(wq, m + i);
    uint32_t *xs = a + 2 * i * half, *ys = xs + half;
    for (size_t j = 0; j < half; j += 16) {
      __m512i x = _mm512_loadu_si512(xs + j), y = _mm512_loadu_si512(ys + j);
      if constexpr (Forward)
        forwardButterfly(x, y, vw, vwq, p, twoP);
      else
        inverseButterfly(x, y, vw, vwq, p, twoP);
      _mm512_storeu_si512(xs + j, x);
      _mm512_storeu_si512(ys + j, y);
    }
  }
}

/// One block of a stage pair: the four vectors at p0 + k * stride
/// (k = 0..3) through two stages. Forward: (0,2) and (1,3) with twiddle a,
/// then (0,1) with b and (2,3) with c. Inverse: (0,1) with a and (2,3) with
/// b, then (0,2) and (1,3) with c.
template <bool Forward>
CERIUM_AVX512 void stagePairBlock(uint32_t *p0, size_t stride, __m512i a,
                                  __m512i aq, __m512i b, __m512i bq, __m512i c,
                                  __m512i cq, __m512i p, __m512i twoP) {
  __m512i x0 = _mm512_loadu_si512(p0), x1 = _mm512_loadu_si512(p0 + stride),
          x2 = _mm512_loadu_si512(p0 + 2 * stride),
          x3 = _mm512_loadu_si512(p0 + 3 * stride);
  if constexpr (Forward) {
    forwardButterfly(x0, x2, a, aq, p, twoP);
    forwardButterfly(x1, x3, a, aq, p, twoP);
    forwardButterfly(x0, x1, b, bq, p, twoP);
    forwardButterfly(x2, x3, c, cq, p, twoP);
  } else {
    inverseButterfly(x0, x1, a, aq, p, twoP);
    inverseButterfly(x2, x3, b, bq, p, twoP);
    inverseButterfly(x0, x2, c, cq, p, twoP);
    inverseButterfly(x1, x3, c, cq, p, twoP);
  }
  _mm512_storeu_si512(p0, x0);
  _mm512_storeu_si512(p0 + stride, x1);
  _mm512_storeu_si512(p0 + 2 * stride, x2);
  _mm512_storeu_si512(p0 + 3 * stride, x3);
}

/// Two forward stages in one pass over memory: the stage with `m` groups of
/// span `half` and the next (2m groups, span half / 2 >= 16). Each quarter
/// block X0..X3 is loaded once; the butterflies and their order are those
/// of the two stages, so results are bit-identical.
CERIUM_AVX512 void forwardStagePair(uint32_t *a, size_t m, size_t half,
                                    const uint32_t *w, const uint32_t *wq,
                                    __m512i p, __m512i twoP) {
  const size_t quarter = half / 2;
  for (size_t i = 0; i < m; ++i) {
    const __m512i w1 = broadcast(w, m + i), w1q = broadcast(wq, m + i);
    const __m512i w2 = broadcast(w, 2 * m + 2 * i),
                  w2q = broadcast(wq, 2 * m + 2 * i);
    const __m512i w3 = broadcast(w, 2 * m + 2 * i + 1),
                  w3q = broadcast(wq, 2 * m + 2 * i + 1);
    uint32_t *base = a + 2 * i * half;
    for (size_t j = 0; j < quarter; j += 16)
      stagePairBlock<true>(base + j, quarter, w1, w1q, w2, w2q, w3, w3q, p,
                           twoP);
  }
}

/// Two inverse stages in one pass: span `half` (>= 16, m groups) and the
/// next (span 2 half, m / 2 groups).
CERIUM_AVX512 void inverseStagePair(uint32_t *a, size_t m, size_t half,
                                    const uint32_t *w, const uint32_t *wq,
                                    __m512i p, __m512i twoP) {
  for (size_t k = 0; k < m / 2; ++k) {
    const __m512i w1 = broadcast(w, m + 2 * k), w1q = broadcast(wq, m + 2 * k);
    const __m512i w2 = broadcast(w, m + 2 * k + 1),
                  w2q = broadcast(wq, m + 2 * k + 1);
    const __m512i w3 = broadcast(w, m / 2 + k), w3q = broadcast(wq, m / 2 + k);
    uint32_t *base = a + 4 * k * half;
    for (size_t j = 0; j < half; j += 16)
      stagePairBlock<false>(base + j, half, w1, w1q, w2, w2q, w3, w3q, p, twoP);
  }
}

} // namespace

__attribute__((target("avx512f"))) void
nttForwardAvx512(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 32)
    return nttForwardAvx2(a, t, logN);
  const __m512i p = _mm512_set1_epi32(static_cast<int>(t.modulus.value));
  const __m512i twoP = _mm512_add_epi32(p, p);
  const uint32_t *w = t.forwardTwiddles.data();
  const uint32_t *wq = t.forwardTwiddlesShoup.data();
  size_t m = 1, half = n >> 1;
  for (; half >= 32; m <<= 2, half >>= 2)
    forwardStagePair(a, m, half, w, wq, p, twoP);
  for (; half >= 16; m <<= 1, half >>= 1)
    wideStage<true>(a, m, half, w, wq, p, twoP);
  nttForwardAvx2Stages(a, t, logN, m, half);
}

__attribute__((target("avx512f"))) void
nttInverseAvx512(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 32)
    return nttInverseAvx2(a, t, logN);
  size_t half = nttInverseAvx2Stages(a, t, logN, 16);
  const __m512i p = _mm512_set1_epi32(static_cast<int>(t.modulus.value));
  const __m512i twoP = _mm512_add_epi32(p, p);
  const uint32_t *w = t.inverseTwiddles.data();
  const uint32_t *wq = t.inverseTwiddlesShoup.data();
  size_t m = n / (2 * half);
  for (; m >= 2; m >>= 2, half <<= 2)
    inverseStagePair(a, m, half, w, wq, p, twoP);
  for (; m >= 1; m >>= 1, half <<= 1)
    wideStage<false>(a, m, half, w, wq, p, twoP);
  const __m512i nInv = _mm512_set1_epi32(static_cast<int>(t.degreeInverse));
  const __m512i nInvQ =
      _mm512_set1_epi32(static_cast<int>(t.degreeInverseShoup));
  for (size_t j = 0; j < n; j += 16)
    _mm512_storeu_si512(
        a + j,
        reduceOnce(mulShoupLazy(_mm512_loadu_si512(a + j), nInv, nInvQ, p), p));
}

} // namespace cerium::kernels::cpu
