//===- RnsAvx512.cpp - AVX-512 base conversion and inner product ----------===//
//
// RnsBlocked.inc on sixteen lanes: base conversion with tiles of 8 output
// limbs (16 accumulators of the 32 registers), so that each row of the
// converted inputs is loaded once per 8 outputs; the inner product; residue
// products and products by a constant.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

// GCC 12 reports the intentionally undefined source operands inside
// avx512fintrin.h (_mm512_undefined_epi32) as maybe-uninitialized when
// the intrinsics inline here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define CERIUM_AVX512 __attribute__((target("avx512f"), always_inline)) inline

namespace cerium::kernels::cpu {

using namespace modarith;

namespace avx512_vec {

using Vec = __m512i;
constexpr size_t kLanes = 16;
constexpr size_t kTile = 8;

#define CERIUM_VEC CERIUM_AVX512
#define CERIUM_VEC_TARGET __attribute__((target("avx512f")))

CERIUM_AVX512 Vec load(const uint32_t *p) { return _mm512_loadu_si512(p); }
CERIUM_AVX512 void store(uint32_t *p, Vec v) { _mm512_storeu_si512(p, v); }
CERIUM_AVX512 Vec splat(uint32_t x) {
  return _mm512_set1_epi32(static_cast<int>(x));
}
CERIUM_AVX512 Vec splat64(uint64_t x) {
  return _mm512_set1_epi64(static_cast<int64_t>(x));
}
CERIUM_AVX512 Vec zero() { return _mm512_setzero_si512(); }
CERIUM_AVX512 Vec mulEven(Vec a, Vec b) { return _mm512_mul_epu32(a, b); }
CERIUM_AVX512 Vec high(Vec x) { return _mm512_srli_epi64(x, 32); }
CERIUM_AVX512 Vec low(Vec x) {
  return _mm512_and_si512(x, _mm512_set1_epi64(0xFFFFFFFFLL));
}
CERIUM_AVX512 Vec toOdd(Vec x) { return _mm512_slli_epi64(x, 32); }
CERIUM_AVX512 Vec shiftRight64(Vec x, unsigned bits) {
  return _mm512_srl_epi64(x, _mm_cvtsi32_si128(static_cast<int>(bits)));
}
CERIUM_AVX512 Vec blendOdd(Vec a, Vec b) {
  return _mm512_mask_blend_epi32(0xAAAA, a, b);
}
CERIUM_AVX512 Vec add64(Vec a, Vec b) { return _mm512_add_epi64(a, b); }
CERIUM_AVX512 Vec sub64(Vec a, Vec b) { return _mm512_sub_epi64(a, b); }
CERIUM_AVX512 Vec sub32(Vec a, Vec b) { return _mm512_sub_epi32(a, b); }
CERIUM_AVX512 Vec min32(Vec a, Vec b) { return _mm512_min_epu32(a, b); }
CERIUM_AVX512 Vec mullo32(Vec a, Vec b) { return _mm512_mullo_epi32(a, b); }
CERIUM_AVX512 void accumulateScaled(double *v, Vec y, double r) {
  const __m512d vr = _mm512_set1_pd(r);
  const __m512d lo = _mm512_cvtepi32_pd(_mm512_castsi512_si256(y));
  const __m512d hi = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(y, 1));
  _mm512_store_pd(v, _mm512_add_pd(_mm512_load_pd(v), _mm512_mul_pd(lo, vr)));
  _mm512_store_pd(v + 8,
                  _mm512_add_pd(_mm512_load_pd(v + 8), _mm512_mul_pd(hi, vr)));
}
CERIUM_AVX512 Vec truncateToWords(const double *v) {
  const __m256i lo = _mm512_cvttpd_epi32(_mm512_load_pd(v));
  const __m256i hi = _mm512_cvttpd_epi32(_mm512_load_pd(v + 8));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

#include "RnsBlocked.inc"

#undef CERIUM_VEC
#undef CERIUM_VEC_TARGET

} // namespace avx512_vec

void baseConvertBlockAvx512(const BaseConvertArgs &args, size_t c0,
                            size_t len) {
  avx512_vec::baseConvertBlock(args, c0, len);
}

void innerProductAvx512(uint32_t *out0, uint32_t *out1,
                        const uint32_t *const *x, const uint32_t *const *kb,
                        const uint32_t *const *ka, size_t beta,
                        const Reduce64Constants &c, size_t c0, size_t len) {
  avx512_vec::innerProduct(out0, out1, x, kb, ka, beta, c, c0, len);
}

void sumOfProductsAvx512(uint32_t *o, const uint32_t *const *x,
                         const uint32_t *const *y, size_t products,
                         const uint32_t *const *plain, size_t plains,
                         const Reduce64Constants &c, size_t c0, size_t len) {
  avx512_vec::sumOfProducts(o, x, y, products, plain, plains, c, c0, len);
}

void mulProductsAvx512(uint32_t *o, const uint32_t *x, const uint32_t *y,
                       ProductBarrett c, size_t n) {
  avx512_vec::mulProducts(o, x, y, c, n);
}

void mulShoupAvx512(uint32_t *o, const uint32_t *x, uint32_t w, uint32_t wq,
                    uint32_t p, size_t n) {
  avx512_vec::mulConstant(o, x, w, wq, p, n);
}

} // namespace cerium::kernels::cpu
