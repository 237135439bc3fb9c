//===- Session.h - Client and server steps shared by the tools --*- C++ -*-===//
//
// The steps of CLI.md's flow, shared by `cerium` (client), `cerium-run`
// (server) and `cerium-run --simulate` (both in one process), so each exists
// once.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_COMPILER_SESSION_H
#define CERIUM_COMPILER_SESSION_H

#include "cerium/CKKS/Ciphertext.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/Compiler/Artifact.h"
#include "cerium/Support/Npy.h"
#include "cerium/Support/Random.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cerium::session {

/// Parses NAME=FILE arguments (--input).
std::map<std::string, std::string>
parseInputArgs(const std::vector<std::string> &args);

/// Which of main's inputs a step reads: the client encrypts the cipher
/// ones, the server is given the plain ones (run-time plaintexts), the
/// reference and --simulate read both.
enum class InputKinds { All, Cipher, Plain };

/// Reads main's inputs of `kinds` from .npy files, checking names, shapes
/// and that values are finite and of a magnitude the scale holds. In main's
/// order, an input of another kind an empty array (indices stay main's).
std::vector<NpyArray>
readInputs(const Artifact &artifact,
           const std::map<std::string, std::string> &files,
           InputKinds kinds = InputKinds::All);

/// Binds the program's encodes of run-time plaintexts to main's plain
/// inputs in `in` (readInputs' order; runtime::bindPlainInputs).
void bindPlainInputs(Artifact &artifact, const std::vector<NpyArray> &in);

struct KeySet {
  ckks::SecretKey secret;
  ckks::PublicKey pub;
  ckks::EvalKeys eval;
  /// Drawn at generation; every key file and ciphertext of this set carries
  /// it (ckks::Provenance::keySet).
  uint64_t id = 0;
};
/// Exactly the keys the artifact lists.
KeySet generateKeys(const Artifact &artifact, kernels::RnsBackend &backend,
                    Prng &prng);
/// Keys for `params` with the evaluation keys `needed`.
KeySet generateKeys(const ckks::ParamsPtr &params,
                    const runtime::KeyRequirements &needed,
                    kernels::RnsBackend &backend, Prng &prng);
/// `cerium keygen`: DIR/secret.key (0600), public.key and eval.keys for the
/// artifact, with a fresh key-set id.
void generateKeyFiles(const std::string &dir, const Artifact &artifact,
                      kernels::RnsBackend &backend, Prng &prng);

/// main's cipher inputs in `in` (readInputs' order), encrypted.
std::vector<ckks::Ciphertext> encryptInputs(const Artifact &artifact,
                                            const std::vector<NpyArray> &in,
                                            const ckks::PublicKey &pk,
                                            kernels::RnsBackend &backend,
                                            Prng &prng);
/// Throws unless `provenance` (read from `path`, a file of the kind `what`)
/// belongs to the artifact's program and, if `keySet` is given, to that key
/// generation (`keySource` names where that id came from).
void checkProvenance(const Artifact &artifact,
                     const ckks::Provenance &provenance,
                     const std::string &path, const std::string &what,
                     std::optional<uint64_t> keySet = std::nullopt,
                     const std::string &keySource = "");
/// Throws unless the ciphertext file at `path` holds the `expected` side.
void checkRole(ckks::CiphertextRole role, ckks::CiphertextRole expected,
               const std::string &path);
/// Each vector encoded at `level` (default: the top) and its scale, then
/// encrypted.
std::vector<ckks::Ciphertext>
encryptValues(const ckks::ParamsPtr &params,
              const std::vector<std::vector<double>> &values,
              const ckks::PublicKey &pk, kernels::RnsBackend &backend,
              Prng &prng, std::optional<unsigned> level = std::nullopt);
/// The level main's inputs are encrypted at: the top, or in a program that
/// bootstraps, the level its bootstraps refresh to (the top levels are the
/// bootstrap's own).
unsigned inputLevel(const Artifact &artifact);
/// Checks the ciphertexts against main's inputs (count and level). A
/// tensor takes ceil(extent / slots) ciphertexts, its layout's extent.
void checkInputs(const Artifact &artifact,
                 const std::vector<ckks::Ciphertext> &cts,
                 const std::string &path);
/// Checks the ciphertexts' count against main's outputs.
void checkOutputs(const Artifact &artifact,
                  const std::vector<ckks::Ciphertext> &cts,
                  const std::string &path);
/// Checks that `keys` hold every key the artifact lists.
void checkEvalKeys(const Artifact &artifact, const ckks::EvalKeys &keys,
                   const std::string &path);
void checkEvalKeys(const Artifact &artifact, const ckks::EvalKeyFile &keys,
                   const std::string &path);
std::vector<NpyArray> decryptOutputs(const Artifact &artifact,
                                     const std::vector<ckks::Ciphertext> &cts,
                                     const ckks::SecretKey &sk,
                                     kernels::RnsBackend &backend);
/// OUTDIR/output_i.npy, created as needed.
void writeOutputs(const std::string &dir, const std::vector<NpyArray> &out);

} // namespace cerium::session

#endif // CERIUM_COMPILER_SESSION_H
