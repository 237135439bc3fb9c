//===- EncoderTest.cpp - Canonical embedding against direct evaluation ----===//

#include "TestSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/kernels/CpuBackend.h"

#include <cmath>
#include <complex>

using namespace cerium;
using namespace cerium::ckks;

namespace {

// Small insecure rings: these tests exercise the math, not security.
ParamsPtr makeParams(unsigned logN, unsigned logSlots,
                     unsigned scaleBits = 50) {
  ParamSpec spec;
  spec.logN = logN;
  spec.logSlots = logSlots;
  spec.levels = 1;
  spec.scaleBits = scaleBits;
  spec.baseBits = 60;
  spec.dnum = 1;
  spec.insecure = true;
  return Params::create(spec);
}

std::vector<std::complex<double>> randomSlots(size_t n, Prng &prng) {
  std::vector<std::complex<double>> z(n);
  for (auto &v : z)
    v = {2 * prng.uniformReal() - 1, 2 * prng.uniformReal() - 1};
  return z;
}

TEST(Encoder, SpecialFftMatchesDirectEvaluation) {
  CERIUM_SEEDED_PRNG(prng);
  for (auto [logN, logSlots] : {std::pair{6u, 5u}, std::pair{8u, 7u},
                                std::pair{8u, 3u}, std::pair{10u, 9u}}) {
    auto params = makeParams(logN, logSlots);
    Encoder enc(params);
    const size_t n = params->degree(), slots = params->slots();
    const size_t gap = n / (2 * slots);
    // A polynomial in X^gap (the sparse-slot subring), random coefficients.
    std::vector<double> coeffs(n, 0.0);
    for (size_t j = 0; j < n; j += gap)
      coeffs[j] = 2 * prng.uniformReal() - 1;
    auto z = enc.coefficientsToSlots(coeffs);
    // Slot k is m(zeta^(5^k)), zeta = exp(i pi / N).
    uint64_t rot = 1;
    for (size_t k = 0; k < slots; ++k, rot = rot * 5 % (2 * n)) {
      std::complex<double> direct = 0;
      for (size_t j = 0; j < n; ++j)
        direct += coeffs[j] *
                  std::polar(1.0, M_PI * double(j * rot % (2 * n)) / double(n));
      ASSERT_LT(std::abs(z[k] - direct), 1e-9 * double(n))
          << "logN " << logN << " slot " << k;
    }
    // And the inverse is an inverse.
    auto back = enc.slotsToCoefficients(z);
    for (size_t j = 0; j < n; ++j)
      ASSERT_NEAR(back[j], coeffs[j], 1e-12 * double(n));
  }
}

TEST(Encoder, RoundTripKeepsFortyBitsAtScale2To50) {
  CERIUM_SEEDED_PRNG(prng);
  for (auto [logN, logSlots] : {std::pair{12u, 0u}, std::pair{12u, 6u}}) {
    auto params = makeParams(logN, logSlots);
    auto backend = kernels::createCpuBackend(params->rns());
    Encoder enc(params);
    auto z = randomSlots(params->slots(), prng);
    for (unsigned level : {0u, 1u}) {
      Plaintext pt = enc.encode(z, std::ldexp(1.0, 50), level, *backend);
      auto back = enc.decode(pt, *backend);
      double maxErr = 0;
      for (size_t k = 0; k < z.size(); ++k)
        maxErr = std::max(maxErr, std::abs(back[k] - z[k]));
      // Rounding to integers at scale 2^50 costs ~sqrt(N) * 2^-50.
      EXPECT_LT(maxErr, std::ldexp(1.0, -40)) << "logN " << logN;
    }
  }
}

// An encoder for 2n slots in a parameter set of n (a bootstrap's masks of
// period 2n) round-trips its 2n values; a slot count past N/2, or not a
// power of two, is refused.
TEST(Encoder, WiderPeriodsRoundTrip) {
  CERIUM_SEEDED_PRNG(prng);
  auto params = makeParams(12, 4); // 16 slots of N/2 = 2048
  auto backend = kernels::createCpuBackend(params->rns());
  const size_t n = params->slots();
  Encoder wide(params, 2 * n);
  EXPECT_EQ(wide.slotCount(), 2 * n);
  auto z = randomSlots(2 * n, prng);
  Plaintext pt = wide.encode(z, std::ldexp(1.0, 50), 0, *backend);
  auto back = wide.decode(pt, *backend);
  ASSERT_EQ(back.size(), 2 * n);
  double maxErr = 0;
  for (size_t k = 0; k < 2 * n; ++k)
    maxErr = std::max(maxErr, std::abs(back[k] - z[k]));
  EXPECT_LT(maxErr, std::ldexp(1.0, -40));
  EXPECT_THROW(Encoder(params, 3), cerium::Error);
  EXPECT_THROW(Encoder(params, params->degree()), cerium::Error);
}

// A vector of period q in more slots is the polynomial of one period in
// X^(N / 2q): encoded through the size-q transform and a size-2q NTT
// (nttForwardSigned with 2q coefficients), it is the word-for-word
// plaintext an encoder of q slots makes of one period, and decodes to the
// whole vector; the full transform of the same vector agrees with it to
// within the rounding of its coefficients.
TEST(Encoder, PeriodicVectorsEncodeThroughTheirPeriod) {
  CERIUM_SEEDED_PRNG(prng);
  auto params = makeParams(12, 11); // 2048 slots, N = 4096
  const size_t n = params->slots();
  Encoder full(params);
  for (auto path : {kernels::CpuPath::Portable, kernels::CpuPath::Auto}) {
    auto backend = kernels::createCpuBackend(params->rns(), {1, path});
    for (size_t q : {size_t(1), size_t(2), size_t(8), size_t(32), n / 2}) {
      auto period = randomSlots(q, prng);
      std::vector<std::complex<double>> z(n);
      for (size_t i = 0; i < n; ++i)
        z[i] = period[i % q];
      const double scale = std::ldexp(1.0, 50);
      Plaintext pt = full.encode(z, scale, 0, *backend);
      if (q >= 2) {
        EXPECT_EQ(
            pt.value.data,
            Encoder(params, q).encode(period, scale, 0, *backend).value.data)
            << "period " << q;
      }
      // Encoder::period finds q (what --estimate prices a compact constant
      // by), and signedCoefficients keeps its 2q coefficients.
      EXPECT_EQ(Encoder::period(z, n), q);
      EXPECT_EQ(full.signedCoefficients(z, scale, 1).size(), 2 * q);
      auto back = full.decode(pt, *backend);
      double maxErr = 0;
      for (size_t k = 0; k < n; ++k)
        maxErr = std::max(maxErr, std::abs(back[k] - z[k]));
      EXPECT_LT(maxErr, std::ldexp(1.0, -40)) << "period " << q;
      // The coefficients outside multiples of N / 2q are zero.
      auto coeffs = full.slotsToCoefficients(z);
      const size_t gap = params->degree() / (2 * q);
      for (size_t j = 0; j < coeffs.size(); ++j) {
        if (j % gap) {
          ASSERT_EQ(coeffs[j], 0.0) << "period " << q << " coefficient " << j;
        }
      }
    }
  }
}

TEST(Encoder, LargeValuesAreRejectedNotWrapped) {
  auto params = makeParams(10, 0, 50);
  auto backend = kernels::createCpuBackend(params->rns());
  Encoder enc(params);
  // 2^70 coefficients against the 60-bit base.
  std::vector<double> huge(params->slots(), 1e6);
  EXPECT_THROW(enc.encode(huge, std::ldexp(1.0, 50), 0, *backend),
               cerium::Error);
  std::vector<double> tooMany(params->slots() + 1, 0.5);
  EXPECT_THROW(enc.encode(tooMany, std::ldexp(1.0, 50), 1, *backend),
               cerium::Error);
}

// Scaled coefficients past 2^62 (values of 2^20 at scale 2^50) are reduced
// exactly per prime: they decode to within the same absolute error as small
// values (the coefficients' rounding, N / 2 / Delta, and the transforms'
// double precision at their magnitude), up to half the level's modulus.
TEST(Encoder, LargeValuesEncodeExactlyWithinTheModulus) {
  CERIUM_SEEDED_PRNG(prng);
  auto params = makeParams(10, 9, 50); // level 1: 60 + 50 bits
  auto backend = kernels::createCpuBackend(params->rns());
  Encoder enc(params);
  auto z = randomSlots(params->slots(), prng);
  for (auto &v : z)
    v *= std::ldexp(1.0, 20);
  z[0] = {std::ldexp(1.0, 20), -std::ldexp(1.0, 20)};
  const double scale = std::ldexp(1.0, 50);
  auto back = enc.decode(enc.encode(z, scale, 1, *backend), *backend);
  double worst = 0;
  for (size_t k = 0; k < z.size(); ++k)
    worst = std::max(worst, std::abs(back[k] - z[k]));
  EXPECT_LT(worst, std::ldexp(1.0, -25)) << "log2 " << std::log2(worst);
  // The same values at level 0 would exceed its 60 bits: refused.
  EXPECT_THROW(enc.encode(z, scale, 0, *backend), cerium::Error);
}

// The slot transform on several threads (split first stages, then one
// block per thread) computes the same words as on one, for any count.
TEST(Encoder, ThreadedTransformIsBitIdentical) {
  CERIUM_SEEDED_PRNG(prng);
  for (auto [logN, logSlots] :
       {std::pair{14u, 13u}, std::pair{15u, 14u}, std::pair{14u, 12u}}) {
    auto params = makeParams(logN, logSlots);
    Encoder enc(params);
    auto z = randomSlots(params->slots(), prng);
    auto one =
        kernels::createCpuBackend(params->rns(), kernels::CpuBackendOptions{1});
    const auto want = enc.encode(z, 0x1p40, 1, *one).value.data;
    for (int threads : {2, 3, 4, 8}) {
      auto many = kernels::createCpuBackend(
          params->rns(), kernels::CpuBackendOptions{threads});
      ASSERT_EQ(enc.encode(z, 0x1p40, 1, *many).value.data, want)
          << "logN " << logN << " threads " << threads;
    }
  }
}

} // namespace
