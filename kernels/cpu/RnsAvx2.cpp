//===- RnsAvx2.cpp - AVX2 residue kernels ---------------------------------===//
//
// Base conversion and the key-switch inner product (RnsBlocked.inc, here on
// eight lanes: with AVX2 the generic loops' double-precision reduction
// stayed scalar and cost as much as all the products -- base conversion was
// half of HMult at N = 2^16), residue products, signed reductions,
// permutations and Shoup products, all in 256-bit registers. The AVX-512
// table takes the last four too (CpuLoops.cpp says why).
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#define CERIUM_AVX2 __attribute__((target("avx2"), always_inline)) inline

namespace cerium::kernels::cpu {

using namespace modarith;

namespace avx2_vec {

using Vec = __m256i;
constexpr size_t kLanes = 8;
/// 4 outputs: 8 accumulators of the 16 registers.
constexpr size_t kTile = 4;

#define CERIUM_VEC CERIUM_AVX2
#define CERIUM_VEC_TARGET __attribute__((target("avx2")))

CERIUM_AVX2 Vec load(const uint32_t *p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}
CERIUM_AVX2 void store(uint32_t *p, Vec v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), v);
}
CERIUM_AVX2 Vec splat(uint32_t x) {
  return _mm256_set1_epi32(static_cast<int>(x));
}
CERIUM_AVX2 Vec splat64(uint64_t x) {
  return _mm256_set1_epi64x(static_cast<int64_t>(x));
}
CERIUM_AVX2 Vec zero() { return _mm256_setzero_si256(); }
CERIUM_AVX2 Vec mulEven(Vec a, Vec b) { return _mm256_mul_epu32(a, b); }
CERIUM_AVX2 Vec high(Vec x) { return _mm256_srli_epi64(x, 32); }
CERIUM_AVX2 Vec low(Vec x) {
  return _mm256_and_si256(x, _mm256_set1_epi64x(0xFFFFFFFFLL));
}
CERIUM_AVX2 Vec toOdd(Vec x) { return _mm256_slli_epi64(x, 32); }
CERIUM_AVX2 Vec shiftRight64(Vec x, unsigned bits) {
  return _mm256_srl_epi64(x, _mm_cvtsi32_si128(static_cast<int>(bits)));
}
CERIUM_AVX2 Vec blendOdd(Vec a, Vec b) {
  return _mm256_blend_epi32(a, b, 0xAA);
}
CERIUM_AVX2 Vec add64(Vec a, Vec b) { return _mm256_add_epi64(a, b); }
CERIUM_AVX2 Vec sub64(Vec a, Vec b) { return _mm256_sub_epi64(a, b); }
CERIUM_AVX2 Vec sub32(Vec a, Vec b) { return _mm256_sub_epi32(a, b); }
CERIUM_AVX2 Vec min32(Vec a, Vec b) { return _mm256_min_epu32(a, b); }
CERIUM_AVX2 Vec mullo32(Vec a, Vec b) { return _mm256_mullo_epi32(a, b); }
CERIUM_AVX2 void accumulateScaled(double *v, Vec y, double r) {
  const __m256d vr = _mm256_set1_pd(r);
  const __m256d lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(y));
  const __m256d hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(y, 1));
  _mm256_store_pd(v, _mm256_add_pd(_mm256_load_pd(v), _mm256_mul_pd(lo, vr)));
  _mm256_store_pd(v + 4,
                  _mm256_add_pd(_mm256_load_pd(v + 4), _mm256_mul_pd(hi, vr)));
}
CERIUM_AVX2 Vec truncateToWords(const double *v) {
  const __m128i lo = _mm256_cvttpd_epi32(_mm256_load_pd(v));
  const __m128i hi = _mm256_cvttpd_epi32(_mm256_load_pd(v + 4));
  return _mm256_set_m128i(hi, lo);
}

#include "RnsBlocked.inc"

#undef CERIUM_VEC
#undef CERIUM_VEC_TARGET

} // namespace avx2_vec

using avx2_vec::load;
using avx2_vec::reduceLanes;
using avx2_vec::reduceOnce;
using avx2_vec::splat;
using avx2_vec::splatReduce;
using avx2_vec::store;
using avx2_vec::VecReduce;

void baseConvertBlockAvx2(const BaseConvertArgs &args, size_t c0, size_t len) {
  avx2_vec::baseConvertBlock(args, c0, len);
}

void innerProductAvx2(uint32_t *out0, uint32_t *out1, const uint32_t *const *x,
                      const uint32_t *const *kb, const uint32_t *const *ka,
                      size_t beta, const Reduce64Constants &c, size_t c0,
                      size_t len) {
  avx2_vec::innerProduct(out0, out1, x, kb, ka, beta, c, c0, len);
}

void sumOfProductsAvx2(uint32_t *o, const uint32_t *const *x,
                       const uint32_t *const *y, size_t products,
                       const uint32_t *const *plain, size_t plains,
                       const Reduce64Constants &c, size_t c0, size_t len) {
  avx2_vec::sumOfProducts(o, x, y, products, plain, plains, c, c0, len);
}

void mulProductsAvx2(uint32_t *o, const uint32_t *x, const uint32_t *y,
                     ProductBarrett c, size_t n) {
  avx2_vec::mulProducts(o, x, y, c, n);
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

void mulShoupAvx2(uint32_t *o, const uint32_t *x, uint32_t w, uint32_t wq,
                  uint32_t p, size_t n) {
  avx2_vec::mulConstant(o, x, w, wq, p, n);
}

} // namespace cerium::kernels::cpu
