//===- NttAvx2.cpp - AVX2 negacyclic NTT ----------------------------------===//
//
// The butterflies of Ntt.cpp, eight lanes at a time. Stages whose butterfly
// span is at least 16 words run on whole vectors with one broadcast twiddle,
// two stages per pass over memory (four vectors through two butterflies
// each); the four with spans 8, 4, 2, 1 run in one pass over 16-word blocks,
// shuffled so that each lane still computes one butterfly. Passes over
// memory are what a limb's transform is bound by (it sits in L2 at
// N = 2^16), so fewer passes is the gain; the butterflies and their order are
// the portable ones, so results are bit-identical. The functions carry a
// target attribute (not a per-file -mavx2) so that nothing else in the binary
// is compiled for AVX2: the backend calls them only after checking the CPU.
//
//===----------------------------------------------------------------------===//

#include "cerium/kernels/CpuBackend.h"

#include <immintrin.h>

#define CERIUM_AVX2 __attribute__((target("avx2"), always_inline)) inline

namespace cerium::kernels::cpu {
namespace {

CERIUM_AVX2 __m256i mulHi(__m256i a, __m256i b) {
  __m256i even = _mm256_srli_epi64(_mm256_mul_epu32(a, b), 32);
  __m256i odd =
      _mm256_mul_epu32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
  return _mm256_blend_epi32(even, odd, 0xAA);
}

/// x >= m ? x - m : x, lane-wise (unsigned; x < 2m).
CERIUM_AVX2 __m256i reduceOnce(__m256i x, __m256i m) {
  return _mm256_min_epu32(x, _mm256_sub_epi32(x, m));
}

/// x * w mod p in [0, 2p) (Shoup), lane-wise.
CERIUM_AVX2 __m256i mulShoupLazy(__m256i x, __m256i w, __m256i wq, __m256i p) {
  __m256i q = mulHi(x, wq);
  return _mm256_sub_epi32(_mm256_mullo_epi32(x, w), _mm256_mullo_epi32(q, p));
}

CERIUM_AVX2 void forwardButterfly(__m256i &x, __m256i &y, __m256i w, __m256i wq,
                                  __m256i p, __m256i twoP) {
  __m256i u = reduceOnce(x, twoP);
  __m256i v = mulShoupLazy(y, w, wq, p);
  x = _mm256_add_epi32(u, v);
  y = _mm256_add_epi32(_mm256_sub_epi32(u, v), twoP);
}

CERIUM_AVX2 void inverseButterfly(__m256i &x, __m256i &y, __m256i w, __m256i wq,
                                  __m256i p, __m256i twoP) {
  __m256i u = _mm256_add_epi32(x, y);
  __m256i v = _mm256_add_epi32(_mm256_sub_epi32(x, y), twoP);
  x = reduceOnce(u, twoP);
  y = mulShoupLazy(v, w, wq, p);
}

CERIUM_AVX2 __m256i load(const uint32_t *p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}
CERIUM_AVX2 void store(uint32_t *p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), v);
}

/// x -> x N^-1 mod p in [0, p): the inverse NTT's final scaling.
CERIUM_AVX2 __m256i scaleByInverseDegree(__m256i x, __m256i nInv,
                                         __m256i nInvQ, __m256i p) {
  return reduceOnce(mulShoupLazy(x, nInv, nInvQ, p), p);
}

/// What the last pass of a transform does to each word it stores: nothing,
/// the forward NTT's reduction from [0, 4p), or the inverse's scaling.
struct Finish {
  enum Kind { None, Reduce, Scale } kind = None;
  __m256i nInv, nInvQ;
  CERIUM_AVX2 __m256i apply(__m256i x, __m256i p, __m256i twoP) const {
    if (kind == Reduce)
      return reduceOnce(reduceOnce(x, twoP), p);
    if (kind == Scale)
      return scaleByInverseDegree(x, nInv, nInvQ, p);
    return x;
  }
};

/// One stage with `m` groups of span `half` (>= 8): whole vectors, one
/// broadcast twiddle per group.
template <bool Forward>
CERIUM_AVX2 void wideStage(uint32_t *a, size_t m, size_t half,
                           const uint32_t *w, const uint32_t *wq, __m256i p,
                           __m256i twoP, const Finish &finish) {
  for (size_t i = 0; i < m; ++i) {
    __m256i vw = _mm256_set1_epi32(static_cast<int>(w[m + i]));
    __m256i vwq = _mm256_set1_epi32(static_cast<int>(wq[m + i]));
    uint32_t *xs = a + 2 * i * half, *ys = xs + half;
    for (size_t j = 0; j < half; j += 8) {
      __m256i x = load(xs + j), y = load(ys + j);
      if constexpr (Forward)
        forwardButterfly(x, y, vw, vwq, p, twoP);
      else
        inverseButterfly(x, y, vw, vwq, p, twoP);
      store(xs + j, finish.apply(x, p, twoP));
      store(ys + j, finish.apply(y, p, twoP));
    }
  }
}

CERIUM_AVX2 __m256i broadcast(const uint32_t *table, size_t i) {
  return _mm256_set1_epi32(static_cast<int>(table[i]));
}

/// One block of a stage pair: the four vectors at p0 + k * stride
/// (k = 0..3) through two stages. Forward: (0,2) and (1,3) with twiddle a,
/// then (0,1) with b and (2,3) with c. Inverse: (0,1) with a and (2,3) with
/// b, then (0,2) and (1,3) with c. The butterflies and their order are
/// those of the two stages one after the other: bit-identical.
template <bool Forward>
CERIUM_AVX2 void stagePairBlock(uint32_t *p0, size_t stride, __m256i a,
                                __m256i aq, __m256i b, __m256i bq, __m256i c,
                                __m256i cq, __m256i p, __m256i twoP,
                                const Finish &finish) {
  __m256i x0 = load(p0), x1 = load(p0 + stride), x2 = load(p0 + 2 * stride),
          x3 = load(p0 + 3 * stride);
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
  store(p0, finish.apply(x0, p, twoP));
  store(p0 + stride, finish.apply(x1, p, twoP));
  store(p0 + 2 * stride, finish.apply(x2, p, twoP));
  store(p0 + 3 * stride, finish.apply(x3, p, twoP));
}

/// Two forward stages in one pass over memory: `m` groups of span `half`
/// and the next (2m groups, span half / 2 >= 8).
CERIUM_AVX2 void forwardStagePair(uint32_t *a, size_t m, size_t half,
                                  const uint32_t *w, const uint32_t *wq,
                                  __m256i p, __m256i twoP) {
  const size_t quarter = half / 2;
  const Finish none{};
  for (size_t i = 0; i < m; ++i) {
    const __m256i w1 = broadcast(w, m + i), w1q = broadcast(wq, m + i);
    const __m256i w2 = broadcast(w, 2 * m + 2 * i),
                  w2q = broadcast(wq, 2 * m + 2 * i);
    const __m256i w3 = broadcast(w, 2 * m + 2 * i + 1),
                  w3q = broadcast(wq, 2 * m + 2 * i + 1);
    uint32_t *base = a + 2 * i * half;
    for (size_t j = 0; j < quarter; j += 8)
      stagePairBlock<true>(base + j, quarter, w1, w1q, w2, w2q, w3, w3q, p,
                           twoP, none);
  }
}

/// Two inverse stages in one pass: span `half` (>= 8, m groups) and the
/// next (span 2 half, m / 2 groups).
CERIUM_AVX2 void inverseStagePair(uint32_t *a, size_t m, size_t half,
                                  const uint32_t *w, const uint32_t *wq,
                                  __m256i p, __m256i twoP,
                                  const Finish &finish) {
  for (size_t k = 0; k < m / 2; ++k) {
    const __m256i w1 = broadcast(w, m + 2 * k), w1q = broadcast(wq, m + 2 * k);
    const __m256i w2 = broadcast(w, m + 2 * k + 1),
                  w2q = broadcast(wq, m + 2 * k + 1);
    const __m256i w3 = broadcast(w, m / 2 + k), w3q = broadcast(wq, m / 2 + k);
    uint32_t *base = a + 4 * k * half;
    for (size_t j = 0; j < half; j += 8)
      stagePairBlock<false>(base + j, half, w1, w1q, w2, w2q, w3, w3q, p, twoP,
                            finish);
  }
}

/// Twiddles table[0..count) placed in lanes by `index` (vpermd).
CERIUM_AVX2 __m256i twiddlesInLanes(const uint32_t *table, __m256i index,
                                    size_t count) {
  __m256i t = count == 8 ? load(table)
              : count == 4
                  ? _mm256_castsi128_si256(_mm_loadu_si128(
                        reinterpret_cast<const __m128i *>(table)))
                  : _mm256_castsi128_si256(_mm_loadl_epi64(
                        reinterpret_cast<const __m128i *>(table)));
  return _mm256_permutevar8x32_epi32(t, index);
}

CERIUM_AVX2 __m256i shuffleEven(__m256i x, __m256i y) {
  return _mm256_castps_si256(_mm256_shuffle_ps(
      _mm256_castsi256_ps(x), _mm256_castsi256_ps(y), _MM_SHUFFLE(2, 0, 2, 0)));
}
CERIUM_AVX2 __m256i shuffleOdd(__m256i x, __m256i y) {
  return _mm256_castps_si256(_mm256_shuffle_ps(
      _mm256_castsi256_ps(x), _mm256_castsi256_ps(y), _MM_SHUFFLE(3, 1, 3, 1)));
}

/// The four narrowest stages (spans 8, 4, 2, 1) in one pass: each 16-word
/// block a0..a7 b0..b7 goes through all of them in registers. Between
/// stages the words move with one or two shuffles (not back to memory
/// order each time), so a butterfly's operands may sit in any lanes; its
/// twiddle is permuted into the same lane. Forward runs the stages from
/// span 8 down and finishes with `finish`; inverse from span 1 up.
template <bool Forward>
CERIUM_AVX2 void narrowStages(uint32_t *a, size_t n, const uint32_t *w,
                              const uint32_t *wq, __m256i p, __m256i twoP,
                              const Finish &finish) {
  // Groups of the stages with spans 8, 4, 2, 1.
  const size_t m8 = n / 16, m4 = n / 8, m2 = n / 4, m1 = n / 2;
  const __m256i quads = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
  for (size_t blk = 0; blk < m8; ++blk) {
    uint32_t *block = a + 16 * blk;
    __m256i va = load(block), vb = load(block + 8), x, y;
    if constexpr (Forward) {
      // Span 8: (a_j, b_j).
      forwardButterfly(va, vb, broadcast(w, m8 + blk), broadcast(wq, m8 + blk),
                       p, twoP);
      // Span 4: x = a0-3 | b0-3, y = a4-7 | b4-7.
      x = _mm256_permute2x128_si256(va, vb, 0x20);
      y = _mm256_permute2x128_si256(va, vb, 0x31);
      forwardButterfly(x, y, twiddlesInLanes(w + m4 + 2 * blk, quads, 2),
                       twiddlesInLanes(wq + m4 + 2 * blk, quads, 2), p, twoP);
      // Span 2: x = a0 a1 a4 a5 | b0 b1 b4 b5, y = a2 a3 a6 a7 | b2 ...
      const __m256i pairs = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
      __m256i x2 = _mm256_unpacklo_epi64(x, y), y2 = _mm256_unpackhi_epi64(x, y);
      forwardButterfly(x2, y2, twiddlesInLanes(w + m2 + 4 * blk, pairs, 4),
                       twiddlesInLanes(wq + m2 + 4 * blk, pairs, 4), p, twoP);
      // Span 1: x = a0 a4 a2 a6 | b0 b4 b2 b6, y = a1 a5 a3 a7 | b1 ...
      const __m256i singles = _mm256_setr_epi32(0, 2, 1, 3, 4, 6, 5, 7);
      __m256i x1 = shuffleEven(x2, y2), y1 = shuffleOdd(x2, y2);
      forwardButterfly(x1, y1, twiddlesInLanes(w + m1 + 8 * blk, singles, 8),
                       twiddlesInLanes(wq + m1 + 8 * blk, singles, 8), p,
                       twoP);
      // Back to memory order, undoing each step.
      x2 = _mm256_unpacklo_epi32(x1, y1);
      y2 = _mm256_unpackhi_epi32(x1, y1);
      x = _mm256_unpacklo_epi64(x2, y2);
      y = _mm256_unpackhi_epi64(x2, y2);
      va = _mm256_permute2x128_si256(x, y, 0x20);
      vb = _mm256_permute2x128_si256(x, y, 0x31);
    } else {
      // Span 1: x = a0 a2 b0 b2 | a4 a6 b4 b6, y = a1 a3 b1 b3 | a5 ...
      const __m256i singles = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
      x = shuffleEven(va, vb);
      y = shuffleOdd(va, vb);
      inverseButterfly(x, y, twiddlesInLanes(w + m1 + 8 * blk, singles, 8),
                       twiddlesInLanes(wq + m1 + 8 * blk, singles, 8), p,
                       twoP);
      // Memory order again (a0-7, b0-7), then span 2:
      // x = a0 a1 b0 b1 | a4 a5 b4 b5, y = a2 a3 b2 b3 | a6 ...
      va = _mm256_unpacklo_epi32(x, y);
      vb = _mm256_unpackhi_epi32(x, y);
      const __m256i pairs = _mm256_setr_epi32(0, 0, 2, 2, 1, 1, 3, 3);
      x = _mm256_unpacklo_epi64(va, vb);
      y = _mm256_unpackhi_epi64(va, vb);
      inverseButterfly(x, y, twiddlesInLanes(w + m2 + 4 * blk, pairs, 4),
                       twiddlesInLanes(wq + m2 + 4 * blk, pairs, 4), p, twoP);
      // Span 4: x = a0-3 | b0-3, y = a4-7 | b4-7.
      va = _mm256_unpacklo_epi64(x, y);
      vb = _mm256_unpackhi_epi64(x, y);
      x = _mm256_permute2x128_si256(va, vb, 0x20);
      y = _mm256_permute2x128_si256(va, vb, 0x31);
      inverseButterfly(x, y, twiddlesInLanes(w + m4 + 2 * blk, quads, 2),
                       twiddlesInLanes(wq + m4 + 2 * blk, quads, 2), p, twoP);
      // Span 8: (a_j, b_j).
      va = _mm256_permute2x128_si256(x, y, 0x20);
      vb = _mm256_permute2x128_si256(x, y, 0x31);
      inverseButterfly(va, vb, broadcast(w, m8 + blk), broadcast(wq, m8 + blk),
                       p, twoP);
    }
    store(block, finish.apply(va, p, twoP));
    store(block + 8, finish.apply(vb, p, twoP));
  }
}

} // namespace

// Forward: stage pairs while both spans are >= 16 words, a single stage of
// span 16 if one is left, then the four narrow stages with the final
// reduction in one pass: 7 passes over memory at N = 2^16 instead of 17.
__attribute__((target("avx2"))) void
nttForwardAvx2(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 16)
    return nttForwardPortable(a, t, logN);
  const __m256i p = _mm256_set1_epi32(static_cast<int>(t.modulus.value));
  const __m256i twoP = _mm256_add_epi32(p, p);
  const uint32_t *w = t.forwardTwiddles.data();
  const uint32_t *wq = t.forwardTwiddlesShoup.data();
  const Finish none{}, reduce{Finish::Reduce, {}, {}};
  size_t m = 1, half = n >> 1;
  for (; half >= 32; m <<= 2, half >>= 2)
    forwardStagePair(a, m, half, w, wq, p, twoP);
  for (; half >= 16; m <<= 1, half >>= 1)
    wideStage<true>(a, m, half, w, wq, p, twoP, none);
  narrowStages<true>(a, n, w, wq, p, twoP, reduce);
}

// Inverse: the four narrow stages in one pass, then stage pairs up to span
// n/2 (the last a single stage where an odd number is left); the last pass
// also scales by N^-1.
__attribute__((target("avx2"))) void
nttInverseAvx2(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 16)
    return nttInversePortable(a, t, logN);
  const __m256i p = _mm256_set1_epi32(static_cast<int>(t.modulus.value));
  const __m256i twoP = _mm256_add_epi32(p, p);
  const uint32_t *w = t.inverseTwiddles.data();
  const uint32_t *wq = t.inverseTwiddlesShoup.data();
  const Finish none{};
  const Finish scale{Finish::Scale,
                     _mm256_set1_epi32(static_cast<int>(t.degreeInverse)),
                     _mm256_set1_epi32(static_cast<int>(t.degreeInverseShoup))};
  if (n == 16) {
    narrowStages<false>(a, n, w, wq, p, twoP, scale);
    return;
  }
  narrowStages<false>(a, n, w, wq, p, twoP, none);
  // m is 2^(logN - 5): pairs until one pair (even logN) or one stage (odd)
  // is left.
  size_t m = n >> 5, half = 16;
  for (; m > 2; m >>= 2, half <<= 2)
    inverseStagePair(a, m, half, w, wq, p, twoP, none);
  if (m == 2)
    inverseStagePair(a, m, half, w, wq, p, twoP, scale);
  else
    wideStage<false>(a, m, half, w, wq, p, twoP, scale);
}

} // namespace cerium::kernels::cpu
