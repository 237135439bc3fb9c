//===- RnsTest.cpp - RNS kernels against exact integer arithmetic ---------===//

#include "TestSupport.h"

#include "cerium/kernels/CpuBackend.h"

#include <numeric>

using namespace cerium;
using namespace cerium::kernels;
using cerium::test::BigInt;

namespace {

constexpr unsigned kLogN = 8;

struct Fixture {
  // 6 "Q" primes of mixed widths and 3 "P" primes.
  Fixture()
      : ctx(kLogN,
            [] {
              auto q = generatePrimes(kLogN, 28, 3);
              auto q2 = generatePrimes(kLogN, 25, 3);
              q.insert(q.end(), q2.begin(), q2.end());
              auto p = generatePrimes(kLogN, 30, 3);
              q.insert(q.end(), p.begin(), p.end());
              return q;
            }()),
        backend(createCpuBackend(ctx)) {}
  std::vector<uint32_t> moduli(std::span<const uint32_t> ids) const {
    std::vector<uint32_t> m;
    for (uint32_t id : ids)
      m.push_back(ctx.modulus(id));
    return m;
  }
  RnsContext ctx;
  std::unique_ptr<RnsBackend> backend;
};

/// Residues of big integers, limb-major.
std::vector<uint32_t> residues(const std::vector<BigInt> &xs,
                               const std::vector<uint32_t> &moduli) {
  std::vector<uint32_t> out(moduli.size() * xs.size());
  for (size_t i = 0; i < moduli.size(); ++i)
    for (size_t c = 0; c < xs.size(); ++c)
      out[i * xs.size() + c] = xs[c].mod(moduli[i]);
  return out;
}

std::vector<BigInt> randomBig(size_t n, const std::vector<uint32_t> &moduli,
                              Prng &prng) {
  std::vector<BigInt> xs;
  for (size_t c = 0; c < n; ++c)
    xs.push_back(BigInt::random(moduli, prng));
  return xs;
}

/// The centered representative of x mod a (x - a if 2x > a), modulo m.
uint32_t centeredMod(const BigInt &x, const BigInt &a, uint32_t m) {
  BigInt twice = x;
  twice.mulSmall(2);
  uint64_t r = x.mod(m);
  if (twice.compare(a) > 0)
    r = (r + m - a.mod(m)) % m;
  return static_cast<uint32_t>(r);
}

/// round(x / d) for d = prod ms.
BigInt roundedQuotient(const BigInt &x, const std::vector<uint32_t> &ms) {
  BigInt q = x;
  for (uint32_t m : ms)
    q.divSmall(m);
  BigInt back = q;
  for (uint32_t m : ms)
    back.mulSmall(m);
  BigInt rem = x;
  rem.sub(back);
  rem.mulSmall(2);
  if (rem.compare(BigInt::product(ms)) > 0)
    q.add(BigInt(1));
  return q;
}

TEST(Rns, ElementwiseOpsMatchWideIntegers) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree(), k = f.ctx.numPrimes();
  std::vector<uint32_t> ids(k);
  std::iota(ids.begin(), ids.end(), 0);
  std::vector<uint32_t> a(k * n), b(k * n), out(k * n), scalars(k);
  for (size_t i = 0; i < k; ++i) {
    scalars[i] = prng.uniformBelow(f.ctx.modulus(i));
    for (size_t j = 0; j < n; ++j) {
      a[i * n + j] = prng.uniformBelow(f.ctx.modulus(i));
      b[i * n + j] = prng.uniformBelow(f.ctx.modulus(i));
    }
  }
  Limbs o{out.data(), ids, n};
  ConstLimbs av{a.data(), ids, n}, bv{b.data(), ids, n};
  auto check = [&](const char *what, auto expect) {
    for (size_t i = 0; i < k; ++i)
      for (size_t j = 0; j < n; ++j)
        ASSERT_EQ(out[i * n + j],
                  expect(uint64_t(a[i * n + j]), uint64_t(b[i * n + j]),
                         uint64_t(scalars[i]), uint64_t(f.ctx.modulus(i))))
            << what << " limb " << i << " coefficient " << j;
  };
  f.backend->add(o, av, bv);
  check("add", [](auto x, auto y, auto, auto p) { return (x + y) % p; });
  f.backend->sub(o, av, bv);
  check("sub", [](auto x, auto y, auto, auto p) { return (x + p - y) % p; });
  f.backend->negate(o, av);
  check("negate", [](auto x, auto, auto, auto p) { return (p - x) % p; });
  f.backend->mul(o, av, bv);
  check("mul", [](auto x, auto y, auto, auto p) { return x * y % p; });
  f.backend->mulScalar(o, av, scalars);
  check("mulScalar", [](auto x, auto, auto s, auto p) { return x * s % p; });
  f.backend->addScalar(o, av, scalars);
  check("addScalar", [](auto x, auto, auto s, auto p) { return (x + s) % p; });
  f.backend->subMulScalar(o, av, bv, scalars);
  check("subMulScalar",
        [](auto x, auto y, auto s, auto p) { return (x + p - y) * s % p; });
  std::copy(a.begin(), a.end(), out.begin());
  f.backend->mulAdd(o, av, bv);
  check("mulAdd", [](auto x, auto y, auto, auto p) { return (x + x * y) % p; });
}

TEST(Rns, NttForwardSignedReducesThenTransforms) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree();
  std::vector<uint32_t> ids(f.ctx.numPrimes());
  std::iota(ids.begin(), ids.end(), 0);
  std::vector<int64_t> coefficients(n);
  for (size_t j = 0; j < n; ++j)
    coefficients[j] = static_cast<int64_t>(prng.next64()) >> (j % 64);
  // The exact residues (ModArith.h's fromSigned), transformed.
  std::vector<uint32_t> want(ids.size() * n), got(ids.size() * n);
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t j = 0; j < n; ++j)
      want[i * n + j] =
          modarith::fromSigned(coefficients[j], f.ctx.prime(ids[i]).modulus);
  f.backend->nttForward({want.data(), ids, n});
  f.backend->nttForwardSigned({got.data(), ids, n}, coefficients);
  EXPECT_EQ(got, want);
  EXPECT_THROW(f.backend->nttForwardSigned(
                   {got.data(), ids, n},
                   std::span<const int64_t>(coefficients).first(n - 1)),
               std::invalid_argument);
}

TEST(Rns, BaseConversionMatchesExactCrt) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree();
  // Q primes 0..5 to P primes 6..8, and a 2-prime digit to the rest.
  std::vector<std::pair<std::vector<uint32_t>, std::vector<uint32_t>>> cases{
      {{0, 1, 2, 3, 4, 5}, {6, 7, 8}},
      {{2, 3}, {6, 7, 8, 0, 1, 4, 5}},
      {{6, 7, 8}, {0, 1, 2, 3, 4, 5}}};
  for (auto &[from, to] : cases) {
    BaseConverter conv(f.ctx, from, to);
    auto mFrom = f.moduli(from), mTo = f.moduli(to);
    auto xs = randomBig(n, mFrom, prng);
    auto in = residues(xs, mFrom);
    std::vector<uint32_t> out(to.size() * n);
    f.backend->baseConvert(conv, {out.data(), to, n}, {in.data(), from, n});
    // The corrected conversion returns the centered representative.
    BigInt a = BigInt::product(mFrom);
    for (size_t c = 0; c < n; ++c)
      for (size_t j = 0; j < to.size(); ++j)
        ASSERT_EQ(out[j * n + c], centeredMod(xs[c], a, mTo[j]))
            << "coefficient " << c << " output limb " << j;
  }
}

TEST(Rns, ModUpPlacesDigitAndConvertsTheRest) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree();
  // Extended basis [P, Q] = [6 7 8 0 1 2 3 4 5]; digit = Q primes 2, 3.
  std::vector<uint32_t> ext{6, 7, 8, 0, 1, 2, 3, 4, 5}, digit{2, 3},
      rest{6, 7, 8, 0, 1, 4, 5};
  BaseConverter conv(f.ctx, digit, rest);
  auto mDigit = f.moduli(digit), mExt = f.moduli(ext);
  auto xs = randomBig(n, mDigit, prng);
  auto in = residues(xs, mDigit);
  f.backend->nttForward({in.data(), digit, n});
  std::vector<uint32_t> out(ext.size() * n);
  f.backend->modUp(conv, {out.data(), ext, n}, {in.data(), digit, n}, 5);
  f.backend->nttInverse({out.data(), ext, n});
  BigInt d = BigInt::product(mDigit);
  for (size_t c = 0; c < n; ++c)
    for (size_t j = 0; j < ext.size(); ++j)
      ASSERT_EQ(out[j * n + c], centeredMod(xs[c], d, mExt[j]))
          << "coefficient " << c << " limb " << j;
}

TEST(Rns, ModDownDividesByP) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree();
  std::vector<uint32_t> ext{6, 7, 8, 0, 1, 2, 3, 4, 5}, p{6, 7, 8},
      q{0, 1, 2, 3, 4, 5};
  BaseConverter conv(f.ctx, p, q);
  auto mExt = f.moduli(ext), mQ = f.moduli(q), mP = f.moduli(p);
  auto xs = randomBig(n, mExt, prng);
  auto in = residues(xs, mExt);
  f.backend->nttForward({in.data(), ext, n});
  std::vector<uint32_t> out(q.size() * n);
  f.backend->modDown(conv, {out.data(), q, n}, {in.data(), ext, n});
  f.backend->nttInverse({out.data(), q, n});
  // (x - [x]_P) / P with [x]_P centered is round(x / P).
  for (size_t c = 0; c < n; ++c) {
    BigInt expect = roundedQuotient(xs[c], mP);
    for (size_t j = 0; j < q.size(); ++j)
      ASSERT_EQ(out[j * n + c], expect.mod(mQ[j]))
          << "coefficient " << c << " limb " << j;
  }
}

TEST(Rns, RescaleRoundsExactly) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree();
  std::vector<uint32_t> q{0, 1, 2, 3, 4, 5};
  auto mQ = f.moduli(q);
  std::vector<uint32_t> mKeep(mQ.begin(), mQ.end() - 1);
  const uint32_t last = mQ.back();
  for (Domain domain : {Domain::Coefficient, Domain::Ntt}) {
    auto xs = randomBig(n, mQ, prng);
    auto in = residues(xs, mQ);
    if (domain == Domain::Ntt)
      f.backend->nttForward({in.data(), q, n});
    std::vector<uint32_t> out((q.size() - 1) * n);
    auto keep = std::span<const uint32_t>(q).first(q.size() - 1);
    f.backend->rescaleByLastPrime({out.data(), keep, n}, {in.data(), q, n},
                                  domain);
    if (domain == Domain::Ntt)
      f.backend->nttInverse({out.data(), keep, n});
    // round(x / q_last) = floor((x + floor(q_last / 2)) / q_last).
    for (size_t c = 0; c < n; ++c) {
      BigInt r = xs[c];
      r.add(BigInt(last / 2));
      r.divSmall(last);
      for (size_t j = 0; j < mKeep.size(); ++j)
        ASSERT_EQ(out[j * n + c], r.mod(mKeep[j]))
            << "coefficient " << c << " limb " << j;
    }
  }
}

TEST(Rns, AutomorphismCommutesWithNtt) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree();
  std::vector<uint32_t> ids{0, 3, 6};
  for (uint32_t g : {5u, 25u, 125u, uint32_t(2 * n - 1), 3u, 2u * 7 + 1}) {
    std::vector<uint32_t> a(ids.size() * n);
    for (size_t i = 0; i < a.size(); ++i)
      a[i] = prng.uniformBelow(f.ctx.modulus(ids[i / n]));
    // Reference: X^j -> (+/-) X^(j g mod N), by definition.
    std::vector<uint32_t> expect(a.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      uint32_t p = f.ctx.modulus(ids[i]);
      for (size_t j = 0; j < n; ++j) {
        uint64_t e = j * g % (2 * n);
        uint32_t v = a[i * n + j];
        expect[i * n + (e % n)] = e < n ? v : (p - v) % p;
      }
    }
    std::vector<uint32_t> coeffOut(a.size()), nttOut(a.size());
    f.backend->automorphism({coeffOut.data(), ids, n}, {a.data(), ids, n}, g,
                            Domain::Coefficient);
    ASSERT_EQ(coeffOut, expect) << "g = " << g;
    auto aNtt = a;
    f.backend->nttForward({aNtt.data(), ids, n});
    f.backend->automorphism({nttOut.data(), ids, n}, {aNtt.data(), ids, n}, g,
                            Domain::Ntt);
    f.backend->nttInverse({nttOut.data(), ids, n});
    ASSERT_EQ(nttOut, expect) << "g = " << g;
  }
}

TEST(Rns, KeySwitchInnerProductMatchesSumOfProducts) {
  CERIUM_SEEDED_PRNG(prng);
  Fixture f;
  const size_t n = f.ctx.degree();
  std::vector<uint32_t> ids{6, 7, 8, 0, 1, 2, 3, 4, 5};
  // 17 digits crosses the lazy-accumulation reduction point.
  for (size_t beta : {1u, 3u, 17u}) {
    std::vector<std::vector<uint32_t>> store(
        3 * beta, std::vector<uint32_t>(ids.size() * n));
    for (auto &v : store)
      for (size_t i = 0; i < v.size(); ++i)
        v[i] = prng.uniformBelow(f.ctx.modulus(ids[i / n]));
    std::vector<ConstLimbs> d, kb, ka;
    for (size_t j = 0; j < beta; ++j) {
      d.push_back({store[3 * j].data(), ids, n});
      kb.push_back({store[3 * j + 1].data(), ids, n});
      ka.push_back({store[3 * j + 2].data(), ids, n});
    }
    std::vector<uint32_t> o0(ids.size() * n), o1(ids.size() * n);
    f.backend->keySwitchInnerProduct({o0.data(), ids, n}, {o1.data(), ids, n},
                                     d, kb, ka);
    for (size_t i = 0; i < o0.size(); ++i) {
      uint64_t p = f.ctx.modulus(ids[i / n]), e0 = 0, e1 = 0;
      for (size_t j = 0; j < beta; ++j) {
        e0 = (e0 + uint64_t(store[3 * j][i]) * store[3 * j + 1][i]) % p;
        e1 = (e1 + uint64_t(store[3 * j][i]) * store[3 * j + 2][i]) % p;
      }
      ASSERT_EQ(o0[i], e0) << "beta " << beta << " word " << i;
      ASSERT_EQ(o1[i], e1) << "beta " << beta << " word " << i;
    }
  }
}

// The 64-bit accumulators hold up to 15 products of residues before each
// reduction: the largest sums (every residue p - 1) at the narrowest and
// widest primes must reduce exactly.
TEST(Rns, AccumulatorReductionAtExtremeWidths) {
  constexpr unsigned logN = 4;
  std::vector<uint32_t> primes;
  for (unsigned bits :
       {modarith::kMinModulusBits, 22u, modarith::kMaxModulusBits})
    primes.push_back(generatePrimes(logN, bits, 1)[0]);
  RnsContext ctx(logN, primes);
  auto backend = createCpuBackend(ctx);
  const size_t n = ctx.degree(), beta = 31;
  std::vector<uint32_t> ids{0, 1, 2}, top(ids.size() * n);
  for (size_t i = 0; i < top.size(); ++i)
    top[i] = ctx.modulus(ids[i / n]) - 1 - uint32_t(i % 3);
  std::vector<ConstLimbs> views(beta, ConstLimbs{top.data(), ids, n});
  std::vector<uint32_t> o0(top.size()), o1(top.size());
  backend->keySwitchInnerProduct({o0.data(), ids, n}, {o1.data(), ids, n},
                                 views, views, views);
  for (size_t i = 0; i < top.size(); ++i) {
    uint64_t p = ctx.modulus(ids[i / n]), want = 0;
    for (size_t j = 0; j < beta; ++j)
      want = (want + uint64_t(top[i]) * top[i]) % p;
    ASSERT_EQ(o0[i], want) << "p = " << p;
    ASSERT_EQ(o1[i], want) << "p = " << p;
  }
}

} // namespace
