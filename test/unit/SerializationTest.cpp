//===- SerializationTest.cpp - Round trips and corruption detection -------===//

#include "CkksHarness.h"
#include "TestSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/kernels/CpuBackend.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace cerium;
using namespace cerium::ckks;
namespace fs = std::filesystem;

namespace {

class Serialization : public test::FileTest {
protected:
  Serialization() : FileTest("cerium-ser-") {}
  void SetUp() override {
    FileTest::SetUp();
    spec.logN = 10;
    spec.levels = 2;
    spec.scaleBits = 30;
    spec.baseBits = 40;
    spec.dnum = 2;
    spec.insecure = true;
    params = Params::create(spec);
  }

  ParamSpec spec;
  ParamsPtr params;
};

TEST_F(Serialization, RoundTripsAreExact) {
  CERIUM_SEEDED_PRNG(prng);
  auto backend = kernels::createCpuBackend(params->rns());
  KeyGenerator keygen(params, *backend, prng);
  SecretKey sk = keygen.secretKey();
  PublicKey pk = keygen.publicKey(sk);
  EvalKeys keys = keygen.evalKeys(
      sk, true, std::vector<uint32_t>{galoisForRotation(*params, 1)});
  Encoder enc(params);
  Encryptor encryptor(params, *backend);
  std::vector<double> z{0.25, -0.5, 1.0};
  std::vector<Ciphertext> cts{
      encryptor.encrypt(enc.encode(z, params->levelScale(2), 2, *backend), pk,
                        prng),
      encryptor.encrypt(enc.encode(z, params->levelScale(1), 1, *backend), pk,
                        prng)};

  saveParams(path("p.params"), *params);
  EXPECT_EQ(loadParams(path("p.params"))->fingerprint(), params->fingerprint());
  saveSecretKey(path("secret.key"), *params, sk);
  struct stat st;
  ASSERT_EQ(::stat(path("secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(loadSecretKey(path("secret.key"), *params).coeffs, sk.coeffs);
  savePublicKey(path("public.key"), *params, pk);
  EXPECT_EQ(loadPublicKey(path("public.key"), *params).value.data,
            pk.value.data);
  saveEvalKeys(path("eval.keys"), *params, keys);
  EvalKeys loaded = loadEvalKeys(path("eval.keys"), *params);
  ASSERT_TRUE(loaded.relin.has_value());
  EXPECT_EQ(loaded.relin->digits, keys.relin->digits);
  ASSERT_EQ(loaded.galois.size(), 1u);
  EXPECT_EQ(loaded.galois.begin()->second.digits,
            keys.galois.begin()->second.digits);
  // The uniform halves travel as a seed: the file holds about half the
  // words the keys hold in memory.
  size_t words = 0;
  for (const auto &d : keys.relin->digits)
    words += d.size();
  for (const auto &d : keys.galois.begin()->second.digits)
    words += d.size();
  size_t fileBytes = std::filesystem::file_size(path("eval.keys"));
  EXPECT_LT(fileBytes, words * 4 / 2 + 1024);
  EXPECT_GT(fileBytes, words * 4 / 2);
  // A key whose `a` halves do not come from its seed is refused, not saved
  // wrong.
  EvalKeys forged = keys;
  forged.relin->digits[0].back() ^= 1;
  EXPECT_THROW(saveEvalKeys(path("forged.keys"), *params, forged),
               cerium::Error);
  forged = keys;
  forged.relin->stream += 1;
  EXPECT_THROW(saveEvalKeys(path("forged.keys"), *params, forged),
               cerium::Error);
  saveCiphertexts(path("x.ct"), *params, cts);
  auto back = loadCiphertexts(path("x.ct"), *params);
  ASSERT_EQ(back.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back[i].value.data, cts[i].value.data);
    EXPECT_EQ(back[i].level(), cts[i].level());
    EXPECT_EQ(back[i].scale, cts[i].scale);
  }
  // No temporary files are left behind.
  for (auto &entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos);
}

TEST_F(Serialization, DamagedFilesFailWithOneLine) {
  CERIUM_SEEDED_PRNG(prng);
  auto backend = kernels::createCpuBackend(params->rns());
  KeyGenerator keygen(params, *backend, prng);
  PublicKey pk = keygen.publicKey(keygen.secretKey());
  const std::string file = path("public.key");
  savePublicKey(file, *params, pk);
  const auto good = readAll(file);
  auto load = [&] { loadPublicKey(file, *params); };

  // Every single flipped byte is caught (checksum or header checks).
  for (int trial = 0; trial < 50; ++trial) {
    auto bad = good;
    size_t at = prng.uniformBelow(static_cast<uint32_t>(bad.size()));
    bad[at] ^= static_cast<uint8_t>(1 + prng.uniformBelow(255));
    writeAll(file, bad);
    std::string msg = errorOf(load);
    ASSERT_FALSE(msg.empty()) << "byte " << at << " flipped undetected";
    ASSERT_EQ(msg.find('\n'), std::string::npos) << msg;
    ASSERT_EQ(msg.rfind(file, 0), 0u) << "error must name the file: " << msg;
  }
  auto bad = good;
  bad[good.size() / 2] ^= 0x10;
  writeAll(file, bad);
  EXPECT_NE(errorOf(load).find("checksum mismatch"), std::string::npos);

  for (size_t keep : {size_t(0), size_t(5), size_t(30), good.size() - 1}) {
    writeAll(file, std::vector<uint8_t>(good.begin(), good.begin() + keep));
    std::string msg = errorOf(load);
    EXPECT_TRUE(msg.find("truncated") != std::string::npos ||
                msg.find("not a Cerium") != std::string::npos)
        << msg;
  }

  writeAll(file, good);
  EXPECT_NE(errorOf([&] {
              loadCiphertexts(file, *params);
            }).find("is a public key file, expected a ciphertext file"),
            std::string::npos);

  ParamSpec other = params->spec();
  other.dnum = 3;
  auto otherParams = Params::create(other);
  EXPECT_NE(errorOf([&] {
              loadPublicKey(file, *otherParams);
            }).find("different parameter set"),
            std::string::npos);

  EXPECT_NE(errorOf([&] {
              loadPublicKey(path("missing.key"), *params);
            }).find("cannot open"),
            std::string::npos);
  writeAll(file, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  EXPECT_NE(errorOf(load).find("not a Cerium public key file"),
            std::string::npos);
}

TEST_F(Serialization, FailedWritesLeaveNothing) {
  std::string target = (dir / "no-such-dir" / "x.params").string();
  EXPECT_THROW(saveParams(target, *params), Error);
  EXPECT_FALSE(fs::exists(dir / "no-such-dir"));
}

} // namespace

// Keys generated one at a time straight into the file (cerium keygen's
// path) are the keys evalKeys() would make: they rotate and relinearize. A
// Galois key made for a lower level holds only [P, Q_level] and rotates
// ciphertexts at that level.
TEST_F(Serialization, GeneratedEvalKeysWorkAsLoaded) {
  CERIUM_SEEDED_PRNG(seeds);
  test::CkksHarness h(spec, seeds.next64());
  const unsigned top = h.params->maxLevel(), low = 1;
  ASSERT_GT(top, low);
  GaloisLevels galois{{galoisForRotation(*h.params, 3), top},
                      {galoisForRotation(*h.params, 1), low}};
  generateEvalKeys(path("eval.keys"), *h.params, h.keygen, h.sk, true, galois,
                   false, {});
  EvalKeys keys = loadEvalKeys(path("eval.keys"), *h.params);
  ASSERT_TRUE(keys.relin.has_value());
  EXPECT_EQ(keys.galois.size(), 2u);
  EXPECT_FALSE(keys.toSparse.has_value());
  const SwitchingKey &lowKey = keys.galois.at(galoisForRotation(*h.params, 1));
  EXPECT_EQ(lowKey.digits.size(), h.params->digitCount(low));
  EXPECT_EQ(lowKey.polyWords(),
            h.params->extendedPrimeIds(low).size() * h.params->degree());

  Prng data(seeds.next64());
  test::Slots x = h.random(data), y = h.random(data);
  auto prod = h.eval.relinearize(
      h.eval.multiply(h.encrypt(x, top), h.encrypt(y, top)), keys);
  auto rot = h.eval.rotate(h.encrypt(x, top), 3, keys);
  auto rotLow = h.eval.rotate(h.encrypt(x, low), 1, keys);
  test::Slots gotProd = h.decrypt(prod), gotRot = h.decrypt(rot),
              gotRotLow = h.decrypt(rotLow);
  const size_t n = x.size();
  double err = 0;
  for (size_t i = 0; i < n; ++i) {
    err = std::max(err, std::abs(gotProd[i] - x[i] * y[i]));
    err = std::max(err, std::abs(gotRot[i] - x[(i + 3) % n]));
    err = std::max(err, std::abs(gotRotLow[i] - x[(i + 1) % n]));
  }
  EXPECT_LT(err, 1e-3);
  // Saved again from memory, each key keeps its level.
  saveEvalKeys(path("again.keys"), *h.params, keys);
  EvalKeys again = loadEvalKeys(path("again.keys"), *h.params);
  EXPECT_EQ(again.galois.at(galoisForRotation(*h.params, 1)).digits,
            lowKey.digits);

  // Read compact (b halves alone, a made at each use), the same keys give
  // the same ciphertexts in half the words.
  KeySelection compactly;
  compactly.uniformAtUse = true;
  EvalKeys compact =
      loadEvalKeys(path("eval.keys"), *h.params, nullptr, &compactly);
  ASSERT_TRUE(compact.relin && compact.relin->uniformAtUse);
  EXPECT_EQ(2 * compact.relin->digits[0].size(), keys.relin->digits[0].size());
  auto same = [&](const Ciphertext &a, const Ciphertext &b) {
    return a.value.data == b.value.data && a.scale == b.scale;
  };
  Ciphertext ct = h.encrypt(x, low);
  EXPECT_TRUE(same(h.eval.rotate(ct, 1, compact), h.eval.rotate(ct, 1, keys)));
  Ciphertext ctTop = h.encrypt(x, top), cty = h.encrypt(y, top);
  auto product = h.eval.multiply(ctTop, cty);
  EXPECT_TRUE(same(h.eval.relinearize(product, compact),
                   h.eval.relinearize(product, keys)));

  // Compact but for the keys kept whole (a run's most reused): those hold
  // both halves, the others b alone, and the file's byte counts agree.
  KeySelection mostly = compactly;
  mostly.keepWhole = {KeyName{KeyName::Kind::Relin}};
  EvalKeys mixed = loadEvalKeys(path("eval.keys"), *h.params, nullptr, &mostly);
  ASSERT_TRUE(mixed.relin);
  EXPECT_FALSE(mixed.relin->uniformAtUse);
  EXPECT_EQ(mixed.relin->digits, keys.relin->digits);
  const uint32_t g1 = galoisForRotation(*h.params, 1);
  EXPECT_TRUE(mixed.galois.at(g1).uniformAtUse);
  EvalKeyFile file(path("eval.keys"), *h.params);
  const KeyName relinName{KeyName::Kind::Relin},
      rotName{KeyName::Kind::Galois, g1};
  EXPECT_EQ(file.bytes(relinName, KeySelection::Keep::All, &mostly),
            file.bytes(relinName, KeySelection::Keep::All, nullptr));
  EXPECT_EQ(2 * file.bytes(rotName, KeySelection::Keep::All, &mostly),
            file.bytes(rotName, KeySelection::Keep::All, nullptr));
  EXPECT_TRUE(same(h.eval.relinearize(product, mixed),
                   h.eval.relinearize(product, keys)));
  EXPECT_TRUE(same(h.eval.rotate(ct, 1, mixed), h.eval.rotate(ct, 1, keys)));
}

// A container written piece by piece reads back as one written whole, and
// one abandoned before finish() leaves no file.
TEST_F(Serialization, StreamedContainersMatchWholeOnes) {
  CERIUM_SEEDED_PRNG(prng);
  std::vector<uint8_t> payload(3 * 4096 + 17);
  for (auto &b : payload)
    b = uint8_t(prng.next64());
  writeContainer(path("whole"), FileKind::EvalKeys, 42, payload);
  {
    ContainerFileWriter w(path("streamed"), FileKind::EvalKeys, 42);
    std::span<const uint8_t> all(payload);
    w.append(all.first(5));
    w.append(all.subspan(5, 4096));
    w.append(all.subspan(4101));
    w.finish();
  }
  EXPECT_EQ(readFileBytes(path("streamed")), readFileBytes(path("whole")));
  auto mapped = MappedContainer::open(path("streamed"), FileKind::EvalKeys);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->fingerprint, 42u);
  mapped->release(0, 4096); // dropped pages read back from the file
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(),
                         mapped->payload.begin(), mapped->payload.end()));
  {
    ContainerFileWriter w(path("abandoned"), FileKind::EvalKeys, 42);
    w.append(payload);
  }
  EXPECT_FALSE(fs::exists(path("abandoned")));
  for (auto &entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos);
}
