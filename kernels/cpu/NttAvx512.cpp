//===- NttAvx512.cpp - AVX-512 stages of the negacyclic NTT ---------------===//
//
// The butterflies of NttAvx2.cpp in 512-bit registers, sixteen lanes at a
// time: stages whose span is at least 16 words on whole vectors (two stages
// per pass over memory where both are that wide), and the four narrowest
// (spans 8, 4, 2, 1) in one pass over 32-word blocks, shuffled between
// stages so that every lane computes a butterfly. Those four had run on the
// AVX2 code's eight lanes and took 59% of a forward transform at N = 2^16
// (39 of 66 us on one Zen 5 core). Tests require all paths to agree bit for
// bit.
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

/// What the inverse transform's last pass does to each word it stores: the
/// scaling by N^-1 into [0, p) (other passes store as they are).
struct Finish {
  bool scale = false;
  __m512i nInv, nInvQ;
  CERIUM_AVX512 __m512i apply(__m512i x, __m512i p) const {
    return scale ? reduceOnce(mulShoupLazy(x, nInv, nInvQ, p), p) : x;
  }
};

/// One stage with `m` groups of span `half` (>= 16), forward or inverse.
template <bool Forward>
CERIUM_AVX512 void wideStage(uint32_t *a, size_t m, size_t half,
                             const uint32_t *w, const uint32_t *wq, __m512i p,
                             __m512i twoP, const Finish &finish) {
  for (size_t i = 0; i < m; ++i) {
    const __m512i vw = broadcast(w, m + i), vwq = broadcast(wq, m + i);
    uint32_t *xs = a + 2 * i * half, *ys = xs + half;
    for (size_t j = 0; j < half; j += 16) {
      __m512i x = _mm512_loadu_si512(xs + j), y = _mm512_loadu_si512(ys + j);
      if constexpr (Forward)
        forwardButterfly(x, y, vw, vwq, p, twoP);
      else
        inverseButterfly(x, y, vw, vwq, p, twoP);
      _mm512_storeu_si512(xs + j, finish.apply(x, p));
      _mm512_storeu_si512(ys + j, finish.apply(y, p));
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
                                  __m512i cq, __m512i p, __m512i twoP,
                                  const Finish &finish) {
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
  _mm512_storeu_si512(p0, finish.apply(x0, p));
  _mm512_storeu_si512(p0 + stride, finish.apply(x1, p));
  _mm512_storeu_si512(p0 + 2 * stride, finish.apply(x2, p));
  _mm512_storeu_si512(p0 + 3 * stride, finish.apply(x3, p));
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
                           twoP, Finish{});
  }
}

/// Two inverse stages in one pass: span `half` (>= 16, m groups) and the
/// next (span 2 half, m / 2 groups).
CERIUM_AVX512 void inverseStagePair(uint32_t *a, size_t m, size_t half,
                                    const uint32_t *w, const uint32_t *wq,
                                    __m512i p, __m512i twoP,
                                    const Finish &finish) {
  for (size_t k = 0; k < m / 2; ++k) {
    const __m512i w1 = broadcast(w, m + 2 * k), w1q = broadcast(wq, m + 2 * k);
    const __m512i w2 = broadcast(w, m + 2 * k + 1),
                  w2q = broadcast(wq, m + 2 * k + 1);
    const __m512i w3 = broadcast(w, m / 2 + k), w3q = broadcast(wq, m / 2 + k);
    uint32_t *base = a + 4 * k * half;
    for (size_t j = 0; j < half; j += 16)
      stagePairBlock<false>(base + j, half, w1, w1q, w2, w2q, w3, w3q, p, twoP,
                            finish);
  }
}

/// Twiddles table[0..count) (count <= 16) placed in lanes by `index`.
CERIUM_AVX512 __m512i twiddlesInLanes(const uint32_t *table, __m512i index,
                                      size_t count) {
  __m512i t;
  if (count == 16)
    t = _mm512_loadu_si512(table);
  else if (count == 8)
    t = _mm512_zextsi256_si512(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(table)));
  else if (count == 4)
    t = _mm512_zextsi128_si512(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(table)));
  else
    t = _mm512_zextsi128_si512(
        _mm_loadl_epi64(reinterpret_cast<const __m128i *>(table)));
  return _mm512_permutexvar_epi32(index, t);
}

CERIUM_AVX512 __m512i shuffleEven(__m512i x, __m512i y) {
  return _mm512_castps_si512(_mm512_shuffle_ps(
      _mm512_castsi512_ps(x), _mm512_castsi512_ps(y), _MM_SHUFFLE(2, 0, 2, 0)));
}
CERIUM_AVX512 __m512i shuffleOdd(__m512i x, __m512i y) {
  return _mm512_castps_si512(_mm512_shuffle_ps(
      _mm512_castsi512_ps(x), _mm512_castsi512_ps(y), _MM_SHUFFLE(3, 1, 3, 1)));
}

/// The four narrowest stages (spans 8, 4, 2, 1) in one pass over blocks of
/// 32 words, A = a0..a15 and B = b0..b15, kept in registers throughout. With
/// [..|..|..|..] a vector's four 128-bit lanes, the operands of each stage:
///   span 8: x = [a0-3|a4-7|b0-3|b4-7],   y = [a8-11|a12-15|b8-11|b12-15]
///   span 4: x = [a0-3|b0-3|a8-11|b8-11], y = [a4-7|b4-7|a12-15|b12-15]
///   span 2: x = [a0 a1 a4 a5|b0 b1 b4 b5|a8 a9 a12 a13|b8 ..], y = the +2s
///   span 1: x = [a0 a4 a2 a6|b0 b4 b2 b6|a8 a12 a10 a14|b8 ..], y = the +1s
/// Each step between them is one shuffle per operand, and a butterfly's
/// twiddle (one per group of 2 span words: group k of the block is table
/// entry m + (block) 32 / (2 span) + k) is permuted into its lane. Forward
/// runs span 8 down and finishes with the reduction to [0, p); inverse runs
/// span 1 up. The butterflies are the stages' own: bit-identical.
template <bool Forward>
CERIUM_AVX512 void narrowStages(uint32_t *a, size_t n, const uint32_t *w,
                                const uint32_t *wq, __m512i p, __m512i twoP) {
  const size_t m8 = n / 16, m4 = n / 8, m2 = n / 4, m1 = n / 2;
  // Group of each lane, per stage (see above).
  const __m512i halves =
      _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i quads =
      _mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1, 3, 3, 3, 3);
  const __m512i pairs =
      _mm512_setr_epi32(0, 0, 1, 1, 4, 4, 5, 5, 2, 2, 3, 3, 6, 6, 7, 7);
  const __m512i singles =
      _mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15);
  // 64-bit lanes of (x, y): the span-4 operands from memory order and back.
  const __m512i toLow = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i toHigh = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  // The span-8 operands from the span-4 ones.
  const __m512i quadsLow = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i quadsHigh = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  for (size_t blk = 0; 32 * blk < n; ++blk) {
    uint32_t *block = a + 32 * blk;
    __m512i va = _mm512_loadu_si512(block), vb = _mm512_loadu_si512(block + 16);
    __m512i x, y, x2, y2, x1, y1;
    if constexpr (Forward) {
      x = _mm512_shuffle_i64x2(va, vb, _MM_SHUFFLE(1, 0, 1, 0));
      y = _mm512_shuffle_i64x2(va, vb, _MM_SHUFFLE(3, 2, 3, 2));
      forwardButterfly(x, y, twiddlesInLanes(w + m8 + 2 * blk, halves, 2),
                       twiddlesInLanes(wq + m8 + 2 * blk, halves, 2), p, twoP);
      x2 = _mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(2, 0, 2, 0));
      y2 = _mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(3, 1, 3, 1));
      forwardButterfly(x2, y2, twiddlesInLanes(w + m4 + 4 * blk, quads, 4),
                       twiddlesInLanes(wq + m4 + 4 * blk, quads, 4), p, twoP);
      x = _mm512_unpacklo_epi64(x2, y2);
      y = _mm512_unpackhi_epi64(x2, y2);
      forwardButterfly(x, y, twiddlesInLanes(w + m2 + 8 * blk, pairs, 8),
                       twiddlesInLanes(wq + m2 + 8 * blk, pairs, 8), p, twoP);
      x1 = shuffleEven(x, y);
      y1 = shuffleOdd(x, y);
      forwardButterfly(x1, y1, twiddlesInLanes(w + m1 + 16 * blk, singles, 16),
                       twiddlesInLanes(wq + m1 + 16 * blk, singles, 16), p,
                       twoP);
      // Back to memory order, undoing each step.
      x = _mm512_unpacklo_epi32(x1, y1);
      y = _mm512_unpackhi_epi32(x1, y1);
      x2 = _mm512_unpacklo_epi64(x, y);
      y2 = _mm512_unpackhi_epi64(x, y);
      va = _mm512_permutex2var_epi64(x2, toLow, y2);
      vb = _mm512_permutex2var_epi64(x2, toHigh, y2);
      va = reduceOnce(reduceOnce(va, twoP), p);
      vb = reduceOnce(reduceOnce(vb, twoP), p);
    } else {
      x2 = _mm512_permutex2var_epi64(va, toLow, vb);
      y2 = _mm512_permutex2var_epi64(va, toHigh, vb);
      x = _mm512_unpacklo_epi64(x2, y2);
      y = _mm512_unpackhi_epi64(x2, y2);
      x1 = shuffleEven(x, y);
      y1 = shuffleOdd(x, y);
      inverseButterfly(x1, y1, twiddlesInLanes(w + m1 + 16 * blk, singles, 16),
                       twiddlesInLanes(wq + m1 + 16 * blk, singles, 16), p,
                       twoP);
      x = _mm512_unpacklo_epi32(x1, y1);
      y = _mm512_unpackhi_epi32(x1, y1);
      inverseButterfly(x, y, twiddlesInLanes(w + m2 + 8 * blk, pairs, 8),
                       twiddlesInLanes(wq + m2 + 8 * blk, pairs, 8), p, twoP);
      x2 = _mm512_unpacklo_epi64(x, y);
      y2 = _mm512_unpackhi_epi64(x, y);
      inverseButterfly(x2, y2, twiddlesInLanes(w + m4 + 4 * blk, quads, 4),
                       twiddlesInLanes(wq + m4 + 4 * blk, quads, 4), p, twoP);
      x = _mm512_permutex2var_epi64(x2, quadsLow, y2);
      y = _mm512_permutex2var_epi64(x2, quadsHigh, y2);
      inverseButterfly(x, y, twiddlesInLanes(w + m8 + 2 * blk, halves, 2),
                       twiddlesInLanes(wq + m8 + 2 * blk, halves, 2), p, twoP);
      va = _mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(1, 0, 1, 0));
      vb = _mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(3, 2, 3, 2));
    }
    _mm512_storeu_si512(block, va);
    _mm512_storeu_si512(block + 16, vb);
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
    wideStage<true>(a, m, half, w, wq, p, twoP, Finish{});
  narrowStages<true>(a, n, w, wq, p, twoP);
}

__attribute__((target("avx512f"))) void
nttInverseAvx512(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 32)
    return nttInverseAvx2(a, t, logN);
  const __m512i p = _mm512_set1_epi32(static_cast<int>(t.modulus.value));
  const __m512i twoP = _mm512_add_epi32(p, p);
  const uint32_t *w = t.inverseTwiddles.data();
  const uint32_t *wq = t.inverseTwiddlesShoup.data();
  narrowStages<false>(a, n, w, wq, p, twoP);
  const Finish none{},
      scale{true, _mm512_set1_epi32(static_cast<int>(t.degreeInverse)),
            _mm512_set1_epi32(static_cast<int>(t.degreeInverseShoup))};
  // m is 2^(logN - 5): pairs until one pair (even logN) or one stage (odd)
  // is left, which also scales by N^-1.
  size_t half = 16, m = n / 32;
  for (; m > 2; m >>= 2, half <<= 2)
    inverseStagePair(a, m, half, w, wq, p, twoP, none);
  if (m == 2)
    inverseStagePair(a, m, half, w, wq, p, twoP, scale);
  else
    wideStage<false>(a, m, half, w, wq, p, twoP, scale);
}

} // namespace cerium::kernels::cpu
