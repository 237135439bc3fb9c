//===- EncapsulationRunTest.cpp - switch_secret compiled and run ----------===//
//
// Hand-written ckks programs with ckks.switch_secret go through
// lowerToSchedule and run on the ScheduleExecutor (CPU backend). The keys
// come from the session's keygen (exactly what the program requires), or,
// to decrypt under the ephemeral sparse secret, from a KeyGenerator that
// keeps it. Rings are small and insecure to keep the tests fast.
//
//===----------------------------------------------------------------------===//

#include "../unit/TestSupport.h"
#include "ScheduleSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Compiler/Artifact.h"
#include "cerium/Compiler/Compiler.h"
#include "cerium/Compiler/Estimate.h"
#include "cerium/Compiler/Session.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/kernels/CpuBackend.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <cmath>
#include <complex>

using namespace cerium;

namespace {

constexpr unsigned kWeight = 32;

/// One 30-bit base prime (so that the test can lift residues modulo q_0 q_1
/// in 64 bits), one prime per level, a dense secret and encapsulation.
ckks::ParamsPtr encapsulationParams() {
  ckks::ParamSpec spec;
  spec.logN = 11;
  spec.levels = 3;
  spec.scaleBits = 25;
  spec.baseBits = 30;
  spec.dnum = 2;
  spec.encapsulationWeight = kWeight;
  spec.insecure = true;
  return ckks::Params::create(spec);
}

std::string ct(unsigned level) {
  return "!ckks.ct<level = " + std::to_string(level) + ", degree = 1>";
}
using test::scheduleOf;

mlir::func::FuncOp mainOf(mlir::ModuleOp module) {
  return module.lookupSymbol<mlir::func::FuncOp>("main");
}

/// Bootstrapping's frame without its homomorphic parts: switch to s' at
/// level 0, ModRaise to the top, switch back to s.
std::string raiseProgram(unsigned top) {
  return "func.func @main(%a: " + ct(0) + ") -> " + ct(top) + " {\n" +
         "  %s = ckks.switch_secret %a to_sparse : " + ct(0) + "\n" +
         "  %r = ckks.mod_raise %s : " + ct(0) + " -> " + ct(top) + "\n" +
         "  %d = ckks.switch_secret %r to_dense : " + ct(top) + "\n" +
         "  return %d : " + ct(top) + "\n}\n";
}

using Slots = std::vector<std::complex<double>>;

Slots randomSlots(size_t n, Prng &prng) {
  Slots z(n);
  for (auto &v : z)
    v = {2 * prng.uniformReal() - 1, 2 * prng.uniformReal() - 1};
  return z;
}

double maxError(const Slots &got, const Slots &want) {
  double e = 0;
  for (size_t i = 0; i < want.size(); ++i)
    e = std::max(e, std::abs(got[i] - want[i]));
  return e;
}

/// x^e mod m for m < 2^32.
uint64_t powMod(uint64_t x, uint64_t e, uint64_t m) {
  uint64_t r = 1;
  for (x %= m; e; e >>= 1, x = x * x % m)
    if (e & 1)
      r = r * x % m;
  return r;
}

/// The coefficients of a plaintext as integers centered modulo q_0 q_1 (its
/// first two primes), by CRT.
std::vector<int64_t> liftTwoPrimes(const ckks::Params &p,
                                   kernels::RnsBackend &backend,
                                   ckks::Plaintext pt) {
  const size_t n = p.degree();
  backend.nttInverse(pt.value.poly(p, 0));
  const uint64_t q0 = p.prime(p.qPrimeIds(1)[0]),
                 q1 = p.prime(p.qPrimeIds(1)[1]);
  const uint64_t q0inv = powMod(q0, q1 - 2, q1), q = q0 * q1;
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t r0 = pt.value.data[i], r1 = pt.value.data[n + i];
    uint64_t k = (r1 + q1 - r0 % q1) % q1 * q0inv % q1;
    uint64_t v = r0 + q0 * k; // in [0, q0 q1)
    out[i] = v > q / 2 ? int64_t(v) - int64_t(q) : int64_t(v);
  }
  return out;
}

// The program's key switches become rns.key_switch ops naming the
// encapsulation keys; requiredKeys asks for them, the session's keygen
// makes them (and drops s'), and the schedule runs with them: the output
// decrypts under s to m + q_0 I with |I| <= (h' + 1) / 2, what ModRaise
// gives under a secret of weight h', instead of the ~sqrt(N) multiples a
// dense secret would add.
TEST(Encapsulation, ModRaiseBetweenTheSwitchesRunsAsASchedule) {
  CERIUM_SEEDED_PRNG(prng);
  auto params = encapsulationParams();
  const unsigned top = params->maxLevel();
  mlir::MLIRContext context;
  auto module = scheduleOf(context, *params, raiseProgram(top));
  mlir::func::FuncOp main = mainOf(*module);
  int toSparse = 0, toDense = 0;
  main.walk([&](rns::KeySwitchOp k) {
    ASSERT_TRUE(k.getSecret().has_value());
    auto primes = mlir::cast<rns::LimbsType>(k.getB().getType()).getPrimes();
    if (*k.getSecret() == SecretSwitch::ToSparse) {
      ++toSparse;
      EXPECT_EQ(primes.size(), params->extendedPrimeIds(0).size());
    } else {
      ++toDense;
      EXPECT_EQ(primes.size(), params->extendedPrimeIds(top).size());
    }
  });
  EXPECT_EQ(toSparse, 1);
  EXPECT_EQ(toDense, 1);
  runtime::KeyRequirements needed = runtime::requiredKeys(main);
  EXPECT_TRUE(needed.encapsulation);
  EXPECT_FALSE(needed.relinearization);
  EXPECT_TRUE(needed.galois.empty());

  auto backend = kernels::createCpuBackend(params->rns());
  session::KeySet keys = session::generateKeys(params, needed, *backend, prng);
  ASSERT_TRUE(keys.eval.toSparse && keys.eval.toDense);
  EXPECT_FALSE(keys.eval.relin);

  ckks::Encoder encoder(params);
  ckks::Encryptor encryptor(params, *backend);
  Slots z = randomSlots(params->slots(), prng);
  ckks::Ciphertext in = encryptor.encrypt(
      encoder.encode(z, params->levelScale(0), 0, *backend), keys.pub, prng);
  auto out = runtime::runSchedule(main, params, *backend, keys.eval, {in});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].level(), top);

  // The input's message (with its noise), centered modulo q_0.
  ckks::Plaintext m = encryptor.decrypt(in, keys.secret);
  backend->nttInverse(m.value.poly(*params, 0));
  const int64_t q0 = params->prime(params->qPrimeIds(0)[0]);
  std::vector<int64_t> got =
      liftTwoPrimes(*params, *backend, encryptor.decrypt(out[0], keys.secret));
  int64_t worstI = 0, worstNoise = 0;
  for (size_t i = 0; i < params->degree(); ++i) {
    int64_t want = m.value.data[i] > uint32_t(q0 / 2)
                       ? int64_t(m.value.data[i]) - q0
                       : int64_t(m.value.data[i]);
    int64_t overflow = (got[i] - want + (got[i] >= want ? q0 / 2 : -q0 / 2)) /
                       q0; // nearest multiple
    worstI = std::max<int64_t>(worstI, std::llabs(overflow));
    worstNoise = std::max<int64_t>(worstNoise,
                                   std::llabs(got[i] - want - q0 * overflow));
  }
  EXPECT_LE(worstI, int64_t(kWeight + 1) / 2);
  // Two key switches' noise in the coefficients (~40 measured): far below
  // q_0 (2^30), so that I above is exact.
  EXPECT_LT(worstNoise, int64_t(1) << 10);
}

// The compiled switches agree with the Evaluator's: to_sparse at level 0
// decrypts under s' (kept by this KeyGenerator), to_dense at the top under
// s.
TEST(Encapsulation, SwitchSchedulesAgreeWithTheEvaluator) {
  CERIUM_SEEDED_PRNG(prng);
  auto params = encapsulationParams();
  const unsigned top = params->maxLevel();
  auto backend = kernels::createCpuBackend(params->rns());
  ckks::KeyGenerator keygen(params, *backend, prng);
  ckks::SecretKey dense = keygen.secretKey(), sparse = keygen.sparseSecretKey();
  ckks::EvalKeys keys;
  keys.toSparse = keygen.toSparseKey(dense, sparse);
  keys.toDense = keygen.toDenseKey(dense, sparse);
  ckks::Encoder encoder(params);
  ckks::Encryptor encryptor(params, *backend);
  ckks::Evaluator eval(params, *backend);
  Slots z = randomSlots(params->slots(), prng);
  struct Case {
    const char *name;
    unsigned level;
    const char *direction;
    const ckks::SecretKey &encryptUnder, &decryptUnder;
  } cases[] = {{"to_sparse", 0, "to_sparse", dense, sparse},
               {"to_dense", top, "to_dense", sparse, dense}};
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    mlir::MLIRContext context;
    auto module = scheduleOf(
        context, *params,
        "func.func @main(%a: " + ct(c.level) + ") -> " + ct(c.level) +
            " {\n  %r = ckks.switch_secret %a " + c.direction + " : " +
            ct(c.level) + "\n  return %r : " + ct(c.level) + "\n}\n");
    ckks::Ciphertext in = encryptor.encrypt(
        encoder.encode(z, params->levelScale(c.level), c.level, *backend),
        c.encryptUnder, prng);
    auto got =
        runtime::runSchedule(mainOf(*module), params, *backend, keys, {in});
    ASSERT_EQ(got.size(), 1u);
    ckks::Ciphertext want = c.level == 0 ? eval.switchToSparse(in, keys)
                                         : eval.switchToDense(in, keys);
    auto decode = [&](const ckks::Ciphertext &x) {
      return encoder.decode(encryptor.decrypt(x, c.decryptUnder), *backend);
    };
    // Encryption and key-switching noise in the slots: ~2^11.5 measured
    // (to_dense), against Delta ~ 2^25.
    EXPECT_LT(maxError(decode(got[0]), z),
              std::ldexp(1.0, 15) / params->levelScale(c.level));
    // The same kernels in the same order: equal up to rounding.
    EXPECT_LT(maxError(decode(got[0]), decode(want)), 0x1p-30);
  }
  // Without the keys the executor refuses with one line.
  mlir::MLIRContext context;
  auto module = scheduleOf(context, *params, raiseProgram(top));
  ckks::Ciphertext in = encryptor.encrypt(
      encoder.encode(z, params->levelScale(0), 0, *backend), dense, prng);
  ckks::EvalKeys none;
  try {
    runtime::runSchedule(mainOf(*module), params, *backend, none, {in});
    ADD_FAILURE() << "ran without encapsulation keys";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("encapsulation key"),
              std::string::npos)
        << e.what();
  }
}

class EncapsulationArtifact : public test::FileTest {
protected:
  EncapsulationArtifact() : FileTest("cerium-encaps-artifact-") {}
};

// The artifact records that the program needs the encapsulation keys;
// keygen makes them for it and checkEvalKeys refuses keys without them.
TEST_F(EncapsulationArtifact, RequirementTravelsWithTheArtifact) {
  CERIUM_SEEDED_PRNG(prng);
  auto params = encapsulationParams();
  mlir::MLIRContext context;
  auto build = [&](ckks::ParamsPtr p) {
    Artifact a;
    a.params = p;
    a.program = scheduleOf(context, *params, raiseProgram(params->maxLevel()));
    a.keys = runtime::requiredKeys(a.main());
    // The reader needs a reference main; this test does not run it.
    a.reference = mlir::parseSourceString<mlir::ModuleOp>(
        "func.func @main() {\n  return\n}\n", mlir::ParserConfig(&context));
    return a;
  };
  Artifact a = build(params);
  const std::string file = path("p.cerium");
  writeArtifact(file, a);
  Artifact back = readArtifact(file, context);
  EXPECT_TRUE(back.keys.encapsulation);
  EXPECT_FALSE(back.keys.relinearization);

  auto backend = kernels::createCpuBackend(params->rns());
  session::KeySet keys = session::generateKeys(back, *backend, prng);
  ASSERT_TRUE(keys.eval.toSparse && keys.eval.toDense);
  EXPECT_NO_THROW(session::checkEvalKeys(back, keys.eval, "eval.keys"));
  // The estimate counts the keys' memory: a full key back to s and the
  // smaller one to s' over [P, Q_0].
  double words = 0;
  for (const auto *k : {&*keys.eval.toSparse, &*keys.eval.toDense})
    for (const auto &d : k->digits)
      words += double(d.size());
  EXPECT_EQ(evalKeyBytes(*params, back.keys), 4 * words);
  runtime::KeyRequirements fullOnly;
  fullOnly.relinearization = true;
  EXPECT_LT(evalKeyBytes(*params, back.keys),
            2 * evalKeyBytes(*params, fullOnly));
  ckks::EvalKeys partial = keys.eval;
  partial.toDense.reset();
  EXPECT_NE(
      errorOf([&] {
        session::checkEvalKeys(back, partial, "eval.keys");
      }).find("missing the encapsulation key back from the sparse secret"),
      std::string::npos);

  // A program that switches secrets under parameters without an
  // encapsulation weight could get no keys: the reader refuses it.
  ckks::ParamSpec plainSpec = params->spec();
  plainSpec.encapsulationWeight = 0;
  Artifact plain = build(ckks::Params::create(plainSpec));
  writeArtifact(file, plain);
  EXPECT_NE(errorOf([&] {
              readArtifact(file, context);
            }).find("has no encapsulation weight"),
            std::string::npos);
}

} // namespace
