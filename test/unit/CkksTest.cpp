//===- CkksTest.cpp - Encryption, key switching and slot operations -------===//
//
// Decrypted results are compared with float64 computations on the same
// values. Rings are small and insecure (--insecure equivalents) to keep the
// tests fast; the arithmetic is the same at every size.
//
//===----------------------------------------------------------------------===//

#include "CkksHarness.h"
#include "TestSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/kernels/CpuBackend.h"

#include <cmath>
#include <complex>

using namespace cerium;
using namespace cerium::ckks;
using test::Slots;

namespace {

using Harness = test::CkksHarness;

using test::maxError;

ParamSpec smallSpec(unsigned logN = 12, unsigned dnum = 2,
                    unsigned scaleBits = 40) {
  ParamSpec spec;
  spec.logN = logN;
  spec.levels = 3;
  spec.scaleBits = scaleBits;
  spec.baseBits = 55;
  spec.dnum = dnum;
  spec.insecure = true;
  return spec;
}

/// Heuristic canonical-embedding bound on fresh public-key encryption noise
/// (Kim et al., "Approximate homomorphic encryption with reduced
/// approximation error"): 8 sqrt(2) sigma N + 6 sigma sqrt(N) +
/// 16 sigma sqrt(h N), with h = N for a uniform ternary secret, plus the
/// encoding rounding N / 2. Divided by the scale it bounds the slot error.
double freshNoiseBound(const Params &p) {
  double n = double(p.degree()), sigma = kErrorStdDev;
  return (8 * std::sqrt(2.0) * sigma * n + 6 * sigma * std::sqrt(n) +
          16 * sigma * n + n / 2) /
         p.levelScale(p.maxLevel());
}

TEST(Ckks, DecryptionErrorWithinFreshNoiseBound) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(smallSpec(), data.next64());
  const double bound = freshNoiseBound(*s.params);
  Slots z = s.random(data);
  const unsigned top = s.params->maxLevel();
  EXPECT_LT(maxError(s.decrypt(s.encrypt(z, top)), z), bound);
  Ciphertext symmetric = s.encryptor.encrypt(
      s.encoder.encode(z, s.params->levelScale(top), top, *s.backend), s.sk,
      s.prng);
  EXPECT_LT(maxError(s.decrypt(symmetric), z), bound);
  // Encryption at a lower level uses the truncated public key.
  EXPECT_LT(maxError(s.decrypt(s.encrypt(z, 1)), z),
            bound * s.params->levelScale(top) / s.params->levelScale(1));
}

TEST(Ckks, KeySwitchedCiphertextDecryptsUnderNewKey) {
  CERIUM_SEEDED_PRNG(data);
  for (unsigned dnum : {1u, 2u, 3u, 9u}) {
    SCOPED_TRACE("dnum " + std::to_string(dnum));
    Harness s(smallSpec(12, dnum), data.next64());
    SecretKey other = s.keygen.secretKey();
    auto ext = s.params->extendedPrimeIds(s.params->maxLevel());
    auto otherNtt = smallToRnsNtt(other.coeffs, ext, *s.backend);
    SwitchingKey key = s.keygen.switchingKey(s.sk, otherNtt);
    Slots z = s.random(data);
    for (unsigned level : std::vector<unsigned>{s.params->maxLevel(), 1u, 0u}) {
      Plaintext pt =
          s.encoder.encode(z, s.params->levelScale(level), level, *s.backend);
      Ciphertext under = s.encryptor.encrypt(pt, other, s.prng);
      // (c0, c1) under s' -> (c0, 0) + KeySwitch(c1) under s.
      Ciphertext switched{PolyVector::zeros(*s.params, level, 2), under.scale};
      std::copy_n(under.value.data.begin(), under.value.polyWords(),
                  switched.value.data.begin());
      s.eval.keySwitchAccumulate(under.value.poly(*s.params, 1), key,
                                 switched.value.poly(*s.params, 0),
                                 switched.value.poly(*s.params, 1));
      // With centered base conversions the key-switching noise is ~2^13 in
      // the slots at N = 2^12 (the uncentered ModDown error reached ~2^18.6,
      // its mean amplified N-fold near zeta): bound 2^18 / Delta.
      EXPECT_LT(maxError(s.decrypt(switched), z),
                std::ldexp(1.0, 18) / s.params->levelScale(level))
          << "level " << level;
    }
  }
}

TEST(Ckks, MultiplyRelinearizeRescale) {
  CERIUM_SEEDED_PRNG(data);
  for (unsigned scaleBits : {28u, 40u, 50u}) {
    SCOPED_TRACE("scale 2^" + std::to_string(scaleBits));
    ParamSpec spec = smallSpec(12, 2, scaleBits);
    spec.baseBits = scaleBits + 20;
    Harness s(spec, data.next64());
    EvalKeys keys = s.keygen.evalKeys(s.sk, true, GaloisLevels{});
    Slots x = s.random(data), y = s.random(data), w = s.random(data);
    const unsigned top = s.params->maxLevel();
    Ciphertext cx = s.encrypt(x, top), cy = s.encrypt(y, top);
    Ciphertext prod = s.eval.multiply(cx, cy);
    EXPECT_EQ(prod.size(), 3u);
    // Unrelinearized ciphertexts decrypt too (with s^2).
    Slots want(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      want[i] = x[i] * y[i];
    double tol = std::ldexp(1.0, -int(scaleBits) + 22);
    EXPECT_LT(maxError(s.decrypt(prod), want), tol);
    Ciphertext r = s.eval.rescale(s.eval.relinearize(prod, keys));
    EXPECT_EQ(r.level(), top - 1);
    EXPECT_LT(maxError(s.decrypt(r), want), tol);
    // A second multiplication at the lower level: x * y * w.
    // Dropping primes keeps the message: w encrypted at the top, moved down.
    Ciphertext cw = s.eval.levelDown(s.encrypt(w, top), top - 1);
    EXPECT_LT(maxError(s.decrypt(cw), w), tol);
    cw = s.encrypt(w, top - 1); // at Delta_{top-1}, r's scale
    EXPECT_NEAR(cw.scale / r.scale, 1.0, 1e-12);
    Ciphertext r2 =
        s.eval.rescale(s.eval.relinearize(s.eval.multiply(r, cw), keys));
    for (size_t i = 0; i < x.size(); ++i)
      want[i] *= w[i];
    EXPECT_LT(maxError(s.decrypt(r2), want), 4 * tol);
  }
}

TEST(Ckks, AutomorphismIsSlotRotationAfterDecoding) {
  CERIUM_SEEDED_PRNG(data);
  for (unsigned logSlots : {0u, 5u}) {
    ParamSpec spec = smallSpec();
    spec.logSlots = logSlots;
    Harness s(spec, data.next64());
    const size_t n = s.params->slots();
    Slots z = s.random(data);
    const unsigned top = s.params->maxLevel();
    Plaintext pt =
        s.encoder.encode(z, s.params->levelScale(top), top, *s.backend);
    for (int64_t steps :
         std::vector<int64_t>{1, 3, -2, int64_t(n / 2), int64_t(n) - 1}) {
      Plaintext moved = pt;
      s.backend->automorphism(
          moved.value.poly(*s.params, 0), pt.value.poly(*s.params, 0),
          galoisForRotation(*s.params, steps), kernels::Domain::Ntt);
      Slots got = s.encoder.decode(moved, *s.backend), want(n);
      for (size_t i = 0; i < n; ++i)
        want[i] = z[(i + n + (steps % int64_t(n))) % n];
      EXPECT_LT(maxError(got, want), 1e-9) << "steps " << steps;
    }
    Plaintext conj = pt;
    s.backend->automorphism(
        conj.value.poly(*s.params, 0), pt.value.poly(*s.params, 0),
        galoisForConjugation(*s.params), kernels::Domain::Ntt);
    Slots got = s.encoder.decode(conj, *s.backend), want(n);
    for (size_t i = 0; i < n; ++i)
      want[i] = std::conj(z[i]);
    EXPECT_LT(maxError(got, want), 1e-9);
  }
}

TEST(Ckks, EncryptedRotationAndConjugation) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(smallSpec(12, 3), data.next64());
  std::vector<int64_t> steps{1, 5, -1, -7};
  std::vector<uint32_t> galois;
  for (int64_t k : steps)
    galois.push_back(galoisForRotation(*s.params, k));
  galois.push_back(galoisForConjugation(*s.params));
  EvalKeys keys = s.keygen.evalKeys(s.sk, false, galois);
  const size_t n = s.params->slots();
  Slots z = s.random(data);
  for (unsigned level : std::vector<unsigned>{s.params->maxLevel(), 0u}) {
    Ciphertext ct = s.encrypt(z, level);
    for (int64_t k : steps) {
      Slots got = s.decrypt(s.eval.rotate(ct, k, keys)), want(n);
      for (size_t i = 0; i < n; ++i)
        want[i] = z[(i + n + k) % n];
      EXPECT_LT(maxError(got, want), 1e-6) << "rotate " << k;
    }
    Slots got = s.decrypt(s.eval.conjugate(ct, keys)), want(n);
    for (size_t i = 0; i < n; ++i)
      want[i] = std::conj(z[i]);
    EXPECT_LT(maxError(got, want), 1e-6);
  }
  EXPECT_THROW(s.eval.rotate(s.encrypt(z, 0), 2, keys), Error);
}

TEST(Ckks, SparseSecretAndSlots) {
  CERIUM_SEEDED_PRNG(data);
  ParamSpec spec = smallSpec();
  spec.secret = SecretDistribution::SparseTernary;
  spec.hammingWeight = 64;
  spec.logSlots = 4;
  Harness s(spec, data.next64());
  size_t weight = 0;
  for (int8_t c : s.sk.coeffs)
    weight += c != 0;
  EXPECT_EQ(weight, 64u);
  EvalKeys keys = s.keygen.evalKeys(s.sk, true, GaloisLevels{});
  Slots x = s.random(data);
  const unsigned top = s.params->maxLevel();
  Ciphertext sq = s.eval.rescale(s.eval.relinearize(
      s.eval.multiply(s.encrypt(x, top), s.encrypt(x, top)), keys));
  Slots want(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    want[i] = x[i] * x[i];
  EXPECT_LT(maxError(s.decrypt(sq), want), 1e-6);
}

TEST(Ckks, MismatchedOperandsAreErrors) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(smallSpec(), data.next64());
  Slots z = s.random(data);
  Ciphertext a = s.encrypt(z, 2), b = s.encrypt(z, 1);
  EXPECT_THROW(s.eval.add(a, b), Error);
  EXPECT_THROW(s.eval.multiply(a, b), Error);
  EXPECT_THROW(s.eval.rescale(s.encrypt(z, 0)), Error);
  EvalKeys none;
  EXPECT_THROW(s.eval.relinearize(s.eval.multiply(a, a), none), Error);
}

} // namespace
