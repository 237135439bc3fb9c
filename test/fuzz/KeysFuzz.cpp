//===- KeysFuzz.cpp - Fuzzes the parameter and key file readers -----------===//
//
// The container's kind field picks the loader (parameters, secret, public
// or evaluation keys; any other kind goes to the secret-key loader, which
// must refuse it). Keys are loaded for smallParams(), the seeds' set.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/kernels/CpuBackend.h"

using namespace cerium;
using namespace cerium::ckks;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const ParamsPtr params = fuzz::smallParams();
  std::vector<uint8_t> bytes(data, data + size);
  auto kind = static_cast<FileKind>(fuzz::containerKind(bytes));
  try {
    parseContainer(bytes, "fuzz", kind);
  } catch (const Error &) {
  }
  fuzz::fixContainer(bytes);
  const std::string &path = fuzz::scratchFile(bytes.data(), bytes.size());
  try {
    switch (kind) {
    case FileKind::Params:
      loadParams(path);
      break;
    case FileKind::PublicKey:
      loadPublicKey(path, *params);
      break;
    case FileKind::EvalKeys:
      loadEvalKeys(path, *params);
      break;
    default:
      loadSecretKey(path, *params);
      break;
    }
  } catch (const Error &) {
  }
  return 0;
}

extern "C" int CeriumFuzzWriteSeeds(const char *dir) {
  const std::string d = dir;
  ParamsPtr params = fuzz::smallParams();
  auto backend = kernels::createCpuBackend(params->rns());
  Prng prng(1);
  KeyGenerator keygen(params, *backend, prng);
  SecretKey sk = keygen.secretKey();
  saveParams(d + "/params", *params);
  saveSecretKey(d + "/secret.key", *params, sk);
  savePublicKey(d + "/public.key", *params, keygen.publicKey(sk));
  saveEvalKeys(d + "/relin.keys", *params,
               keygen.evalKeys(sk, true, std::vector<uint32_t>{}));
  saveEvalKeys(d + "/galois.keys", *params,
               keygen.evalKeys(sk, false,
                               std::vector<uint32_t>{
                                   galoisForRotation(*params, 1)}));
  saveEvalKeys(d + "/empty.keys", *params,
               keygen.evalKeys(sk, false, std::vector<uint32_t>{}));
  // A Galois key over [P, Q_0] only (a rotation used at level 0).
  saveEvalKeys(d + "/galois-low.keys", *params,
               keygen.evalKeys(sk, false,
                               GaloisLevels{{galoisForRotation(*params, 1), 0}}));
  return 0;
}
