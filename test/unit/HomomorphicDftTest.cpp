//===- HomomorphicDftTest.cpp - DFT factors against the encoder ----------===//

#include "TestSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/HomomorphicDft.h"

#include <algorithm>
#include <cmath>
#include <complex>

using namespace cerium;
using namespace cerium::ckks;

namespace {

using Complex = std::complex<double>;
using Dense = std::vector<std::vector<Complex>>;

ParamsPtr makeParams(unsigned logN, unsigned logSlots) {
  ParamSpec spec;
  spec.logN = logN;
  spec.logSlots = logSlots;
  spec.levels = 1;
  spec.scaleBits = 40;
  spec.baseBits = 60;
  spec.dnum = 1;
  spec.insecure = true;
  return Params::create(spec);
}

std::vector<Complex> applyAll(const std::vector<SlotMatrix> &factors,
                              std::vector<Complex> x) {
  for (const SlotMatrix &f : factors)
    x = f.apply(x);
  return x;
}

double maxAbs(const std::vector<Complex> &v) {
  double m = 0;
  for (Complex c : v)
    m = std::max(m, std::abs(c));
  return m;
}

double maxAbsDiff(const std::vector<Complex> &a, const std::vector<Complex> &b,
                  double scale) {
  double m = 0;
  for (size_t k = 0; k < a.size(); ++k)
    m = std::max(m, std::abs(a[k] - scale * b[k]));
  return m;
}

// Stage counts per SlotToCoeff factor as the header documents them: even
// groups, the larger ones holding the widest stages.
std::vector<unsigned> expectedGroups(unsigned logSlots, unsigned levels) {
  std::vector<unsigned> sizes(levels, logSlots / levels);
  for (unsigned g = levels - logSlots % levels; g < levels; ++g)
    ++sizes[g];
  return sizes;
}

Dense toDense(const SlotMatrix &m) {
  const size_t n = m.slots;
  Dense d(n, std::vector<Complex>(n));
  for (const auto &[r, diag] : m.diagonals)
    for (size_t k = 0; k < n; ++k)
      d[k][(k + size_t(r)) % n] += diag[k];
  return d;
}

SlotMatrix randomMatrix(size_t n, size_t numDiagonals, Prng &prng) {
  SlotMatrix m{n, {}};
  for (size_t i = 0; i < numDiagonals; ++i) {
    auto &d = m.diagonals[int64_t(prng.uniformBelow(n))];
    d.resize(n);
    for (auto &v : d)
      v = {2 * prng.uniformReal() - 1, 2 * prng.uniformReal() - 1};
  }
  return m;
}

// For every logSlots in 1..11 and levels in 1..min(4, logSlots), with the
// encoder at full slots (where the ring allows) and at sparse slots.
TEST(HomomorphicDft, MatchesEncoderBothWays) {
  CERIUM_SEEDED_PRNG(prng);
  const double scale = 0.3;
  for (unsigned logSlots = 1; logSlots <= 11; ++logSlots) {
    const size_t n = size_t(1) << logSlots;
    const auto perm = dftSlotPermutation(logSlots);
    std::vector<unsigned> ringLogs{std::max(logSlots + 2, 4u)};
    if (logSlots + 1 >= 4)
      ringLogs.push_back(logSlots + 1);
    for (unsigned logN : ringLogs) {
      Encoder enc(makeParams(logN, logSlots));
      ASSERT_EQ(enc.params().slots(), n);
      const size_t degree = enc.params().degree(), gap = degree / (2 * n);
      std::vector<double> t(2 * n), coeffs(degree, 0.0);
      for (size_t i = 0; i < 2 * n; ++i)
        coeffs[i * gap] = t[i] = 2 * prng.uniformReal() - 1;
      const auto z = enc.coefficientsToSlots(coeffs);
      std::vector<Complex> w(n);
      for (size_t k = 0; k < n; ++k)
        w[k] = {t[perm[k]], t[perm[k] + n]};
      for (unsigned levels = 1; levels <= std::min(4u, logSlots); ++levels) {
        SCOPED_TRACE("logN " + std::to_string(logN) + " logSlots " +
                     std::to_string(logSlots) + " levels " +
                     std::to_string(levels));
        auto cts = coeffsToSlotsFactors(logSlots, levels, scale);
        auto stc = slotsToCoeffsFactors(logSlots, levels, scale);
        ASSERT_EQ(cts.size(), levels);
        ASSERT_EQ(stc.size(), levels);
        EXPECT_LE(maxAbsDiff(applyAll(cts, z), w, scale),
                  1e-9 * scale * maxAbs(w));
        EXPECT_LE(maxAbsDiff(applyAll(stc, w), z, scale),
                  1e-9 * scale * maxAbs(z));
      }
    }
  }
}

// Double rounding only: the unscaled round trip is the identity to ~1e-15
// times the number of stages.
TEST(HomomorphicDft, RoundTripIsExactToRounding) {
  CERIUM_SEEDED_PRNG(prng);
  for (unsigned logSlots = 1; logSlots <= 11; ++logSlots) {
    const size_t n = size_t(1) << logSlots;
    std::vector<Complex> w(n);
    for (auto &v : w)
      v = {2 * prng.uniformReal() - 1, 2 * prng.uniformReal() - 1};
    for (unsigned levels = 1; levels <= std::min(4u, logSlots); ++levels) {
      auto back =
          applyAll(coeffsToSlotsFactors(logSlots, levels, 1.0),
                   applyAll(slotsToCoeffsFactors(logSlots, levels, 1.0), w));
      EXPECT_LE(maxAbsDiff(back, w, 1.0), 1e-15 * 4 * logSlots * maxAbs(w))
          << "logSlots " << logSlots << " levels " << levels;
    }
  }
}

TEST(HomomorphicDft, DiagonalCountsStayWithinTheGroupBound) {
  for (unsigned logSlots = 1; logSlots <= 11; ++logSlots)
    for (unsigned levels = 1; levels <= std::min(4u, logSlots); ++levels) {
      auto groups = expectedGroups(logSlots, levels);
      auto stc = slotsToCoeffsFactors(logSlots, levels, 1.0);
      auto cts = coeffsToSlotsFactors(logSlots, levels, 1.0);
      for (unsigned g = 0; g < levels; ++g) {
        const size_t bound = (size_t(1) << (groups[g] + 1)) - 1;
        EXPECT_LE(stc[g].diagonals.size(), bound)
            << "logSlots " << logSlots << " levels " << levels << " factor "
            << g;
        // CoeffToSlot runs the same groups in reverse.
        EXPECT_LE(cts[levels - 1 - g].diagonals.size(), bound)
            << "logSlots " << logSlots << " levels " << levels << " factor "
            << g;
      }
      // Offsets of a group are multiples of its narrowest stage's 2^s.
      unsigned first = 0;
      for (unsigned g = 0; g < levels; ++g) {
        for (const auto &[r, d] : stc[g].diagonals)
          EXPECT_EQ(r % (int64_t(1) << first), 0);
        first += groups[g];
      }
    }
}

TEST(HomomorphicDft, ComposeAndApplyMatchDenseProducts) {
  CERIUM_SEEDED_PRNG(prng);
  for (size_t n : {1u, 2u, 4u, 8u, 16u}) {
    for (int trial = 0; trial < 4; ++trial) {
      SlotMatrix a = randomMatrix(n, 1 + prng.uniformBelow(n), prng);
      SlotMatrix b = randomMatrix(n, 1 + prng.uniformBelow(n), prng);
      Dense da = toDense(a), db = toDense(b), dc = toDense(compose(a, b));
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j) {
          Complex want = 0;
          for (size_t k = 0; k < n; ++k)
            want += da[i][k] * db[k][j];
          ASSERT_LT(std::abs(dc[i][j] - want), 1e-12) << "n " << n;
        }
      std::vector<Complex> x(n);
      for (auto &v : x)
        v = {2 * prng.uniformReal() - 1, 2 * prng.uniformReal() - 1};
      auto y = a.apply(x);
      for (size_t i = 0; i < n; ++i) {
        Complex want = 0;
        for (size_t k = 0; k < n; ++k)
          want += da[i][k] * x[k];
        ASSERT_LT(std::abs(y[i] - want), 1e-12) << "n " << n;
      }
    }
  }
  // The factors themselves multiply out to the dense transform.
  for (unsigned logSlots = 1; logSlots <= 4; ++logSlots)
    for (unsigned levels = 1; levels <= logSlots; ++levels) {
      auto f = slotsToCoeffsFactors(logSlots, levels, 1.0);
      SlotMatrix product = f.front();
      for (size_t i = 1; i < f.size(); ++i)
        product = compose(f[i], product);
      Dense whole = toDense(slotsToCoeffsFactors(logSlots, 1, 1.0).front());
      Dense got = toDense(product);
      for (size_t i = 0; i < whole.size(); ++i)
        for (size_t j = 0; j < whole.size(); ++j)
          ASSERT_LT(std::abs(got[i][j] - whole[i][j]), 1e-13)
              << "logSlots " << logSlots << " levels " << levels;
    }
}

TEST(HomomorphicDft, PermutationIsBitReversal) {
  EXPECT_EQ(dftSlotPermutation(0), (std::vector<size_t>{0}));
  EXPECT_EQ(dftSlotPermutation(3),
            (std::vector<size_t>{0, 4, 2, 6, 1, 5, 3, 7}));
}

TEST(HomomorphicDft, RotationOffsetsAreTheNonzeroDiagonals) {
  // Two stages over 4 slots: offsets 0, 1, 3 then 0, 2.
  auto stc = slotsToCoeffsFactors(2, 2, 1.0);
  EXPECT_EQ(rotationOffsets(stc), (std::set<int64_t>{1, 2, 3}));
}

TEST(HomomorphicDft, OneSlotIsScaledIdentity) {
  // n = 1: z = t0 + i t1 = w.
  for (auto *make : {&coeffsToSlotsFactors, &slotsToCoeffsFactors}) {
    auto f = make(0, 1, 2.5);
    ASSERT_EQ(f.size(), 1u);
    std::vector<Complex> x{{0.25, -0.5}};
    EXPECT_EQ(f[0].apply(x)[0], Complex(0.625, -1.25));
  }
}

TEST(HomomorphicDft, BadArgumentsAreErrors) {
  EXPECT_THROW(coeffsToSlotsFactors(5, 0, 1.0), cerium::Error);
  EXPECT_THROW(coeffsToSlotsFactors(5, 6, 1.0), cerium::Error);
  EXPECT_THROW(slotsToCoeffsFactors(0, 2, 1.0), cerium::Error);
  // One dense factor over 2^15 slots would be 2^30 entries.
  EXPECT_THROW(slotsToCoeffsFactors(15, 1, 1.0), cerium::Error);
  EXPECT_THROW(dftSlotPermutation(40), cerium::Error);
  SlotMatrix a{4, {}}, b{8, {}};
  EXPECT_THROW(compose(a, b), cerium::Error);
  std::vector<Complex> three(3);
  EXPECT_THROW(a.apply(three), cerium::Error);
}

} // namespace
