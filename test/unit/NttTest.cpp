//===- NttTest.cpp - Negacyclic NTT against naive products ----------------===//

#include "TestSupport.h"

#include "cerium/kernels/CpuBackend.h"

using namespace cerium;
using namespace cerium::kernels;

namespace {

using NttFn = void (*)(uint32_t *, const PrimeTables &, unsigned);
struct NttImpl {
  const char *name;
  NttFn forward, inverse;
};

std::vector<NttImpl> implementations() {
  std::vector<NttImpl> impls{
      {"portable", cpu::nttForwardPortable, cpu::nttInversePortable}};
  if (cpuHasAvx2())
    impls.push_back({"avx2", cpu::nttForwardAvx2, cpu::nttInverseAvx2});
  else
    std::printf("note: no AVX2 on this CPU; testing the portable NTT only\n");
  if (cpuHasAvx512())
    impls.push_back({"avx512", cpu::nttForwardAvx512, cpu::nttInverseAvx512});
  else
    std::printf("note: no AVX-512 on this CPU; its NTT is not tested\n");
  return impls;
}

/// O(N^2) product in Z_p[X] / (X^N + 1).
std::vector<uint32_t> naiveNegacyclic(const std::vector<uint32_t> &a,
                                      const std::vector<uint32_t> &b,
                                      uint32_t p) {
  const size_t n = a.size();
  std::vector<uint64_t> acc(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      uint64_t t = uint64_t(a[i]) * b[j] % p;
      size_t k = i + j;
      if (k < n)
        acc[k] = (acc[k] + t) % p;
      else
        acc[k - n] = (acc[k - n] + p - t) % p;
    }
  return std::vector<uint32_t>(acc.begin(), acc.end());
}

std::vector<uint32_t> randomPoly(size_t n, uint32_t p, Prng &prng) {
  std::vector<uint32_t> a(n);
  for (auto &x : a)
    x = prng.uniformBelow(p);
  return a;
}

TEST(Ntt, ProductMatchesNaiveNegacyclicConvolution) {
  CERIUM_SEEDED_PRNG(prng);
  for (unsigned logN : {4u, 5u, 8u, 10u}) {
    // Widths from 20 to 30 bits, several primes each.
    std::vector<uint32_t> primes;
    for (unsigned bits : {20u, 25u, 28u, 30u})
      for (uint32_t p : generatePrimes(logN, bits, 2))
        primes.push_back(p);
    RnsContext ctx(logN, primes);
    const size_t n = ctx.degree();
    for (const NttImpl &impl : implementations())
      for (uint32_t id = 0; id < ctx.numPrimes(); ++id) {
        SCOPED_TRACE(std::string(impl.name) + " N=" + std::to_string(n) +
                     " p=" + std::to_string(ctx.modulus(id)));
        uint32_t p = ctx.modulus(id);
        auto a = randomPoly(n, p, prng), b = randomPoly(n, p, prng);
        auto expect = naiveNegacyclic(a, b, p);
        impl.forward(a.data(), ctx.prime(id), logN);
        impl.forward(b.data(), ctx.prime(id), logN);
        for (size_t j = 0; j < n; ++j) {
          ASSERT_LT(a[j], p);
          a[j] = static_cast<uint32_t>(uint64_t(a[j]) * b[j] % p);
        }
        impl.inverse(a.data(), ctx.prime(id), logN);
        ASSERT_EQ(a, expect);
      }
  }
}

TEST(Ntt, InverseUndoesForwardAndPathsAgree) {
  CERIUM_SEEDED_PRNG(prng);
  for (unsigned logN = 4; logN <= 16; ++logN) {
    RnsContext ctx(logN, generatePrimes(logN, 30, 2));
    for (uint32_t id = 0; id < ctx.numPrimes(); ++id) {
      uint32_t p = ctx.modulus(id);
      auto a = randomPoly(ctx.degree(), p, prng);
      std::vector<std::vector<uint32_t>> forwards;
      for (const NttImpl &impl : implementations()) {
        SCOPED_TRACE(std::string(impl.name) + " logN=" + std::to_string(logN));
        auto x = a;
        impl.forward(x.data(), ctx.prime(id), logN);
        forwards.push_back(x);
        impl.inverse(x.data(), ctx.prime(id), logN);
        ASSERT_EQ(x, a);
      }
      for (auto &f : forwards)
        ASSERT_EQ(f, forwards.front()) << "NTT paths disagree at logN=" << logN;
    }
  }
}

// bitReverse(x, bits) reverses the low `bits` bits of x and ignores the
// rest, for every width from 0 to 32: against the bit-by-bit definition.
TEST(Ntt, BitReverseMatchesTheDefinition) {
  CERIUM_SEEDED_PRNG(prng);
  for (unsigned bits = 0; bits <= 32; ++bits)
    for (int trial = 0; trial < 200; ++trial) {
      const uint32_t x = trial < 2 ? (trial ? ~0u : 0u) : prng.next32();
      uint32_t want = 0;
      for (unsigned i = 0; i < bits; ++i)
        want |= (x >> i & 1u) << (bits - 1 - i);
      ASSERT_EQ(bitReverse(x, bits), want) << "x " << x << " bits " << bits;
    }
}

TEST(Ntt, EvaluatesAtOddPowersInBitReversedOrder) {
  // Slot k holds a(psi^(2 brev(k) + 1)): the layout the automorphism kernel
  // and the CUDA backend rely on.
  CERIUM_SEEDED_PRNG(prng);
  const unsigned logN = 6;
  RnsContext ctx(logN, generatePrimes(logN, 28, 1));
  const PrimeTables &t = ctx.prime(0);
  const uint32_t p = t.modulus.value;
  auto a = randomPoly(ctx.degree(), p, prng);
  auto x = a;
  cpu::nttForwardPortable(x.data(), t, logN);
  for (uint32_t k = 0; k < ctx.degree(); ++k) {
    uint32_t root =
        modarith::pow(t.psi, 2 * bitReverse(k, logN) + 1, t.modulus);
    uint64_t value = 0, power = 1;
    for (uint32_t c : a) {
      value = (value + c * power) % p;
      power = power * root % p;
    }
    ASSERT_EQ(x[k], value) << "slot " << k;
  }
}

} // namespace
