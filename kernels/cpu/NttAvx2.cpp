//===- NttAvx2.cpp - AVX2 negacyclic NTT ----------------------------------===//
//
// The butterflies of Ntt.cpp, eight lanes at a time. Stages whose butterfly
// span is at least 8 words run on whole vectors with one broadcast twiddle;
// the three stages with spans 4, 2, 1 shuffle pairs of vectors so that each
// lane still computes one butterfly. The functions carry a target attribute
// (not a per-file -mavx2) so that nothing else in the binary is compiled for
// AVX2: the backend calls them only after checking the CPU.
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

// Splitting 16 consecutive words (a, b) into butterfly operands x and y for a
// span of 4, 2 or 1, and joining them back. Lanes of x and y keep the order
// of the butterflies, so the twiddle of butterfly k sits in lane k.
CERIUM_AVX2 void split4(__m256i a, __m256i b, __m256i &x, __m256i &y) {
  x = _mm256_permute2x128_si256(a, b, 0x20);
  y = _mm256_permute2x128_si256(a, b, 0x31);
}
CERIUM_AVX2 void join4(__m256i x, __m256i y, __m256i &a, __m256i &b) {
  a = _mm256_permute2x128_si256(x, y, 0x20);
  b = _mm256_permute2x128_si256(x, y, 0x31);
}
// Span 2: a = [x0 x1 y0 y1 | x2 x3 y2 y3], b likewise for butterflies 4..7.
CERIUM_AVX2 void split2(__m256i a, __m256i b, __m256i &x, __m256i &y) {
  __m256i lo = _mm256_unpacklo_epi64(a, b); // x0x1 x4x5 | x2x3 x6x7
  __m256i hi = _mm256_unpackhi_epi64(a, b); // y0y1 y4y5 | y2y3 y6y7
  x = _mm256_permute4x64_epi64(lo, 0xD8);   // x0x1 x2x3 | x4x5 x6x7
  y = _mm256_permute4x64_epi64(hi, 0xD8);
}
CERIUM_AVX2 void join2(__m256i x, __m256i y, __m256i &a, __m256i &b) {
  __m256i lo = _mm256_permute4x64_epi64(x, 0xD8); // x0x1 x4x5 | x2x3 x6x7
  __m256i hi = _mm256_permute4x64_epi64(y, 0xD8);
  a = _mm256_unpacklo_epi64(lo, hi);
  b = _mm256_unpackhi_epi64(lo, hi);
}
// Span 1: a = [x0 y0 x1 y1 | x2 y2 x3 y3], b likewise for butterflies 4..7.
CERIUM_AVX2 void split1(__m256i a, __m256i b, __m256i &x, __m256i &y) {
  const __m256i evenOdd = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  __m256i pa = _mm256_permutevar8x32_epi32(a, evenOdd); // x0..x3 | y0..y3
  __m256i pb = _mm256_permutevar8x32_epi32(b, evenOdd); // x4..x7 | y4..y7
  x = _mm256_permute2x128_si256(pa, pb, 0x20);
  y = _mm256_permute2x128_si256(pa, pb, 0x31);
}
CERIUM_AVX2 void join1(__m256i x, __m256i y, __m256i &a, __m256i &b) {
  __m256i lo = _mm256_unpacklo_epi32(x, y); // x0y0x1y1 | x4y4x5y5
  __m256i hi = _mm256_unpackhi_epi32(x, y); // x2y2x3y3 | x6y6x7y7
  a = _mm256_permute2x128_si256(lo, hi, 0x20);
  b = _mm256_permute2x128_si256(lo, hi, 0x31);
}

/// Twiddles of butterflies k = 0..7 of a 16-word block with span `half`: one
/// twiddle per group of 2*half words, repeated `half` times.
CERIUM_AVX2 __m256i twiddleLanes(const uint32_t *w, size_t half) {
  switch (half) {
  case 4:
    return _mm256_setr_epi32(w[0], w[0], w[0], w[0], w[1], w[1], w[1], w[1]);
  case 2:
    return _mm256_setr_epi32(w[0], w[0], w[1], w[1], w[2], w[2], w[3], w[3]);
  default:
    return load(w);
  }
}

template <bool Forward>
CERIUM_AVX2 void smallSpanStage(uint32_t *a, size_t n, size_t m, size_t half,
                                const uint32_t *w, const uint32_t *wq,
                                __m256i p, __m256i twoP) {
  // Each 16-word block holds 16 / (2 half) groups.
  const size_t groupsPerBlock = 8 / half;
  for (size_t block = 0, g = m; block < n; block += 16, g += groupsPerBlock) {
    __m256i va = load(a + block), vb = load(a + block + 8), x, y;
    switch (half) {
    case 4:
      split4(va, vb, x, y);
      break;
    case 2:
      split2(va, vb, x, y);
      break;
    default:
      split1(va, vb, x, y);
      break;
    }
    __m256i tw = twiddleLanes(w + g, half), twq = twiddleLanes(wq + g, half);
    if constexpr (Forward)
      forwardButterfly(x, y, tw, twq, p, twoP);
    else
      inverseButterfly(x, y, tw, twq, p, twoP);
    switch (half) {
    case 4:
      join4(x, y, va, vb);
      break;
    case 2:
      join2(x, y, va, vb);
      break;
    default:
      join1(x, y, va, vb);
      break;
    }
    store(a + block, va);
    store(a + block + 8, vb);
  }
}

} // namespace

__attribute__((target("avx2"))) void
nttForwardAvx2Stages(uint32_t *a, const PrimeTables &t, unsigned logN, size_t m,
                     size_t half) {
  const size_t n = size_t(1) << logN;
  const __m256i p = _mm256_set1_epi32(static_cast<int>(t.modulus.value));
  const __m256i twoP = _mm256_add_epi32(p, p);
  const uint32_t *w = t.forwardTwiddles.data();
  const uint32_t *wq = t.forwardTwiddlesShoup.data();
  for (; half >= 8; m <<= 1, half >>= 1) {
    for (size_t i = 0; i < m; ++i) {
      __m256i vw = _mm256_set1_epi32(static_cast<int>(w[m + i]));
      __m256i vwq = _mm256_set1_epi32(static_cast<int>(wq[m + i]));
      uint32_t *xs = a + 2 * i * half, *ys = xs + half;
      for (size_t j = 0; j < half; j += 8) {
        __m256i x = load(xs + j), y = load(ys + j);
        forwardButterfly(x, y, vw, vwq, p, twoP);
        store(xs + j, x);
        store(ys + j, y);
      }
    }
  }
  for (; half >= 1; m <<= 1, half >>= 1)
    smallSpanStage<true>(a, n, m, half, w, wq, p, twoP);
  for (size_t j = 0; j < n; j += 8)
    store(a + j, reduceOnce(reduceOnce(load(a + j), twoP), p));
}

void nttForwardAvx2(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 16)
    return nttForwardPortable(a, t, logN);
  nttForwardAvx2Stages(a, t, logN, 1, n >> 1);
}

__attribute__((target("avx2"))) size_t
nttInverseAvx2Stages(uint32_t *a, const PrimeTables &t, unsigned logN,
                     size_t stopHalf) {
  const size_t n = size_t(1) << logN;
  const __m256i p = _mm256_set1_epi32(static_cast<int>(t.modulus.value));
  const __m256i twoP = _mm256_add_epi32(p, p);
  const uint32_t *w = t.inverseTwiddles.data();
  const uint32_t *wq = t.inverseTwiddlesShoup.data();
  size_t m = n >> 1, half = 1;
  for (; half < 8 && half < stopHalf; m >>= 1, half <<= 1)
    smallSpanStage<false>(a, n, m, half, w, wq, p, twoP);
  for (; m >= 1 && half < stopHalf; m >>= 1, half <<= 1) {
    for (size_t i = 0; i < m; ++i) {
      __m256i vw = _mm256_set1_epi32(static_cast<int>(w[m + i]));
      __m256i vwq = _mm256_set1_epi32(static_cast<int>(wq[m + i]));
      uint32_t *xs = a + 2 * i * half, *ys = xs + half;
      for (size_t j = 0; j < half; j += 8) {
        __m256i x = load(xs + j), y = load(ys + j);
        inverseButterfly(x, y, vw, vwq, p, twoP);
        store(xs + j, x);
        store(ys + j, y);
      }
    }
  }
  return half;
}

__attribute__((target("avx2"))) void
nttInverseAvx2(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 16)
    return nttInversePortable(a, t, logN);
  nttInverseAvx2Stages(a, t, logN, n);
  const __m256i p = _mm256_set1_epi32(static_cast<int>(t.modulus.value));
  const __m256i nInv = _mm256_set1_epi32(static_cast<int>(t.degreeInverse));
  const __m256i nInvQ =
      _mm256_set1_epi32(static_cast<int>(t.degreeInverseShoup));
  for (size_t j = 0; j < n; j += 8)
    store(a + j, reduceOnce(mulShoupLazy(load(a + j), nInv, nInvQ, p), p));
}

} // namespace cerium::kernels::cpu
