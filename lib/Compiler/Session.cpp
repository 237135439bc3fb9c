//===- Session.cpp - Client and server steps shared by the tools ----------===//

#include "cerium/Compiler/Session.h"
#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Support/Error.h"

#include <cmath>
#include <filesystem>

namespace cerium::session {

namespace fs = std::filesystem;

std::map<std::string, std::string>
parseInputArgs(const std::vector<std::string> &args) {
  std::map<std::string, std::string> out;
  for (const std::string &a : args) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
      throw Error("--input " + a + ": expected NAME=FILE.npy");
    if (!out.emplace(a.substr(0, eq), a.substr(eq + 1)).second)
      throw Error("--input " + a.substr(0, eq) + " is given twice");
  }
  return out;
}

std::vector<NpyArray>
readInputs(const Artifact &artifact,
           const std::map<std::string, std::string> &files) {
  for (auto &[name, path] : files) {
    bool known = false;
    for (const auto &in : artifact.inputs)
      known |= in.name == name;
    if (!known)
      throw Error("--input " + name + ": the program has no input named '" +
                  name + "'");
  }
  // A sanity bound on inputs: results must stay within the base modulus'
  // 16 bits of headroom above the scale, which far larger inputs cannot.
  const double limit = std::ldexp(1.0, 16);
  std::vector<NpyArray> out;
  for (const auto &in : artifact.inputs) {
    auto it = files.find(in.name);
    if (it == files.end())
      throw Error("missing --input " + in.name + "=FILE.npy (shape " +
                  shapes::str(in.shape) + ")");
    NpyArray a = readNpy(it->second);
    if (a.shape != in.shape)
      throw Error(it->second + ": input '" + in.name + "' has shape " +
                  shapes::str(a.shape) + " but the program expects " +
                  shapes::str(in.shape));
    for (double v : a.values)
      if (!std::isfinite(v) || std::fabs(v) > limit)
        throw Error(it->second + ": input '" + in.name +
                    "' holds a value out of range (" + std::to_string(v) +
                    "; |x| <= 65536 and finite)");
    out.push_back(std::move(a));
  }
  return out;
}

KeySet generateKeys(const ckks::ParamsPtr &params,
                    const runtime::KeyRequirements &needed,
                    kernels::RnsBackend &backend, Prng &prng) {
  ckks::KeyGenerator keygen(params, backend, prng);
  KeySet k;
  k.secret = keygen.secretKey();
  k.pub = keygen.publicKey(k.secret);
  k.eval =
      keygen.evalKeys(k.secret, needed.relinearization, needed.galoisElements);
  return k;
}

KeySet generateKeys(const Artifact &artifact, kernels::RnsBackend &backend,
                    Prng &prng) {
  return generateKeys(artifact.params, artifact.keys, backend, prng);
}

void saveKeys(const std::string &dir, const Artifact &artifact,
              const KeySet &keys) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(dir + ": cannot create the key directory: " + ec.message());
  const ckks::Params &p = *artifact.params;
  ckks::saveSecretKey((fs::path(dir) / "secret.key").string(), p, keys.secret);
  ckks::savePublicKey((fs::path(dir) / "public.key").string(), p, keys.pub);
  ckks::saveEvalKeys((fs::path(dir) / "eval.keys").string(), p, keys.eval);
}

std::vector<ckks::Ciphertext>
encryptValues(const ckks::ParamsPtr &params,
              const std::vector<std::vector<double>> &values,
              const ckks::PublicKey &pk, kernels::RnsBackend &backend,
              Prng &prng) {
  ckks::Encoder encoder(params);
  ckks::Encryptor encryptor(params, backend);
  const unsigned top = params->maxLevel();
  std::vector<ckks::Ciphertext> cts;
  for (const auto &v : values)
    cts.push_back(encryptor.encrypt(
        encoder.encode(v, params->levelScale(top), top, backend), pk, prng));
  return cts;
}

std::vector<ckks::Ciphertext> encryptInputs(const Artifact &artifact,
                                            const std::vector<NpyArray> &in,
                                            const ckks::PublicKey &pk,
                                            kernels::RnsBackend &backend,
                                            Prng &prng) {
  std::vector<std::vector<double>> values;
  for (const NpyArray &a : in)
    values.push_back(a.values);
  return encryptValues(artifact.params, values, pk, backend, prng);
}

void checkInputs(const Artifact &artifact,
                 const std::vector<ckks::Ciphertext> &cts,
                 const std::string &path) {
  if (cts.size() != artifact.inputs.size())
    throw Error(path + ": holds " + std::to_string(cts.size()) +
                " ciphertexts, the program takes " +
                std::to_string(artifact.inputs.size()) + " inputs");
  for (const auto &ct : cts)
    if (ct.level() != artifact.params->maxLevel() || ct.size() != 2)
      throw Error(path + ": a ciphertext is not a fresh encryption for this "
                         "program");
}

void checkEvalKeys(const Artifact &artifact, const ckks::EvalKeys &keys,
                   const std::string &path) {
  if (artifact.keys.relinearization && !keys.relin)
    throw Error(path + ": the keys do not match the artifact (no "
                       "relinearization key)");
  for (uint32_t g : artifact.keys.galoisElements)
    if (!keys.galois.count(g))
      throw Error(path +
                  ": the keys do not match the artifact (missing the "
                  "Galois key " +
                  std::to_string(g) + ")");
}

std::vector<NpyArray> decryptOutputs(const Artifact &artifact,
                                     const std::vector<ckks::Ciphertext> &cts,
                                     const ckks::SecretKey &sk,
                                     kernels::RnsBackend &backend) {
  ckks::Encoder encoder(artifact.params);
  ckks::Encryptor encryptor(artifact.params, backend);
  std::vector<NpyArray> out;
  for (size_t i = 0; i < cts.size(); ++i) {
    auto slots = encoder.decode(encryptor.decrypt(cts[i], sk), backend);
    NpyArray a;
    a.shape = artifact.outputs[i].shape;
    size_t n = size_t(shapes::numElements(a.shape));
    for (size_t j = 0; j < n; ++j)
      a.values.push_back(slots[j].real());
    out.push_back(std::move(a));
  }
  return out;
}

void writeOutputs(const std::string &dir, const std::vector<NpyArray> &out) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(dir + ": cannot create the output directory: " + ec.message());
  for (size_t i = 0; i < out.size(); ++i)
    writeNpy(
        (fs::path(dir) / ("output_" + std::to_string(i) + ".npy")).string(),
        out[i]);
}

} // namespace cerium::session
