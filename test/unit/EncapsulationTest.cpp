//===- EncapsulationTest.cpp - Sparse-secret encapsulation keys -----------===//
//
// Bootstrapping keeps the dense secret s and switches to an ephemeral sparse
// secret s' only around ModRaise (docs/architecture.md, "Sparse-secret
// encapsulation"). These tests decrypt under s' (which KeyGenerator exposes
// for them only) to check both switches, bound the overflow ModRaise would
// see after the switch, and check the keys' storage and files. Rings are
// small and insecure to keep the tests fast.
//
//===----------------------------------------------------------------------===//

#include "CkksHarness.h"
#include "TestSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/kernels/CpuBackend.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>

using namespace cerium;
using namespace cerium::ckks;
using test::Slots;

namespace {

constexpr unsigned kWeight = 32;

/// A dense-secret parameter set with encapsulation weight 32.
ParamSpec encapsulationSpec(unsigned logN = 12, unsigned scaleBits = 40,
                            unsigned baseBits = 55) {
  ParamSpec spec;
  spec.logN = logN;
  spec.levels = 3;
  spec.scaleBits = scaleBits;
  spec.baseBits = baseBits;
  spec.dnum = 2;
  spec.encapsulationWeight = kWeight;
  spec.insecure = true;
  return spec;
}

/// The keys of one generation, with s' kept for the test.
struct Harness : test::CkksHarness {
  Harness(const ParamSpec &spec, uint64_t seed)
      : CkksHarness(spec, seed), dense(sk), sparse(keygen.sparseSecretKey()) {
    keys.toSparse = keygen.toSparseKey(dense, sparse);
    keys.toDense = keygen.toDenseKey(dense, sparse);
  }

  /// The computation secret (the harness's sk), named for the tests.
  const SecretKey &dense;
  SecretKey sparse;
  EvalKeys keys;
};

using test::maxError;

size_t weightOf(const SecretKey &sk) {
  return size_t(std::count_if(sk.coeffs.begin(), sk.coeffs.end(),
                              [](int8_t c) { return c != 0; }));
}

/// Key-switching noise at N = 2^12 is ~2^13 in the slots (CkksTest's
/// KeySwitchedCiphertextDecryptsUnderNewKey); 2^18 / Delta bounds it with
/// a symmetric encryption's noise.
double switchBound(const Params &p, unsigned level) {
  return std::ldexp(1.0, 18) / p.levelScale(level);
}

/// The same after a public-key encryption, whose noise is larger: the
/// heuristic canonical-embedding bound of CkksTest's freshNoiseBound
/// (8 sqrt(2) sigma N + 6 sigma sqrt(N) + 16 sigma N + N / 2, ~2^18.4 at
/// N = 2^12; ~2^15.8 is measured after the switch) added.
double publicSwitchBound(const Params &p, unsigned level) {
  const double n = double(p.degree()), sigma = kErrorStdDev;
  return switchBound(p, level) +
         (8 * std::sqrt(2.0) * sigma * n + 6 * sigma * std::sqrt(n) +
          16 * sigma * n + n / 2) /
             p.levelScale(level);
}

TEST(Encapsulation, SparseSecretHasTheRequestedWeight) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(encapsulationSpec(), data.next64());
  EXPECT_EQ(weightOf(s.sparse), kWeight);
  for (int8_t c : s.sparse.coeffs)
    EXPECT_TRUE(c >= -1 && c <= 1);
  // The computation secret stays dense (uniform ternary: ~2N/3 nonzero).
  EXPECT_GT(weightOf(s.dense), s.params->degree() / 2);
  // Each generation draws its own s'.
  EXPECT_NE(s.keygen.sparseSecretKey().coeffs, s.sparse.coeffs);
  // Without an encapsulation weight there is no s' to draw.
  ParamSpec plain = encapsulationSpec();
  plain.encapsulationWeight = 0;
  auto params = Params::create(plain);
  auto backend = kernels::createCpuBackend(params->rns());
  KeyGenerator keygen(params, *backend, data);
  EXPECT_THROW(keygen.sparseSecretKey(), Error);
  EXPECT_THROW(keygen.evalKeys(keygen.secretKey(), false, GaloisLevels{}, true),
               Error);
}

// (a) At level 0, s -> s': the result decrypts under s' to the message.
TEST(Encapsulation, ToSparseAtLevelZeroDecryptsUnderTheSparseSecret) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(encapsulationSpec(), data.next64());
  Slots z = s.random(data);
  Ciphertext ct = s.encryptor.encrypt(s.encode(z, 0), s.pk, s.prng);
  Ciphertext sw = s.eval.switchToSparse(ct, s.keys);
  EXPECT_EQ(sw.level(), 0u);
  EXPECT_EQ(sw.scale, ct.scale);
  EXPECT_LT(maxError(s.decrypt(sw, s.sparse), z),
            publicSwitchBound(*s.params, 0));
  // Under s it is noise now: the switch did change the secret.
  EXPECT_GT(maxError(s.decrypt(sw, s.dense), z), 1.0);
  // The key covers [P, Q_0] only: no switch to s' above level 0.
  Ciphertext high = s.encryptor.encrypt(s.encode(z, 1), s.pk, s.prng);
  EXPECT_THROW(s.eval.switchToSparse(high, s.keys), Error);
  EXPECT_THROW(s.eval.switchKey(high, *s.keys.toSparse), Error);
}

// (b) At the top level, s' -> s: the result decrypts under s.
TEST(Encapsulation, ToDenseAtTheTopDecryptsUnderTheDenseSecret) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(encapsulationSpec(), data.next64());
  const unsigned top = s.params->maxLevel();
  Slots z = s.random(data);
  for (unsigned level : {top, 0u}) {
    SCOPED_TRACE("level " + std::to_string(level));
    Ciphertext under =
        s.encryptor.encrypt(s.encode(z, level), s.sparse, s.prng);
    ASSERT_LT(maxError(s.decrypt(under, s.sparse), z),
              switchBound(*s.params, level));
    Ciphertext sw = s.eval.switchToDense(under, s.keys);
    EXPECT_EQ(sw.level(), level);
    EXPECT_LT(maxError(s.decrypt(sw, s.dense), z),
              switchBound(*s.params, level));
  }
  // The round trip of bootstrapping's two switches (without the ModRaise
  // between them) comes back to s.
  Ciphertext ct = s.encryptor.encrypt(s.encode(z, 0), s.pk, s.prng);
  Ciphertext back =
      s.eval.switchToDense(s.eval.switchToSparse(ct, s.keys), s.keys);
  EXPECT_LT(maxError(s.decrypt(back, s.dense), z),
            publicSwitchBound(*s.params, 0) + switchBound(*s.params, 0));
  EvalKeys none;
  EXPECT_THROW(s.eval.switchToSparse(ct, none), Error);
  EXPECT_THROW(s.eval.switchToDense(ct, none), Error);
}

/// Centered representative of x mod q.
int64_t centered(uint32_t x, uint32_t q) {
  return x > q / 2 ? int64_t(x) - int64_t(q) : int64_t(x);
}

/// max_i |I_i| for c0 + c1 s = [c0 + c1 s]_{q_0} + q_0 I over the integers,
/// c0, c1 centered: the multiple of q_0 ModRaise adds (one base prime).
int64_t overflowOf(Harness &s, const Ciphertext &ct, const SecretKey &sk) {
  const Params &p = *s.params;
  const size_t n = p.degree();
  const uint32_t q0 = p.prime(p.qPrimeIds(0)[0]);
  std::vector<uint32_t> coeffs = ct.value.data;
  for (size_t k = 0; k < 2; ++k)
    s.backend->nttInverse({coeffs.data() + k * n, p.qPrimeIds(0), n});
  std::vector<int64_t> t(n);
  for (size_t i = 0; i < n; ++i)
    t[i] = centered(coeffs[i], q0);
  // Negacyclic product c1 s (X^N = -1), term by term over the support.
  for (size_t k = 0; k < n; ++k) {
    if (!sk.coeffs[k])
      continue;
    for (size_t j = 0; j < n; ++j) {
      int64_t term = sk.coeffs[k] * centered(coeffs[n + j], q0);
      if (j + k < n)
        t[j + k] += term;
      else
        t[j + k - n] -= term;
    }
  }
  int64_t worst = 0;
  for (int64_t v : t)
    worst = std::max<int64_t>(worst,
                              std::llabs(std::llround(double(v) / double(q0))));
  return worst;
}

// Why the switch: after it, c0 + c1 s' over the integers exceeds q_0 by at
// most (h' + 1) / 2 multiples (h' + 1 terms of magnitude below q_0 / 2),
// where the dense secret's overflow grows like sqrt(N).
TEST(Encapsulation, OverflowAfterTheSwitchIsBoundedByTheSparseWeight) {
  CERIUM_SEEDED_PRNG(data);
  // One 30-bit base prime: the lift fits int64.
  Harness s(encapsulationSpec(12, 25, 30), data.next64());
  ASSERT_EQ(s.params->baseCount(), 1u);
  Slots z = s.random(data);
  Ciphertext ct = s.encryptor.encrypt(s.encode(z, 0), s.pk, s.prng);
  const int64_t denseOverflow = overflowOf(s, ct, s.dense);
  const int64_t sparseOverflow =
      overflowOf(s, s.eval.switchToSparse(ct, s.keys), s.sparse);
  EXPECT_LE(sparseOverflow, int64_t(kWeight + 1) / 2);
  // ~2700 nonzero coefficients: a standard deviation of ~15 multiples, so
  // the largest of 4096 is far above 16.
  EXPECT_GT(denseOverflow, int64_t(kWeight + 1) / 2);
}

// (d) The key to s' has only the limbs of [P, Q_0]; the key back is full.
TEST(Encapsulation, ToSparseKeyHasOnlyTheBaseLimbs) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(encapsulationSpec(), data.next64());
  const Params &p = *s.params;
  const size_t n = p.degree();
  ASSERT_GT(p.maxLevel(), 0u);
  const SwitchingKey &toSparse = *s.keys.toSparse, &toDense = *s.keys.toDense;
  ASSERT_EQ(toSparse.digits.size(), p.digitCount(0));
  for (const auto &d : toSparse.digits)
    EXPECT_EQ(d.size(), 2 * (p.numP() + p.qCount(0)) * n);
  EXPECT_EQ(toSparse.polyWords(), p.extendedPrimeIds(0).size() * n);
  ASSERT_EQ(toDense.digits.size(), p.digitCount(p.maxLevel()));
  for (const auto &d : toDense.digits)
    EXPECT_EQ(d.size(), 2 * (p.numP() + p.numQ()) * n);
  // evalKeys makes both when asked (with an s' it does not return).
  std::vector<uint32_t> none;
  EvalKeys made = s.keygen.evalKeys(s.dense, false, none, true);
  ASSERT_TRUE(made.toSparse && made.toDense);
  EXPECT_EQ(made.toSparse->digits.size(), p.digitCount(0));
  EXPECT_FALSE(made.relin);
  EXPECT_FALSE(s.keygen.evalKeys(s.dense, true, none).toSparse);
}

class EncapsulationFiles : public test::FileTest {
protected:
  EncapsulationFiles() : FileTest("cerium-encaps-") {}
};

// (c) eval.keys carries both keys exactly, as seeds and b halves.
TEST_F(EncapsulationFiles, RoundTripIsExact) {
  CERIUM_SEEDED_PRNG(data);
  ParamSpec spec = encapsulationSpec(10, 30, 40);
  Harness s(spec, data.next64());
  EvalKeys keys = s.keys;
  keys.relin = s.keygen.relinearizationKey(s.dense);
  const std::string file = path("eval.keys");
  saveEvalKeys(file, *s.params, keys, {7, 9});
  Provenance provenance;
  EvalKeys back = loadEvalKeys(file, *s.params, &provenance);
  EXPECT_EQ(provenance, (Provenance{7, 9}));
  ASSERT_TRUE(back.relin && back.toSparse && back.toDense);
  EXPECT_EQ(back.relin->digits, keys.relin->digits);
  EXPECT_EQ(back.toSparse->digits, keys.toSparse->digits);
  EXPECT_EQ(back.toDense->digits, keys.toDense->digits);
  EXPECT_TRUE(back.galois.empty());
  // Half the words of each key are in the file (the b halves), so the key
  // to s' costs (|P| + |Q_0|) / (|P| + |Q_L|) of a full key.
  size_t words = 0;
  for (const SwitchingKey *k : {&*keys.relin, &*keys.toSparse, &*keys.toDense})
    for (const auto &d : k->digits)
      words += d.size();
  size_t bytes = std::filesystem::file_size(file);
  EXPECT_GT(bytes, words * 4 / 2);
  EXPECT_LT(bytes, words * 4 / 2 + 1024);
  // Each key alone round-trips too.
  EvalKeys only;
  only.toDense = keys.toDense;
  saveEvalKeys(file, *s.params, only);
  back = loadEvalKeys(file, *s.params);
  EXPECT_FALSE(back.toSparse || back.relin);
  ASSERT_TRUE(back.toDense);
  EXPECT_EQ(back.toDense->digits, keys.toDense->digits);
  // A key over the wrong basis is refused, not saved wrong.
  EvalKeys swapped;
  swapped.toSparse = keys.toDense;
  EXPECT_THROW(saveEvalKeys(file, *s.params, swapped), Error);
  EvalKeys forged = keys;
  forged.toSparse->stream += 1;
  EXPECT_THROW(saveEvalKeys(file, *s.params, forged), Error);
}

// (c) Damaged or mismatched encapsulation keys are refused with one line.
TEST_F(EncapsulationFiles, CorruptKeysAreRefused) {
  CERIUM_SEEDED_PRNG(data);
  Harness s(encapsulationSpec(10, 30, 40), data.next64());
  const Params &p = *s.params;
  const std::string file = path("eval.keys");
  // Rewrites the file with `edit` applied to its payload (a valid
  // container, so that the payload checks are what refuse it).
  auto rewrite = [&](const EvalKeys &keys, const Params &stampedFor,
                     auto edit) {
    saveEvalKeys(file, p, keys);
    Container c = readContainer(file, FileKind::EvalKeys);
    edit(c.payload);
    writeContainer(file, FileKind::EvalKeys, stampedFor.fingerprint(),
                   c.payload);
  };
  auto loadError = [&](const Params &params) {
    return errorOf([&] { loadEvalKeys(file, params); });
  };
  // Payload: provenance (16 bytes), the flags byte, then each key: seed
  // (u64 count + 8 words), stream (u64), digit count (u32), digits.
  const size_t flags = 16, firstWord = flags + 1 + 8 + 32 + 8 + 4 + 8;

  rewrite(s.keys, p, [](std::vector<uint8_t> &b) { b[flags] |= 8; });
  EXPECT_NE(loadError(p).find("unknown evaluation keys"), std::string::npos);

  // The full key read where the [P, Q_0] one is expected.
  EvalKeys denseOnly;
  denseOnly.toDense = s.keys.toDense;
  rewrite(denseOnly, p, [](std::vector<uint8_t> &b) { b[flags] = 2; });
  std::string msg = loadError(p);
  EXPECT_TRUE(msg.find("wrong number of digits") != std::string::npos ||
              msg.find("wrong size") != std::string::npos)
      << msg;

  // A residue of the key to s' at or above its prime.
  rewrite(s.keys, p, [&](std::vector<uint8_t> &b) {
    std::fill_n(b.begin() + firstWord, 4, uint8_t(0xff));
  });
  EXPECT_NE(loadError(p).find("residue out of range"), std::string::npos);

  // Truncated inside the key to s'.
  rewrite(s.keys, p,
          [&](std::vector<uint8_t> &b) { b.resize(firstWord + 64); });
  EXPECT_FALSE(loadError(p).empty());

  // Encapsulation keys for a parameter set without encapsulation.
  ParamSpec plainSpec = p.spec();
  plainSpec.encapsulationWeight = 0;
  auto plain = Params::create(plainSpec);
  rewrite(s.keys, *plain, [](std::vector<uint8_t> &) {});
  EXPECT_NE(loadError(*plain).find("parameter set without encapsulation"),
            std::string::npos);

  // Every error is one line naming the file.
  rewrite(s.keys, p, [](std::vector<uint8_t> &b) { b[flags] |= 8; });
  msg = loadError(p);
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind(file, 0), 0u) << msg;
}

TEST(Encapsulation, ParametersRecordTheWeight) {
  ParamSpec spec = encapsulationSpec(10, 30, 40);
  auto params = Params::create(spec);
  EXPECT_EQ(params->spec().encapsulationWeight, kWeight);
  EXPECT_EQ(params->spec().secret, SecretDistribution::UniformTernary);
  EXPECT_NE(params->describe().find("encapsulation h' = 32"), std::string::npos)
      << params->describe();
  // log2(P q_0): the modulus of the sparse-secret key.
  double bits = 0;
  for (uint32_t id : params->extendedPrimeIds(0))
    bits += std::log2(double(params->prime(id)));
  EXPECT_DOUBLE_EQ(params->logPQ0(), bits);

  ByteWriter w;
  params->serialize(w);
  ByteReader r(w.buffer(), "params");
  auto back = Params::deserialize(r);
  r.expectEnd();
  EXPECT_EQ(back->spec().encapsulationWeight, kWeight);
  EXPECT_EQ(back->fingerprint(), params->fingerprint());

  // Without encapsulation the set serializes as before the field existed:
  // 4 bytes shorter, no flag, and a different fingerprint.
  ParamSpec plainSpec = spec;
  plainSpec.encapsulationWeight = 0;
  auto plain = Params::create(plainSpec);
  EXPECT_EQ(plain->describe().find("encapsulation"), std::string::npos);
  ByteWriter pw;
  plain->serialize(pw);
  EXPECT_EQ(pw.buffer().size() + 4, w.buffer().size());
  EXPECT_NE(plain->fingerprint(), params->fingerprint());

  // The secret byte is the 25th: the flag with a zero weight, an unknown
  // distribution and a weight beyond N are refused on read.
  const size_t secretByte = 6 * 4;
  ASSERT_EQ(w.buffer()[secretByte] & 0x7f, 0);
  auto readBack = [](std::vector<uint8_t> bytes) -> std::string {
    ByteReader br(bytes, "params");
    try {
      Params::deserialize(br);
    } catch (const Error &e) {
      return e.what();
    }
    return "";
  };
  auto bad = w.buffer();
  std::fill_n(bad.begin() + secretByte + 5, 4, uint8_t(0));
  EXPECT_NE(readBack(bad).find("Hamming weight of 0"), std::string::npos);
  bad = w.buffer();
  bad[secretByte] = 0x82;
  EXPECT_NE(readBack(bad).find("unknown secret distribution"),
            std::string::npos);
  bad = w.buffer();
  bad[secretByte + 5 + 2] = 0x7f; // weight 2^22 + 32 > N
  EXPECT_NE(readBack(bad).find("exceeds N"), std::string::npos);

  spec.encapsulationWeight = 2048;
  EXPECT_THROW(Params::create(spec), Error);
}

TEST(Encapsulation, ChooseParamsKeepsTheSecretDense) {
  auto params = chooseParams(64, 4, 1e-3, /*insecure=*/true, 12, 0, kWeight);
  EXPECT_EQ(params->spec().secret, SecretDistribution::UniformTernary);
  EXPECT_EQ(params->spec().hammingWeight, 0u);
  EXPECT_EQ(params->spec().encapsulationWeight, kWeight);
  // Bootstrapping's precision asks for a large scale, as with a sparse
  // computation secret.
  auto sparse = chooseParams(64, 4, 1e-3, true, 12, 64);
  EXPECT_EQ(params->spec().scaleBits, sparse->spec().scaleBits);
  EXPECT_EQ(chooseParams(64, 4, 1e-3, true, 12)->spec().encapsulationWeight,
            0u);
}

} // namespace
