//===- CiphertextsFuzz.cpp - Fuzzes the ciphertext file reader ------------===//
//
// Loads the input as a ciphertext file for smallParams() and, as `cerium
// decrypt` would, decrypts and decodes what it accepts with a fixed secret
// key: whatever passes the loader's checks must be safe to compute on.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/kernels/CpuBackend.h"

using namespace cerium;
using namespace cerium::ckks;

namespace {

struct Client {
  ParamsPtr params = fuzz::smallParams();
  std::unique_ptr<kernels::RnsBackend> backend =
      kernels::createCpuBackend(params->rns());
  Prng prng{2};
  SecretKey sk = KeyGenerator(params, *backend, prng).secretKey();
  Encoder encoder{params};
  Encryptor encryptor{params, *backend};
};

Client &client() {
  static Client c;
  return c;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Client &c = client();
  std::vector<uint8_t> bytes(data, data + size);
  try {
    parseContainer(bytes, "fuzz", FileKind::Ciphertexts);
  } catch (const Error &) {
  }
  fuzz::fixContainer(bytes);
  try {
    auto cts = loadCiphertexts(fuzz::scratchFile(bytes.data(), bytes.size()),
                               *c.params);
    for (const Ciphertext &ct : cts)
      c.encoder.decode(c.encryptor.decrypt(ct, c.sk), *c.backend);
  } catch (const Error &) {
  }
  return 0;
}

extern "C" int CeriumFuzzWriteSeeds(const char *dir) {
  const std::string d = dir;
  Client &c = client();
  KeyGenerator keygen(c.params, *c.backend, c.prng);
  PublicKey pk = keygen.publicKey(c.sk);
  std::vector<double> z{0.5, -0.25, 1.0, 0.125};
  auto encrypt = [&](unsigned level) {
    return c.encryptor.encrypt(
        c.encoder.encode(z, c.params->levelScale(level), level, *c.backend),
        pk, c.prng);
  };
  saveCiphertexts(d + "/top.ct", *c.params, {encrypt(1)});
  saveCiphertexts(d + "/two-at-level-0.ct", *c.params,
                  {encrypt(0), encrypt(0)});
  saveCiphertexts(d + "/none.ct", *c.params, {});
  return 0;
}
