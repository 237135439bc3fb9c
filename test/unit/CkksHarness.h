//===- CkksHarness.h - One key generation for client-library tests -*- C++
//-*-===//
#ifndef CERIUM_TEST_UNIT_CKKSHARNESS_H
#define CERIUM_TEST_UNIT_CKKSHARNESS_H

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/kernels/CpuBackend.h"

#include <complex>
#include <memory>
#include <vector>

namespace cerium::test {

using Slots = std::vector<std::complex<double>>;

/// A parameter set, a CPU backend, a secret and public key, and the
/// client objects over them, seeded for reproducible failures.
struct CkksHarness {
  CkksHarness(const ckks::ParamSpec &spec, uint64_t seed)
      : params(ckks::Params::create(spec)),
        backend(kernels::createCpuBackend(params->rns())), prng(seed),
        keygen(params, *backend, prng), encoder(params),
        encryptor(params, *backend), eval(params, *backend),
        sk(keygen.secretKey()), pk(keygen.publicKey(sk)) {}

  /// Slots with real and imaginary parts uniform in [-1, 1].
  Slots random(Prng &data) const {
    Slots z(params->slots());
    for (auto &v : z)
      v = {2 * data.uniformReal() - 1, 2 * data.uniformReal() - 1};
    return z;
  }
  ckks::Plaintext encode(const Slots &z, unsigned level) {
    return encoder.encode(z, params->levelScale(level), level, *backend);
  }
  ckks::Ciphertext encrypt(const Slots &z, unsigned level) {
    return encryptor.encrypt(encode(z, level), pk, prng);
  }
  Slots decrypt(const ckks::Ciphertext &ct) { return decrypt(ct, sk); }
  Slots decrypt(const ckks::Ciphertext &ct, const ckks::SecretKey &key) {
    return encoder.decode(encryptor.decrypt(ct, key), *backend);
  }

  ckks::ParamsPtr params;
  std::unique_ptr<kernels::RnsBackend> backend;
  Prng prng;
  ckks::KeyGenerator keygen;
  ckks::Encoder encoder;
  ckks::Encryptor encryptor;
  ckks::Evaluator eval;
  ckks::SecretKey sk;
  ckks::PublicKey pk;
};

} // namespace cerium::test

#endif // CERIUM_TEST_UNIT_CKKSHARNESS_H
