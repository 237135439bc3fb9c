//===- Serialization.h - Files of parameters, keys, ciphertexts -*- C++ -*-===//
//
// Each object is one Container (Support/Container.h) stamped with the
// fingerprint of its parameter set; loading checks the stamp against the
// parameters in hand, and the contents (levels, sizes, residues < their
// primes) before returning.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CKKS_SERIALIZATION_H
#define CERIUM_CKKS_SERIALIZATION_H

#include "cerium/CKKS/Ciphertext.h"

#include <string>
#include <vector>

namespace cerium::ckks {

void saveParams(const std::string &path, const Params &params);
ParamsPtr loadParams(const std::string &path);

/// Written with mode 0600.
void saveSecretKey(const std::string &path, const Params &params,
                   const SecretKey &sk);
SecretKey loadSecretKey(const std::string &path, const Params &params);

void savePublicKey(const std::string &path, const Params &params,
                   const PublicKey &pk);
PublicKey loadPublicKey(const std::string &path, const Params &params);

void saveEvalKeys(const std::string &path, const Params &params,
                  const EvalKeys &keys);
EvalKeys loadEvalKeys(const std::string &path, const Params &params);

void saveCiphertexts(const std::string &path, const Params &params,
                     const std::vector<Ciphertext> &cts);
std::vector<Ciphertext> loadCiphertexts(const std::string &path,
                                        const Params &params);

} // namespace cerium::ckks

#endif // CERIUM_CKKS_SERIALIZATION_H
