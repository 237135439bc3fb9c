//===- Session.cpp - Client and server steps shared by the tools ----------===//

#include "cerium/Compiler/Session.h"
#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/Support/Container.h"
#include "cerium/Support/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <unistd.h>

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

namespace {

/// "[i, j, ...]": the position of flat element `flat` in a row-major tensor.
std::string indexOf(size_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = int64_t(flat % uint64_t(shape[d]));
    flat /= uint64_t(shape[d]);
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

} // namespace

std::vector<NpyArray>
readInputs(const Artifact &artifact,
           const std::map<std::string, std::string> &files, InputKinds kinds) {
  auto wanted = [&](const dsl::TensorInfo &in) {
    return kinds == InputKinds::All ||
           in.cipher == (kinds == InputKinds::Cipher);
  };
  for (auto &[name, path] : files) {
    auto in = std::ranges::find(artifact.inputs, name, &dsl::TensorInfo::name);
    if (in == artifact.inputs.end())
      throw Error("--input " + name + ": the program has no input named '" +
                  name + "'");
    if (!wanted(*in))
      throw Error("--input " + name + ": '" + name + "' is " +
                  (in->cipher ? "a cipher input: the client encrypts it "
                                "(cerium encrypt)"
                              : "a plain input of main: the server is given "
                                "it (cerium-run --input)"));
  }
  // A sanity bound on inputs without a declared range: results must stay
  // within the base modulus' 16 bits of headroom above the scale, which far
  // larger inputs cannot.
  const double limit = std::ldexp(1.0, 16);
  std::vector<NpyArray> out;
  for (const auto &in : artifact.inputs) {
    if (!wanted(in)) {
      out.emplace_back();
      continue;
    }
    auto it = files.find(in.name);
    if (it == files.end())
      throw Error("missing --input " + in.name + "=FILE.npy (shape " +
                  shapes::str(in.shape) + ")");
    NpyArray a = readNpy(it->second);
    if (a.shape != in.shape)
      throw Error(it->second + ": input '" + in.name + "' has shape " +
                  shapes::str(a.shape) + " but the program expects " +
                  shapes::str(in.shape));
    for (size_t i = 0; i < a.values.size(); ++i) {
      const double v = a.values[i];
      std::string where =
          fmt::format("{}: input '{}' holds {} at index {}", it->second,
                      in.name, v, indexOf(i, in.shape));
      if (!std::isfinite(v))
        throw Error(where + "; inputs must be finite");
      if (in.range && (v < in.range->first || v > in.range->second))
        throw Error(fmt::format("{}, outside [{}, {}], the range the program "
                                "declares with 'assume'",
                                where, in.range->first, in.range->second));
      if (std::fabs(v) > limit)
        throw Error(where + ", out of range (|x| <= 65536)");
    }
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
  k.eval = keygen.evalKeys(k.secret, needed.relinearization, needed.galois,
                           needed.encapsulation);
  return k;
}

KeySet generateKeys(const Artifact &artifact, kernels::RnsBackend &backend,
                    Prng &prng) {
  KeySet keys = generateKeys(artifact.params, artifact.keys, backend, prng);
  keys.id = prng.next64();
  return keys;
}

namespace {

/// Files that appear in `dir` together or not at all: written into a
/// staging directory inside it, renamed into place by commit() once every
/// one is written; the staging directory goes either way.
class StagedFiles {
public:
  explicit StagedFiles(const std::string &dir)
      : dir(dir), staging(fs::path(dir) /
                          (".staging.tmp." + std::to_string(::getpid()))) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      throw Error(dir + ": cannot create the directory: " + ec.message());
    fs::remove_all(staging, ec);
    if (!fs::create_directory(staging, ec) || ec)
      throw Error(dir + ": cannot write: " +
                  (ec ? ec.message() : std::string("staging exists")));
  }
  ~StagedFiles() {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
  }
  /// Where to write the file `name`.
  std::string path(const std::string &name) const {
    return (staging / name).string();
  }
  /// Moves the files `names`, in that order, into the directory: none if
  /// one would replace what is not a regular file.
  void commit(const std::vector<std::string> &names) const {
    for (const std::string &name : names)
      requireReplaceableOutput((fs::path(dir) / name).string());
    for (const std::string &name : names) {
      std::error_code ec;
      fs::rename(staging / name, fs::path(dir) / name, ec);
      if (ec)
        throw Error((fs::path(dir) / name).string() +
                    ": cannot write: " + ec.message());
    }
  }

private:
  std::string dir;
  fs::path staging;
};

} // namespace

void generateKeyFiles(const std::string &dir, const Artifact &artifact,
                      kernels::RnsBackend &backend, Prng &prng) {
  // The set is written whole or not at all. (Written in place, a keygen
  // that failed at eval.keys, the disk full, left a new secret key beside
  // the old evaluation keys, and the old secret key was gone.)
  StagedFiles files(dir);
  const ckks::Params &p = *artifact.params;
  ckks::KeyGenerator keygen(artifact.params, backend, prng);
  ckks::SecretKey secret = keygen.secretKey();
  const ckks::Provenance provenance{artifact.fingerprint, prng.next64()};
  ckks::saveSecretKey(files.path("secret.key"), p, secret, provenance);
  ckks::savePublicKey(files.path("public.key"), p, keygen.publicKey(secret),
                      provenance);
  // Each evaluation key is made right before it is written: memory holds
  // the file's bytes and one key, not every key expanded.
  ckks::generateEvalKeys(files.path("eval.keys"), p, keygen, secret,
                         artifact.keys.relinearization, artifact.keys.galois,
                         artifact.keys.encapsulation, provenance);
  // The secret key last: until it moves, the old set's secret key stays.
  files.commit({"eval.keys", "public.key", "secret.key"});
}

std::vector<ckks::Ciphertext>
encryptValues(const ckks::ParamsPtr &params,
              const std::vector<std::vector<double>> &values,
              const ckks::PublicKey &pk, kernels::RnsBackend &backend,
              Prng &prng, std::optional<unsigned> level) {
  ckks::Encoder encoder(params);
  ckks::Encryptor encryptor(params, backend);
  const unsigned top = level.value_or(params->maxLevel());
  std::vector<ckks::Ciphertext> cts;
  for (const auto &v : values)
    cts.push_back(encryptor.encrypt(
        encoder.encode(v, params->levelScale(top), top, backend), pk, prng));
  return cts;
}

namespace {

/// The slot positions a tensor takes: its layout's extent.
size_t extentOf(const dsl::TensorInfo &t) {
  return size_t(shapes::numElements(t.layout.empty() ? t.shape : t.layout));
}

/// The ciphertexts a tensor takes: its extent in parts of the program's
/// slot count, position p in slot p % slots of part p / slots (the
/// lowering's multi-ciphertext packing).
size_t ciphertextsOf(const Artifact &artifact, const dsl::TensorInfo &t) {
  const size_t slots = artifact.params->slots();
  return std::max<size_t>(1, (extentOf(t) + slots - 1) / slots);
}

} // namespace

std::vector<ckks::Ciphertext> encryptInputs(const Artifact &artifact,
                                            const std::vector<NpyArray> &in,
                                            const ckks::PublicKey &pk,
                                            kernels::RnsBackend &backend,
                                            Prng &prng) {
  const size_t slotCount = artifact.params->slots();
  std::vector<std::vector<double>> values;
  for (size_t i = 0; i < in.size(); ++i) {
    const dsl::TensorInfo &t = artifact.inputs[i];
    if (!t.cipher)
      continue;
    std::vector<double> slots = in[i].values;
    if (!t.layout.empty()) {
      slots.assign(extentOf(t), 0.0);
      auto pos = shapes::paddedPositions(t.shape, t.layout);
      for (size_t j = 0; j < pos.size(); ++j)
        slots[size_t(pos[j])] = in[i].values[j];
    }
    for (size_t k = 0, n = ciphertextsOf(artifact, t); k < n; ++k) {
      const size_t lo = std::min(slots.size(), k * slotCount);
      const size_t hi = std::min(slots.size(), lo + slotCount);
      values.emplace_back(slots.begin() + lo, slots.begin() + hi);
    }
  }
  return encryptValues(artifact.params, values, pk, backend, prng,
                       inputLevel(artifact));
}

void bindPlainInputs(Artifact &artifact, const std::vector<NpyArray> &in) {
  std::vector<const std::vector<double> *> values;
  for (size_t i = 0; i < artifact.inputs.size(); ++i)
    values.push_back(artifact.inputs[i].cipher ? nullptr : &in.at(i).values);
  runtime::bindPlainInputs(artifact.main(), values);
}

unsigned inputLevel(const Artifact &artifact) {
  auto main = artifact.program.get().lookupSymbol<mlir::func::FuncOp>("main");
  mlir::FunctionType sig = runtime::ciphertextSignature(main);
  if (sig.getNumInputs() == 0)
    return artifact.params->maxLevel();
  return mlir::cast<ckks::CiphertextType>(sig.getInput(0)).getLevel();
}

void checkProvenance(const Artifact &artifact,
                     const ckks::Provenance &provenance,
                     const std::string &path, const std::string &what,
                     std::optional<uint64_t> keySet,
                     const std::string &keySource) {
  if (provenance.program != artifact.fingerprint)
    throw Error(path + ": these " + what +
                " were made for another program (recompiled or different); " +
                "make them again for this artifact");
  if (keySet && provenance.keySet != *keySet)
    throw Error(path + ": these " + what +
                " belong to another key generation than " + keySource);
}

void checkRole(ckks::CiphertextRole role, ckks::CiphertextRole expected,
               const std::string &path) {
  if (role != expected)
    throw Error(
        path + ": holds a program's " +
        (role == ckks::CiphertextRole::Inputs ? "encrypted inputs"
                                              : "encrypted outputs") +
        ", not its " +
        (expected == ckks::CiphertextRole::Inputs ? "inputs" : "outputs"));
}

namespace {

/// Throws unless `cts` are as many ciphertexts as `tensors` take.
void checkCount(const Artifact &artifact,
                const std::vector<dsl::TensorInfo> &tensors,
                const std::vector<ckks::Ciphertext> &cts,
                const std::string &path, const std::string &holds) {
  size_t expected = 0, count = 0;
  for (const dsl::TensorInfo &t : tensors)
    if (t.cipher) {
      expected += ciphertextsOf(artifact, t);
      ++count;
    }
  if (cts.size() != expected)
    throw Error(path + ": holds " + std::to_string(cts.size()) +
                " ciphertexts, the program " + holds + " " +
                std::to_string(expected) + " (" + std::to_string(count) + " " +
                (holds == "takes" ? "inputs" : "outputs") + ")");
}

} // namespace

void checkInputs(const Artifact &artifact,
                 const std::vector<ckks::Ciphertext> &cts,
                 const std::string &path) {
  checkCount(artifact, artifact.inputs, cts, path, "takes");
  const unsigned level = inputLevel(artifact);
  for (const auto &ct : cts)
    if (ct.level() != level || ct.size() != 2)
      throw Error(path + ": a ciphertext is not a fresh encryption for this "
                         "program");
}

void checkOutputs(const Artifact &artifact,
                  const std::vector<ckks::Ciphertext> &cts,
                  const std::string &path) {
  checkCount(artifact, artifact.outputs, cts, path, "has");
}

namespace {

/// Every key the artifact lists must be one that `levelOf` knows (its
/// level; nullopt: missing), each Galois key as long as the artifact needs.
void checkKeysPresent(
    const Artifact &artifact,
    const std::function<std::optional<unsigned>(const ckks::KeyName &)>
        &levelOf,
    const std::string &path) {
  using Kind = ckks::KeyName::Kind;
  std::vector<ckks::KeyName> needed;
  if (artifact.keys.relinearization)
    needed.push_back({Kind::Relin});
  if (artifact.keys.encapsulation) {
    needed.push_back({Kind::ToSparse});
    needed.push_back({Kind::ToDense});
  }
  for (auto [g, level] : artifact.keys.galois)
    needed.push_back({Kind::Galois, g});
  for (const ckks::KeyName &name : needed) {
    std::optional<unsigned> held = levelOf(name);
    if (!held)
      throw Error(path + ": the keys do not match the artifact (missing " +
                  name.describe() + ")");
    if (name.kind != Kind::Galois)
      continue;
    const unsigned want = artifact.keys.galois.at(name.galois);
    if (*held < want)
      throw Error(path + ": the keys do not match the artifact (" +
                  name.describe() + " is over level " + std::to_string(*held) +
                  ", the program switches it at level " + std::to_string(want) +
                  ")");
  }
}

} // namespace

void checkEvalKeys(const Artifact &artifact, const ckks::EvalKeys &keys,
                   const std::string &path) {
  checkKeysPresent(
      artifact,
      [&](const ckks::KeyName &name) -> std::optional<unsigned> {
        const ckks::SwitchingKey *key = keys.find(name);
        if (!key)
          return std::nullopt;
        return ckks::keyLevel(*artifact.params, *key);
      },
      path);
}

void checkEvalKeys(const Artifact &artifact, const ckks::EvalKeyFile &keys,
                   const std::string &path) {
  checkKeysPresent(
      artifact,
      [&](const ckks::KeyName &name) -> std::optional<unsigned> {
        if (!keys.has(name))
          return std::nullopt;
        return keys.level(name);
      },
      path);
}

std::vector<NpyArray> decryptOutputs(const Artifact &artifact,
                                     const std::vector<ckks::Ciphertext> &cts,
                                     const ckks::SecretKey &sk,
                                     kernels::RnsBackend &backend) {
  checkOutputs(artifact, cts, "the outputs");
  ckks::Encoder encoder(artifact.params);
  ckks::Encryptor encryptor(artifact.params, backend);
  std::vector<NpyArray> out;
  size_t next = 0;
  for (const dsl::TensorInfo &t : artifact.outputs) {
    // The tensor's parts, concatenated.
    std::vector<std::complex<double>> slots;
    for (size_t k = 0, n = ciphertextsOf(artifact, t); k < n; ++k) {
      auto part = encoder.decode(encryptor.decrypt(cts[next++], sk), backend);
      slots.insert(slots.end(), part.begin(), part.end());
    }
    NpyArray a;
    a.shape = t.shape;
    if (t.layout.empty()) {
      size_t n = size_t(shapes::numElements(a.shape));
      for (size_t j = 0; j < n; ++j)
        a.values.push_back(slots[j].real());
    } else {
      for (int64_t p : shapes::paddedPositions(t.shape, t.layout))
        a.values.push_back(slots[size_t(p)].real());
    }
    out.push_back(std::move(a));
  }
  return out;
}

void writeOutputs(const std::string &dir, const std::vector<NpyArray> &out) {
  // All the outputs or none (one that failed left the ones before it).
  StagedFiles files(dir);
  std::vector<std::string> names;
  for (size_t i = 0; i < out.size(); ++i) {
    names.push_back("output_" + std::to_string(i) + ".npy");
    writeNpy(files.path(names.back()), out[i]);
  }
  files.commit(names);
}

} // namespace cerium::session
