//===- ModArith.h - Element-level modular arithmetic ------------*- C++ -*-===//
//
// The one definition of word-level modular arithmetic in Cerium. Every CPU
// kernel and every CUDA kernel computes residues with these functions, so the
// two backends agree bit for bit.
//
// Words are 32-bit and every modulus p satisfies p < 2^30. That bound lets the
// NTT keep values lazily in [0, 4p) without overflowing a 32-bit word (Harvey's
// butterflies), and lets 16 products of residues be summed in a 64-bit word
// before one reduction (base conversion, key-switching inner products).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_MODARITH_H
#define CERIUM_KERNELS_MODARITH_H

#if defined(__CUDACC_RTC__)
// NVRTC compiles generated kernels (with this header inlined) without the
// C++ library headers.
typedef unsigned char uint8_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
#else
#include <cstdint>
#endif

#if defined(__CUDACC__)
#define CERIUM_HD __host__ __device__ __forceinline__
#else
#define CERIUM_HD inline __attribute__((always_inline))
#endif

namespace cerium::modarith {

/// Largest modulus width, in bits, that the lazy-reduction kernels accept.
inline constexpr unsigned kMaxModulusBits = 30;
/// Smallest: the CPU kernels reduce 64-bit accumulators with a
/// double-precision quotient estimate that is exact to one from 2^14 up.
inline constexpr unsigned kMinModulusBits = 15;

/// Number of 60-bit products that fit in a 64-bit accumulator.
inline constexpr unsigned kLazyAccumulateTerms = 16;

/// High 32 bits of a 32x32-bit product.
CERIUM_HD uint32_t mulHi32(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __umulhi(a, b);
#else
  return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
#endif
}

/// High 64 bits of a 64x64-bit product.
CERIUM_HD uint64_t mulHi64(uint64_t a, uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(a, b);
#else
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
#endif
}

/// Subtract p once if x >= p: maps [0, 2p) to [0, p).
CERIUM_HD uint32_t reduceOnce(uint32_t x, uint32_t p) {
  return x >= p ? x - p : x;
}

CERIUM_HD uint32_t add(uint32_t a, uint32_t b, uint32_t p) {
  return reduceOnce(a + b, p);
}

CERIUM_HD uint32_t sub(uint32_t a, uint32_t b, uint32_t p) {
  return a >= b ? a - b : a + p - b;
}

CERIUM_HD uint32_t negate(uint32_t a, uint32_t p) { return a == 0 ? 0 : p - a; }

/// Shoup's precomputed quotient for multiplying by the constant w:
/// floor(w * 2^32 / p).
CERIUM_HD uint32_t shoupQuotient(uint32_t w, uint32_t p) {
  return static_cast<uint32_t>((static_cast<uint64_t>(w) << 32) / p);
}

/// x * w mod p in [0, 2p) for any 32-bit x, given wq = shoupQuotient(w, p).
/// Only 32-bit multiplies: this is the GPU-friendly form.
CERIUM_HD uint32_t mulShoupLazy(uint32_t x, uint32_t w, uint32_t wq,
                                uint32_t p) {
  uint32_t q = mulHi32(x, wq);
  return x * w - q * p;
}

/// x * w mod p in [0, p).
CERIUM_HD uint32_t mulShoup(uint32_t x, uint32_t w, uint32_t wq, uint32_t p) {
  return reduceOnce(mulShoupLazy(x, w, wq, p), p);
}

/// x mod p in [0, 4p) for any 64-bit x, with 32x32-bit products only: x =
/// hi 2^32 + lo, and hi (2^32 mod p) and lo are each brought into [0, 2p)
/// by a Shoup product (pow32 = 2^32 mod p, pow32Shoup its quotient,
/// oneShoup = shoupQuotient(1, p)). The form the AVX2 kernels use for
/// 64-bit accumulators, which have no vector 64x64-bit product there.
CERIUM_HD uint32_t reduce64ShoupLazy(uint64_t x, uint32_t p, uint32_t oneShoup,
                                     uint32_t pow32, uint32_t pow32Shoup) {
  return mulShoupLazy(static_cast<uint32_t>(x >> 32), pow32, pow32Shoup, p) +
         mulShoupLazy(static_cast<uint32_t>(x), 1, oneShoup, p);
}

/// A modulus with its Barrett constant floor(2^64 / p).
struct Modulus {
  uint32_t value;
  uint64_t barrett;
};

CERIUM_HD Modulus makeModulus(uint32_t p) {
  // floor(2^64 / p) computed as floor((2^64 - 1) / p), exact for odd p > 1.
  return Modulus{p, ~uint64_t(0) / p};
}

/// Reduce any 64-bit x modulo p (Barrett: the quotient estimate is off by at
/// most one, so one conditional subtraction suffices).
CERIUM_HD uint32_t reduce64(uint64_t x, Modulus m) {
  uint64_t q = mulHi64(x, m.barrett);
  uint64_t r = x - q * m.value;
  return static_cast<uint32_t>(r >= m.value ? r - m.value : r);
}

CERIUM_HD uint32_t mul(uint32_t a, uint32_t b, Modulus m) {
  return reduce64(static_cast<uint64_t>(a) * b, m);
}

/// a * b + c mod p.
CERIUM_HD uint32_t mulAdd(uint32_t a, uint32_t b, uint32_t c, Modulus m) {
  return reduce64(static_cast<uint64_t>(a) * b + c, m);
}

/// Barrett constants for products of two residues: with k = bit width of p,
/// m = floor(2^(2k) / p) < 2^(k+1) <= 2^31, so every step is a 32x32-bit
/// multiply (vectorizable: vpmuludq), unlike the 64x64-bit reduce64.
struct ProductBarrett {
  uint32_t value;
  uint32_t bits; // k
  uint64_t m;
};

CERIUM_HD ProductBarrett makeProductBarrett(uint32_t p) {
  uint32_t k = 0;
  while ((uint64_t(1) << k) <= p)
    ++k;
  return ProductBarrett{p, k, (uint64_t(1) << (2 * k)) / p};
}

/// a * b mod p for a, b < p (so a b < 2^(2k)): Barrett's quotient estimate is
/// at most 2 short, hence the two conditional subtractions.
CERIUM_HD uint32_t mulProduct(uint32_t a, uint32_t b, ProductBarrett c) {
  uint64_t x = uint64_t(a) * b;
  uint32_t hi = static_cast<uint32_t>(x >> (c.bits - 1)); // < 2^(k+1)
  uint64_t q = (uint64_t(hi) * c.m) >> (c.bits + 1);
  uint32_t r = static_cast<uint32_t>(x) - static_cast<uint32_t>(q) * c.value;
  r = r >= c.value ? r - c.value : r;
  return r >= c.value ? r - c.value : r;
}

/// Map a signed integer into [0, p) (any int64: the magnitude is taken in
/// unsigned arithmetic, where -INT64_MIN does not overflow).
CERIUM_HD uint32_t fromSigned(int64_t x, Modulus m) {
  if (x >= 0)
    return reduce64(static_cast<uint64_t>(x), m);
  uint32_t r = reduce64(uint64_t(0) - static_cast<uint64_t>(x), m);
  return negate(r, m.value);
}

/// Centered lift of x in [0, p) to (-p/2, p/2].
CERIUM_HD int64_t toCentered(uint32_t x, uint32_t p) {
  return x > (p >> 1) ? static_cast<int64_t>(x) - p : static_cast<int64_t>(x);
}

CERIUM_HD uint32_t pow(uint32_t base, uint64_t e, Modulus m) {
  uint32_t r = 1 % m.value;
  while (e) {
    if (e & 1)
      r = mul(r, base, m);
    base = mul(base, base, m);
    e >>= 1;
  }
  return r;
}

/// Inverse modulo a prime p (Fermat).
CERIUM_HD uint32_t inverse(uint32_t a, Modulus m) {
  return pow(a, m.value - 2, m);
}

//===----------------------------------------------------------------------===//
// NTT butterflies (Harvey). Inputs and outputs lie in [0, 4p) forward and
// [0, 2p) inverse; the caller reduces once at the end.
//===----------------------------------------------------------------------===//

/// Forward (Cooley-Tukey) butterfly: (x, y) -> (x + w y, x - w y).
CERIUM_HD void forwardButterfly(uint32_t &x, uint32_t &y, uint32_t w,
                                uint32_t wq, uint32_t p) {
  uint32_t twoP = 2 * p;
  uint32_t u = x >= twoP ? x - twoP : x;
  uint32_t v = mulShoupLazy(y, w, wq, p);
  x = u + v;
  y = u - v + twoP;
}

/// Inverse (Gentleman-Sande) butterfly: (x, y) -> (x + y, (x - y) w).
CERIUM_HD void inverseButterfly(uint32_t &x, uint32_t &y, uint32_t w,
                                uint32_t wq, uint32_t p) {
  uint32_t twoP = 2 * p;
  uint32_t u = x + y;
  uint32_t v = x - y + twoP;
  x = u >= twoP ? u - twoP : u;
  y = mulShoupLazy(v, w, wq, p);
}

/// Bring a lazily reduced value in [0, 4p) into [0, p).
CERIUM_HD uint32_t reduceFrom4p(uint32_t x, uint32_t p) {
  uint32_t twoP = 2 * p;
  x = x >= twoP ? x - twoP : x;
  return x >= p ? x - p : x;
}

/// fromSigned with reduce64ShoupLazy's 32x32-bit products (constants as
/// there), the form that vectorizes without 64-bit products: |x| reduced,
/// then negated where x < 0. Any 64-bit x.
CERIUM_HD uint32_t fromSignedShoup(int64_t x, uint32_t p, uint32_t oneShoup,
                                   uint32_t pow32, uint32_t pow32Shoup) {
  uint64_t magnitude =
      x < 0 ? uint64_t(0) - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
  uint32_t r = reduceFrom4p(
      reduce64ShoupLazy(magnitude, p, oneShoup, pow32, pow32Shoup), p);
  return x < 0 ? negate(r, p) : r;
}

} // namespace cerium::modarith

#endif // CERIUM_KERNELS_MODARITH_H
