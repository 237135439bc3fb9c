//===- ModArithTest.cpp - Word-level modular arithmetic -------------------===//

#include "TestSupport.h"

#include "cerium/kernels/ModArith.h"
#include "cerium/kernels/RnsContext.h"

#include <limits>

using namespace cerium;
using namespace cerium::modarith;

namespace {

TEST(ModArith, ProductsMatchWideIntegers) {
  CERIUM_SEEDED_PRNG(prng);
  for (uint32_t p : kernels::generatePrimes(16, 30, 3)) {
    Modulus m = makeModulus(p);
    for (int i = 0; i < 20000; ++i) {
      uint32_t a = prng.uniformBelow(p), b = prng.uniformBelow(p);
      uint32_t expect = static_cast<uint32_t>(uint64_t(a) * b % p);
      ASSERT_EQ(mul(a, b, m), expect);
      ASSERT_EQ(mulShoup(a, b, shoupQuotient(b, p), p), expect);
      // Shoup's lazy form accepts any 32-bit left operand.
      uint32_t x = prng.next32();
      uint32_t lazy = mulShoupLazy(x, b, shoupQuotient(b, p), p);
      ASSERT_LT(lazy, 2 * p);
      ASSERT_EQ(lazy % p, uint64_t(x) * b % p);
      uint64_t wide = prng.next64();
      ASSERT_EQ(reduce64(wide, m), wide % p);
      ASSERT_EQ(add(a, b, p), (uint64_t(a) + b) % p);
      ASSERT_EQ(sub(a, b, p), (uint64_t(a) + p - b) % p);
    }
    ASSERT_EQ(reduce64(~uint64_t(0), m), ~uint64_t(0) % p);
    uint32_t a = prng.uniformBelow(p - 1) + 1;
    EXPECT_EQ(mul(a, inverse(a, m), m), 1u);
  }
}

TEST(ModArith, ProductBarrettAtEveryWidth) {
  CERIUM_SEEDED_PRNG(prng);
  for (unsigned bits = kMinModulusBits; bits <= kMaxModulusBits; ++bits) {
    uint32_t p = kernels::generatePrimes(4, bits, 1)[0];
    ProductBarrett c = makeProductBarrett(p);
    for (int i = 0; i < 20000; ++i) {
      uint32_t a = prng.uniformBelow(p), b = prng.uniformBelow(p);
      ASSERT_EQ(mulProduct(a, b, c), uint64_t(a) * b % p) << "p = " << p;
    }
    ASSERT_EQ(mulProduct(p - 1, p - 1, c), uint64_t(p - 1) * (p - 1) % p);
  }
}

TEST(ModArith, SignedLiftRoundTrips) {
  Modulus m = makeModulus(kernels::generatePrimes(10, 28, 1)[0]);
  for (int64_t x :
       {int64_t(0), int64_t(1), int64_t(-1), int64_t(123456), int64_t(-98765),
        int64_t(m.value / 2), -int64_t(m.value / 2)})
    EXPECT_EQ(toCentered(fromSigned(x, m), m.value), x);
}

TEST(ModArith, FromSignedShoupMatchesFromSigned) {
  CERIUM_SEEDED_PRNG(prng);
  for (unsigned bits = kMinModulusBits; bits <= kMaxModulusBits; ++bits) {
    const uint32_t p = kernels::generatePrimes(4, bits, 1)[0];
    const Modulus m = makeModulus(p);
    const uint32_t pow32 = uint32_t((uint64_t(1) << 32) % p);
    const uint32_t oneShoup = shoupQuotient(1, p),
                   pow32Shoup = shoupQuotient(pow32, p);
    const int64_t extremes[] = {std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::max(),
                                -int64_t(p),
                                int64_t(p),
                                -1,
                                0};
    for (int t = 0; t < 20000; ++t) {
      // Every magnitude, not only full 64-bit words.
      const int64_t x =
          t < 6 ? extremes[t] : static_cast<int64_t>(prng.next64()) >> (t % 64);
      ASSERT_EQ(fromSignedShoup(x, p, oneShoup, pow32, pow32Shoup),
                fromSigned(x, m))
          << "x = " << x << ", p = " << p;
    }
  }
}

TEST(ModArith, PrimeGeneration) {
  for (unsigned logN : {10u, 13u, 16u, 17u}) {
    auto primes = kernels::generatePrimes(logN, 30, 8);
    for (size_t i = 0; i < primes.size(); ++i) {
      EXPECT_TRUE(kernels::isPrime(primes[i]));
      EXPECT_EQ((primes[i] - 1) % (uint64_t(2) << logN), 0u);
      EXPECT_LT(primes[i], 1u << 30);
      if (i) {
        EXPECT_LT(primes[i], primes[i - 1]);
      }
    }
  }
  // Trial division as the reference for the primality test.
  auto naive = [](uint32_t n) {
    if (n < 2)
      return false;
    for (uint32_t d = 2; uint64_t(d) * d <= n; ++d)
      if (n % d == 0)
        return false;
    return true;
  };
  for (uint32_t n = 0; n < 20000; ++n)
    ASSERT_EQ(kernels::isPrime(n), naive(n)) << n;
  for (uint32_t n = (1u << 30) - 3000; n < (1u << 30); ++n)
    ASSERT_EQ(kernels::isPrime(n), naive(n)) << n;
}

} // namespace
