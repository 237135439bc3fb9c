//===- RnsAvx2.cpp - AVX2 base conversion and key-switch inner product ----===//
//
// Both kernels sum products of residues (< 2^60) in 64-bit words. The
// generic loops keep those sums in memory and reduce them with a
// double-precision quotient, which needs AVX-512DQ to vectorize; with AVX2
// the reduction stayed scalar and cost as much as all the products (base
// conversion was half of HMult at N = 2^16). Here the sums live in
// registers -- vpmuludq multiplies the even 32-bit lanes of a vector into
// four 64-bit products, and the odd lanes after a 32-bit shift -- and are
// reduced with 32x32-bit products only (ModArith.h's reduce64ShoupLazy:
// x = hi 2^32 + lo, each half through a Shoup product). Outputs are exact
// residues, so they equal the portable path's bit for bit.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#define CERIUM_AVX2 __attribute__((target("avx2"), always_inline)) inline

namespace cerium::kernels::cpu {

using namespace modarith;

namespace {

CERIUM_AVX2 __m256i load(const uint32_t *p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}
CERIUM_AVX2 void store(uint32_t *p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), v);
}
CERIUM_AVX2 __m256i splat(uint32_t x) {
  return _mm256_set1_epi32(static_cast<int>(x));
}

/// Lane-wise min(x, x - m): x - m where x >= m (unsigned, x < 2m).
CERIUM_AVX2 __m256i reduceOnce(__m256i x, __m256i m) {
  return _mm256_min_epu32(x, _mm256_sub_epi32(x, m));
}

/// The constants of reduce64ShoupLazy, splatted.
struct VecReduce {
  __m256i p, twoP, oneShoup, pow32, pow32Shoup;
};
CERIUM_AVX2 VecReduce splatReduce(const Reduce64Constants &c) {
  return {splat(c.p), splat(2 * c.p), splat(c.oneShoup), splat(c.pow32),
          splat(c.pow32Shoup)};
}

/// reduce64ShoupLazy on four 64-bit lanes: the result, in [0, 4p), is in
/// the low 32 bits of each lane (the high bits are garbage). With q1, q2 the
/// two Shoup quotients, x mod p = lo + hi (2^32 mod p) - (q1 + q2) p, and
/// all of it may be computed modulo 2^32.
CERIUM_AVX2 __m256i reduceLanes(__m256i x, const VecReduce &c) {
  __m256i hi = _mm256_srli_epi64(x, 32);
  __m256i q = _mm256_add_epi64(
      _mm256_srli_epi64(_mm256_mul_epu32(hi, c.pow32Shoup), 32),
      _mm256_srli_epi64(_mm256_mul_epu32(x, c.oneShoup), 32));
  return _mm256_sub_epi64(_mm256_add_epi64(x, _mm256_mul_epu32(hi, c.pow32)),
                          _mm256_mul_epu32(q, c.p));
}

/// Between accumulations: a 64-bit sum brought below 4p (zero-extended),
/// so that 15 more products fit.
CERIUM_AVX2 __m256i reduceLanesWide(__m256i x, const VecReduce &c) {
  return _mm256_and_si256(reduceLanes(x, c),
                          _mm256_set1_epi64x(0xFFFFFFFFLL));
}

/// Eight residues in [0, p) from the sums of the even and the odd lanes.
CERIUM_AVX2 __m256i reduceToResidues(__m256i even, __m256i odd,
                                     const VecReduce &c) {
  __m256i r = _mm256_blend_epi32(reduceLanes(even, c),
                                 _mm256_slli_epi64(reduceLanes(odd, c), 32),
                                 0xAA);
  return reduceOnce(reduceOnce(r, c.twoP), c.p);
}

/// Shoup's x w mod p in [0, p), lane-wise (ModArith.h's mulShoup).
CERIUM_AVX2 __m256i mulShoup(__m256i x, __m256i w, __m256i wq, __m256i p) {
  __m256i even = _mm256_srli_epi64(_mm256_mul_epu32(x, wq), 32);
  __m256i odd =
      _mm256_mul_epu32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(wq, 32));
  __m256i q = _mm256_blend_epi32(even, odd, 0xAA);
  return reduceOnce(
      _mm256_sub_epi32(_mm256_mullo_epi32(x, w), _mm256_mullo_epi32(q, p)), p);
}

/// Coefficients per inner block: the k rows of y (k x 256 words) stay in
/// L1 while every output tile reads them.
constexpr size_t kSubBlock = 256;

/// Outputs [j0, j0 + T) of one sub-block: 2T accumulators of four 64-bit
/// lanes per 8 coefficients, each y row loaded once for all T outputs.
template <size_t T>
CERIUM_AVX2 void convertTile(const BaseConvertArgs &a, size_t j0,
                             const uint32_t *y, const uint32_t *wraps,
                             size_t c0, size_t len) {
  const size_t k = a.k;
  VecReduce red[T];
  for (size_t t = 0; t < T; ++t)
    red[t] = splatReduce({a.outModuli[j0 + t], a.oneShoup[j0 + t],
                          a.pow32[j0 + t], a.pow32Shoup[j0 + t]});
  const uint32_t *rows[T];
  __m256i minusA[T];
  for (size_t t = 0; t < T; ++t) {
    rows[t] = a.hatMod + (j0 + t) * k;
    minusA[t] = splat(a.minusA[j0 + t]);
  }
  for (size_t c = 0; c < len; c += 8) {
    __m256i even[T], odd[T];
    const __m256i w = load(wraps + c), wOdd = _mm256_srli_epi64(w, 32);
    for (size_t t = 0; t < T; ++t) {
      even[t] = _mm256_mul_epu32(w, minusA[t]); // < 2^36
      odd[t] = _mm256_mul_epu32(wOdd, minusA[t]);
    }
    for (size_t i = 0; i < k; ++i) {
      const __m256i v = load(y + i * kSubBlock + c);
      const __m256i vOdd = _mm256_srli_epi64(v, 32);
      for (size_t t = 0; t < T; ++t) {
        const __m256i h = splat(rows[t][i]);
        even[t] = _mm256_add_epi64(even[t], _mm256_mul_epu32(v, h));
        odd[t] = _mm256_add_epi64(odd[t], _mm256_mul_epu32(vOdd, h));
      }
      // The first reduction after 14 products and the wrap term, then one
      // per 15 products: each sum stays below 2^64.
      if ((i + 2) % (kLazyAccumulateTerms - 1) == 0 && i + 1 < k)
        for (size_t t = 0; t < T; ++t) {
          even[t] = reduceLanesWide(even[t], red[t]);
          odd[t] = reduceLanesWide(odd[t], red[t]);
        }
    }
    for (size_t t = 0; t < T; ++t)
      store(a.out[j0 + t] + c0 + c, reduceToResidues(even[t], odd[t], red[t]));
  }
}

} // namespace

// mulProduct on eight lanes: the 64-bit products of the even and the odd
// lanes (vpmuludq) go through Barrett's steps separately, hi = x >> (k-1),
// q = hi m >> (k+1), and meet as 32-bit words for r = x - q p and the two
// conditional subtractions.
__attribute__((target("avx2"))) void
mulProductsAvx2(uint32_t *o, const uint32_t *x, const uint32_t *y,
                ProductBarrett c, size_t n) {
  const __m256i p = splat(c.value), m = _mm256_set1_epi64x(int64_t(c.m));
  const __m128i shiftHi = _mm_cvtsi32_si128(int(c.bits - 1)),
                shiftQ = _mm_cvtsi32_si128(int(c.bits + 1));
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i a = load(x + j), b = load(y + j);
    const __m256i even = _mm256_mul_epu32(a, b);
    const __m256i odd =
        _mm256_mul_epu32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
    const __m256i qEven = _mm256_srl_epi64(
        _mm256_mul_epu32(_mm256_srl_epi64(even, shiftHi), m), shiftQ);
    const __m256i qOdd = _mm256_srl_epi64(
        _mm256_mul_epu32(_mm256_srl_epi64(odd, shiftHi), m), shiftQ);
    const __m256i prod =
        _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    const __m256i q =
        _mm256_blend_epi32(qEven, _mm256_slli_epi64(qOdd, 32), 0xAA);
    const __m256i r = _mm256_sub_epi32(prod, _mm256_mullo_epi32(q, p));
    store(o + j, reduceOnce(reduceOnce(r, p), p));
  }
  for (; j < n; ++j)
    o[j] = mulProduct(x[j], y[j], c);
}

// fromSignedShoup on eight lanes: |x| through reduceLanes (four 64-bit lanes
// of each half), the two halves' residues interleaved into one vector of
// words, brought below p, negated where x < 0, and put back in order.
__attribute__((target("avx2"))) void fromSignedAvx2(uint32_t *o,
                                                    const int64_t *x,
                                                    const Reduce64Constants &c,
                                                    size_t n) {
  const VecReduce red = splatReduce(c);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i inOrder = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i a =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x + j));
    const __m256i b =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x + j + 4));
    const __m256i signA = _mm256_cmpgt_epi64(zero, a);
    const __m256i signB = _mm256_cmpgt_epi64(zero, b);
    const __m256i absA = _mm256_sub_epi64(_mm256_xor_si256(a, signA), signA);
    const __m256i absB = _mm256_sub_epi64(_mm256_xor_si256(b, signB), signB);
    // Word 2k holds lane k of a, word 2k + 1 lane k of b.
    __m256i r =
        _mm256_blend_epi32(reduceLanes(absA, red),
                           _mm256_slli_epi64(reduceLanes(absB, red), 32), 0xAA);
    r = reduceOnce(reduceOnce(r, red.twoP), red.p);
    const __m256i negative = _mm256_blend_epi32(signA, signB, 0xAA);
    const __m256i negated = _mm256_andnot_si256(_mm256_cmpeq_epi32(r, zero),
                                                _mm256_sub_epi32(red.p, r));
    r = _mm256_blendv_epi8(r, negated, negative);
    store(o + j, _mm256_permutevar8x32_epi32(r, inOrder));
  }
  for (; j < n; ++j)
    o[j] = fromSignedShoup(x[j], c.p, c.oneShoup, c.pow32, c.pow32Shoup);
}

// Gathers cost about as much as a scalar loop; the group structure of
// automorphisms (CpuKernels.h) leaves one contiguous load per 8 words, whose
// lanes the low three bits of perm select.
__attribute__((target("avx2"))) void
permuteAvx2(uint32_t *o, const uint32_t *x, const uint32_t *perm, size_t n) {
  const __m256i lane = splat(7);
  size_t j = 0;
  for (; j + 8 <= n; j += 8)
    store(o + j,
          _mm256_permutevar8x32_epi32(load(x + (perm[j] & ~7u)),
                                      _mm256_and_si256(load(perm + j), lane)));
  for (; j < n; ++j)
    o[j] = x[perm[j]];
}

__attribute__((target("avx2"))) void mulShoupAvx2(uint32_t *o,
                                                  const uint32_t *x,
                                                  uint32_t w, uint32_t wq,
                                                  uint32_t p, size_t n) {
  const __m256i vw = splat(w), vwq = splat(wq), vp = splat(p);
  size_t j = 0;
  for (; j + 8 <= n; j += 8)
    store(o + j, mulShoup(load(x + j), vw, vwq, vp));
  for (; j < n; ++j)
    o[j] = modarith::mulShoup(x[j], w, wq, p);
}

__attribute__((target("avx2"))) void
baseConvertBlockAvx2(const BaseConvertArgs &a, size_t c0, size_t len) {
  const size_t vecLen = len & ~size_t(7);
  if (vecLen < len)
    baseConvertBlockPortable(a, c0 + vecLen, len - vecLen);
  const size_t k = a.k;
  thread_local std::vector<uint32_t> yStore;
  yStore.resize(k * kSubBlock + kSubBlock);
  uint32_t *y = yStore.data(), *wraps = y + k * kSubBlock;
  alignas(32) double v[kSubBlock];
  for (size_t s0 = 0; s0 < vecLen; s0 += kSubBlock) {
    const size_t sLen = std::min(kSubBlock, vecLen - s0), base = c0 + s0;
    // y_i = x_i (A/a_i)^-1 mod a_i and v = 1/2 + sum_i y_i / a_i, in the
    // portable path's order and roundings (a product, then a sum: no FMA),
    // so round(v) is the same multiple of A.
    for (size_t c = 0; c < sLen; c += 4)
      _mm256_store_pd(v + c, _mm256_set1_pd(0.5));
    for (size_t i = 0; i < k; ++i) {
      const __m256i p = splat(a.inModuli[i]), s = splat(a.hatInverse[i]),
                    sq = splat(a.hatInverseShoup[i]);
      const __m256d r = _mm256_set1_pd(a.reciprocals[i]);
      const uint32_t *x = a.in[i] + base;
      uint32_t *yi = y + i * kSubBlock;
      for (size_t c = 0; c < sLen; c += 8) {
        const __m256i yv = mulShoup(load(x + c), s, sq, p);
        store(yi + c, yv);
        // y < 2^30: the signed conversion is exact.
        const __m256d lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(yv));
        const __m256d hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(yv, 1));
        _mm256_store_pd(v + c,
                        _mm256_add_pd(_mm256_load_pd(v + c),
                                      _mm256_mul_pd(lo, r)));
        _mm256_store_pd(v + c + 4,
                        _mm256_add_pd(_mm256_load_pd(v + c + 4),
                                      _mm256_mul_pd(hi, r)));
      }
    }
    // Truncation (v > 0): round(sum) as the portable path computes it.
    for (size_t c = 0; c < sLen; c += 8) {
      const __m128i lo = _mm256_cvttpd_epi32(_mm256_load_pd(v + c));
      const __m128i hi = _mm256_cvttpd_epi32(_mm256_load_pd(v + c + 4));
      store(wraps + c, _mm256_set_m128i(hi, lo));
    }
    size_t j = 0;
    for (; j + 4 <= a.m; j += 4)
      convertTile<4>(a, j, y, wraps, base, sLen);
    switch (a.m - j) {
    case 3:
      convertTile<3>(a, j, y, wraps, base, sLen);
      break;
    case 2:
      convertTile<2>(a, j, y, wraps, base, sLen);
      break;
    case 1:
      convertTile<1>(a, j, y, wraps, base, sLen);
      break;
    default:
      break;
    }
  }
}

__attribute__((target("avx2"))) void
innerProductAvx2(uint32_t *out0, uint32_t *out1, const uint32_t *const *x,
                 const uint32_t *const *kb, const uint32_t *const *ka,
                 size_t beta, const Reduce64Constants &c, size_t c0,
                 size_t len) {
  const size_t vecLen = len & ~size_t(7), end = c0 + vecLen;
  if (vecLen < len)
    innerProductPortable(out0, out1, x, kb, ka, beta, c, end, len - vecLen);
  const VecReduce red = splatReduce(c);
  for (size_t j = c0; j < end; j += 8) {
    __m256i b0 = _mm256_setzero_si256(), b1 = b0, a0 = b0, a1 = b0;
    for (size_t d = 0; d < beta; ++d) {
      const __m256i v = load(x[d] + j), vOdd = _mm256_srli_epi64(v, 32);
      const __m256i kB = load(kb[d] + j), kA = load(ka[d] + j);
      b0 = _mm256_add_epi64(b0, _mm256_mul_epu32(v, kB));
      b1 = _mm256_add_epi64(
          b1, _mm256_mul_epu32(vOdd, _mm256_srli_epi64(kB, 32)));
      a0 = _mm256_add_epi64(a0, _mm256_mul_epu32(v, kA));
      a1 = _mm256_add_epi64(
          a1, _mm256_mul_epu32(vOdd, _mm256_srli_epi64(kA, 32)));
      if ((d + 1) % (kLazyAccumulateTerms - 1) == 0 && d + 1 < beta) {
        b0 = reduceLanesWide(b0, red);
        b1 = reduceLanesWide(b1, red);
        a0 = reduceLanesWide(a0, red);
        a1 = reduceLanesWide(a1, red);
      }
    }
    store(out0 + j, reduceToResidues(b0, b1, red));
    store(out1 + j, reduceToResidues(a0, a1, red));
  }
}

} // namespace cerium::kernels::cpu
