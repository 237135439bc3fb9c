//===- Serialization.cpp - Files of parameters, keys, ciphertexts ---------===//

#include "cerium/CKKS/Serialization.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Support/Error.h"
#include "cerium/kernels/CpuBackend.h"
#include "cerium/kernels/HostMemory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace cerium::ckks {

namespace {

/// Reads a container made for `params`, failing with one line otherwise.
void checkFingerprint(const std::string &path, FileKind kind,
                      uint64_t fingerprint, const Params &params) {
  if (fingerprint != params.fingerprint())
    throw Error(fmt::format("{}: this {} file was made for a different "
                            "parameter set",
                            path, fileKindName(kind)));
}

ByteReader openFor(const std::string &path, FileKind kind, const Params &params,
                   Container &storage) {
  storage = readContainer(path, kind);
  checkFingerprint(path, kind, storage.fingerprint, params);
  return ByteReader(storage.payload, path);
}

/// Whether the n words of `limb` are residues below q (a maximum, which
/// vectorizes, rather than a branch per word).
bool limbBelow(const uint32_t *limb, size_t n, uint32_t q) {
  uint32_t largest = 0;
  for (size_t c = 0; c < n; ++c)
    largest = std::max(largest, limb[c]);
  return largest < q;
}

/// Every word of `words`, laid out as limbs over `primes` (repeated), must be
/// a residue below its prime.
void checkResidues(const ByteReader &r, const Params &params,
                   std::span<const uint32_t> words,
                   std::span<const uint32_t> primes) {
  const size_t n = params.degree();
  for (size_t i = 0; i * n < words.size(); ++i)
    if (!limbBelow(words.data() + i * n, std::min(n, words.size() - i * n),
                   params.prime(primes[i % primes.size()])))
      r.fail("residue out of range");
}

void putProvenance(ByteWriter &w, const Provenance &p) {
  w.put<uint64_t>(p.program);
  w.put<uint64_t>(p.keySet);
}

void getProvenance(ByteReader &r, Provenance *out) {
  Provenance p;
  p.program = r.get<uint64_t>();
  p.keySet = r.get<uint64_t>();
  if (out)
    *out = p;
}

void putPolyVector(ByteWriter &w, const PolyVector &v) {
  w.put<uint32_t>(v.level);
  w.put<uint32_t>(static_cast<uint32_t>(v.numPolys));
  w.putArray<uint32_t>(v.data);
}

PolyVector getPolyVector(ByteReader &r, const Params &params,
                         size_t expectPolys = 0) {
  PolyVector v;
  v.level = r.get<uint32_t>();
  v.numPolys = r.get<uint32_t>();
  if (v.level > params.maxLevel())
    r.fail("level out of range");
  if (v.numPolys < 1 || v.numPolys > 3 ||
      (expectPolys && v.numPolys != expectPolys))
    r.fail("wrong number of polynomials");
  // The size follows from the level: checked before anything is allocated.
  v.data = r.getArrayExact<uint32_t>(
      v.numPolys * params.qCount(v.level) * params.degree(),
      "polynomial size does not match its level");
  checkResidues(r, params, v.data, params.qPrimeIds(v.level));
  return v;
}

/// Only the `b` halves and the seed of the `a` halves are written. The key
/// is over [P, Q_level]: the top level for the relinearization key and the
/// key back to the dense secret, level 0 for the key to the sparse secret
/// (the reader knows these from where the key is), and the level written
/// before it for a Galois key.
void putSwitchingKey(ByteWriter &w, const Params &params, const SwitchingKey &k,
                     unsigned level) {
  const size_t words = params.extendedPrimeIds(level).size() * params.degree();
  if (k.digits.size() != params.digitCount(level) ||
      k.digits[0].size() != 2 * words)
    throw Error("internal error: a switching key does not have the digits "
                "of its basis");
  // The seed must reproduce the halves it replaces (a key not made by
  // KeyGenerator would be saved wrong): compare the first digit's.
  std::vector<uint32_t> uniform(words);
  expandUniformHalf(params, k.seed, k.stream, 0, level, uniform);
  if (!std::equal(uniform.begin(), uniform.end(), k.digits[0].begin() + words))
    throw Error("internal error: a switching key's uniform half does not "
                "come from its seed");
  w.putArray<uint32_t>(std::span<const uint32_t>(k.seed));
  w.put<uint64_t>(k.stream);
  w.put<uint32_t>(static_cast<uint32_t>(k.digits.size()));
  for (auto &d : k.digits)
    w.putArray<uint32_t>(std::span<const uint32_t>(d).first(words));
}

/// A switching key's seed and stream into `k`; returns its digit count,
/// checked against the level. (Its digits follow: one array each.)
uint32_t getSwitchingKeyHeader(ByteReader &r, const Params &params,
                               unsigned level, SwitchingKey &k) {
  auto seed = r.getArrayExact<uint32_t>(
      k.seed.size(), "switching key seed has the wrong size");
  std::copy(seed.begin(), seed.end(), k.seed.begin());
  k.stream = r.get<uint64_t>();
  uint32_t count = r.get<uint32_t>();
  if (count != params.digitCount(level))
    r.fail("switching key has the wrong number of digits");
  return count;
}

constexpr const char *kDigitSizeError =
    "switching key digit has the wrong size";

SwitchingKey
getSwitchingKey(ByteReader &r, const Params &params, unsigned level,
                const KeySelection::Keep keep = KeySelection::Keep::All,
                const KeySelection *selection = nullptr, bool compact = false) {
  auto ext = params.extendedPrimeIds(level);
  const size_t n = params.degree(), words = ext.size() * n;
  SwitchingKey k;
  const uint32_t count = getSwitchingKeyHeader(r, params, level, k);
  if (keep == KeySelection::Keep::OwnLimbs) {
    if (!selection)
      throw Error("internal error: keeping a process's limbs of a key needs "
                  "the process");
    k.basisLimbs = uint32_t(ext.size());
    for (size_t i = 0; i < ext.size(); ++i)
      if (kernels::ownerOfPrime(ext[i], selection->ranks) == selection->rank)
        k.keptLimbs.push_back(uint32_t(i));
  }
  // Each digit holds b then a over the kept limbs (all of [P, Q_level] for a
  // whole key, none when the process keeps nothing); the size of each digit
  // in the file is checked before anything is allocated for it.
  const bool holds = keep != KeySelection::Keep::Nothing;
  const size_t heldLimbs =
      !holds ? 0 : (k.basisLimbs ? k.keptLimbs.size() : ext.size());
  const size_t heldWords = heldLimbs * n;
  k.uniformAtUse = compact;
  const size_t halves = k.uniformAtUse ? 1 : 2;
  const kernels::CpuPath samplerPath = kernels::resolveCpuPath();
  // Where each limb of [P, Q_level] is held (-1: not this process's).
  std::vector<int64_t> heldAt(ext.size(), -1);
  for (size_t h = 0; h < heldLimbs; ++h)
    heldAt[k.basisLimbs ? k.keptLimbs[h] : h] = int64_t(h);
  for (uint32_t j = 0; j < count; ++j) {
    auto b = r.getArrayExact<uint32_t>(words, kDigitSizeError);
    KeyDigit digit;
    if (holds) {
      digit.reserve(halves * heldWords);
      kernels::adviseHugePages(digit.data(),
                               halves * heldWords * sizeof(uint32_t));
      digit.resize(halves * heldWords); // uninitialized: all written below
    }
    // Limb by limb on all threads: every limb of b checked (what is not held
    // here is checked too: all processes must accept or refuse the same
    // file), a held limb copied and, unless made at each use, its a
    // expanded from the seed.
    bool outOfRange = false;
#pragma omp parallel for schedule(dynamic) reduction(|| : outOfRange)
    for (size_t i = 0; i < ext.size(); ++i) {
      const uint32_t *from = b.data() + i * n;
      outOfRange = outOfRange || !limbBelow(from, n, params.prime(ext[i]));
      if (heldAt[i] < 0)
        continue;
      const size_t h = size_t(heldAt[i]);
      std::copy(from, from + n, digit.data() + h * n);
      if (!k.uniformAtUse)
        expandUniformLimb(params, k.seed, k.stream, j, i, level,
                          std::span(digit).subspan(heldWords + h * n, n),
                          samplerPath);
    }
    if (outOfRange)
      r.fail("residue out of range");
    if (holds)
      k.digits.push_back(std::move(digit));
  }
  return k;
}

} // namespace

void saveParams(const std::string &path, const Params &params) {
  ByteWriter w;
  params.serialize(w);
  writeContainer(path, FileKind::Params, params.fingerprint(), w.buffer());
}

ParamsPtr loadParams(const std::string &path) {
  Container c = readContainer(path, FileKind::Params);
  ByteReader r(c.payload, path);
  ParamsPtr params;
  try {
    params = Params::deserialize(r);
  } catch (const Error &e) {
    throw Error(path + ": " + e.what());
  }
  r.expectEnd();
  return params;
}

void saveSecretKey(const std::string &path, const Params &params,
                   const SecretKey &sk, const Provenance &provenance) {
  ByteWriter w;
  putProvenance(w, provenance);
  w.putArray<int8_t>(sk.coeffs);
  writeContainer(path, FileKind::SecretKey, params.fingerprint(), w.buffer(),
                 0600);
}

SecretKey loadSecretKey(const std::string &path, const Params &params,
                        Provenance *provenance) {
  Container c;
  ByteReader r = openFor(path, FileKind::SecretKey, params, c);
  getProvenance(r, provenance);
  SecretKey sk{r.getArrayExact<int8_t>(
      params.degree(), "secret key has the wrong ring dimension")};
  r.expectEnd();
  for (int8_t v : sk.coeffs)
    if (v < -1 || v > 1)
      r.fail("secret key is not ternary");
  return sk;
}

void savePublicKey(const std::string &path, const Params &params,
                   const PublicKey &pk, const Provenance &provenance) {
  ByteWriter w;
  putProvenance(w, provenance);
  putPolyVector(w, pk.value);
  writeContainer(path, FileKind::PublicKey, params.fingerprint(), w.buffer());
}

PublicKey loadPublicKey(const std::string &path, const Params &params,
                        Provenance *provenance) {
  Container c;
  ByteReader r = openFor(path, FileKind::PublicKey, params, c);
  getProvenance(r, provenance);
  PublicKey pk{getPolyVector(r, params, 2)};
  r.expectEnd();
  if (pk.value.level != params.maxLevel())
    r.fail("public key is not at the top level");
  return pk;
}

// Which optional keys an eval.keys file holds, in the order they follow.
// Files without encapsulation keys read exactly as before those existed.
constexpr uint8_t kHasRelin = 1, kHasToSparse = 2, kHasToDense = 4;

namespace {

/// The file's layout, with each key asked of `key(kind, galois)` right
/// before it is written, so a caller may make it then and drop it after.
enum class KeyKind { Relin, ToSparse, ToDense, Galois };
template <class KeyOf>
void writeEvalKeys(const std::string &path, const Params &params,
                   const Provenance &provenance, bool relin, bool toSparse,
                   bool toDense, const GaloisLevels &galois, KeyOf &&key) {
  // Streamed: each key's bytes go to the file before the next is asked
  // for, so memory holds one key and its bytes.
  const unsigned top = params.maxLevel();
  ContainerFileWriter file(path, FileKind::EvalKeys, params.fingerprint());
  auto flush = [&](ByteWriter &w) {
    file.append(w.buffer());
    w.buffer().clear();
    w.buffer().shrink_to_fit();
  };
  ByteWriter w;
  putProvenance(w, provenance);
  w.put<uint8_t>((relin ? kHasRelin : 0) | (toSparse ? kHasToSparse : 0) |
                 (toDense ? kHasToDense : 0));
  if (relin)
    putSwitchingKey(w, params, key(KeyKind::Relin, 0), top);
  flush(w);
  if (toSparse)
    putSwitchingKey(w, params, key(KeyKind::ToSparse, 0), 0);
  flush(w);
  if (toDense)
    putSwitchingKey(w, params, key(KeyKind::ToDense, 0), top);
  w.put<uint32_t>(static_cast<uint32_t>(galois.size()));
  flush(w);
  for (auto [g, level] : galois) {
    w.put<uint32_t>(g);
    w.put<uint32_t>(level);
    putSwitchingKey(w, params, key(KeyKind::Galois, g), level);
    flush(w);
  }
  file.finish();
}

} // namespace

void saveEvalKeys(const std::string &path, const Params &params,
                  const EvalKeys &keys, const Provenance &provenance) {
  GaloisLevels galois;
  for (auto &[g, k] : keys.galois)
    galois.emplace(g, keyLevel(params, k));
  writeEvalKeys(path, params, provenance, bool(keys.relin), bool(keys.toSparse),
                bool(keys.toDense), galois,
                [&](KeyKind kind, uint32_t g) -> const SwitchingKey & {
                  switch (kind) {
                  case KeyKind::Relin:
                    return *keys.relin;
                  case KeyKind::ToSparse:
                    return *keys.toSparse;
                  case KeyKind::ToDense:
                    return *keys.toDense;
                  case KeyKind::Galois:
                    break;
                  }
                  return keys.galois.at(g);
                });
}

void generateEvalKeys(const std::string &path, const Params &params,
                      KeyGenerator &keygen, const SecretKey &sk, bool relin,
                      const GaloisLevels &galois, bool encapsulation,
                      const Provenance &provenance) {
  // s' lives only for the two encapsulation keys, as in evalKeys().
  std::optional<SecretKey> sparse;
  if (encapsulation)
    sparse = keygen.sparseSecretKey();
  SwitchingKey current;
  writeEvalKeys(path, params, provenance, relin, encapsulation, encapsulation,
                galois, [&](KeyKind kind, uint32_t g) -> const SwitchingKey & {
                  switch (kind) {
                  case KeyKind::Relin:
                    current = keygen.relinearizationKey(sk);
                    break;
                  case KeyKind::ToSparse:
                    current = keygen.toSparseKey(sk, *sparse);
                    break;
                  case KeyKind::ToDense:
                    current = keygen.toDenseKey(sk, *sparse);
                    sparse.reset();
                    break;
                  case KeyKind::Galois:
                    current = keygen.galoisKey(sk, g, galois.at(g));
                    break;
                  }
                  return current;
                });
}

unsigned keyLevel(const Params &params, const SwitchingKey &key) {
  const size_t limbs =
      key.basisLimbs ? key.basisLimbs : key.polyWords() / params.degree();
  for (unsigned level = 0; level <= params.maxLevel(); ++level)
    if (params.extendedPrimeIds(level).size() == limbs)
      return level;
  throw Error("internal error: a switching key over no level's basis");
}

std::string KeyName::describe() const {
  switch (kind) {
  case Kind::Relin:
    return "the relinearization key";
  case Kind::Galois:
    return "the Galois key " + std::to_string(galois);
  case Kind::ToSparse:
    return "the encapsulation key to the sparse secret";
  case Kind::ToDense:
    return "the encapsulation key back from the sparse secret";
  }
  return "a key";
}

const SwitchingKey *EvalKeys::find(const KeyName &name) const {
  using Kind = KeyName::Kind;
  const std::optional<SwitchingKey> *one = nullptr;
  switch (name.kind) {
  case Kind::Relin:
    one = &relin;
    break;
  case Kind::ToSparse:
    one = &toSparse;
    break;
  case Kind::ToDense:
    one = &toDense;
    break;
  case Kind::Galois: {
    auto it = galois.find(name.galois);
    return it == galois.end() ? nullptr : &it->second;
  }
  }
  return *one ? &**one : nullptr;
}

EvalKeyFile::EvalKeyFile(const std::string &path, const Params &params,
                         Provenance *provenance)
    : path(path), params(&params) {
  mapped = MappedContainer::open(path, FileKind::EvalKeys);
  if (mapped) {
    checkFingerprint(path, FileKind::EvalKeys, mapped->fingerprint, params);
    payload = mapped->payload;
  } else {
    ByteReader r = openFor(path, FileKind::EvalKeys, params, owned);
    payload = owned.payload;
  }
  // The structure of every key (sizes, digit counts) is checked here; its
  // residues when it is read.
  ByteReader r(payload, path);
  getProvenance(r, provenance);
  const unsigned top = params.maxLevel();
  auto note = [&](KeyName name, unsigned level) {
    const size_t start = r.position();
    SwitchingKey header;
    const uint32_t count = getSwitchingKeyHeader(r, params, level, header);
    const size_t words =
        params.extendedPrimeIds(level).size() * params.degree();
    for (uint32_t j = 0; j < count; ++j)
      r.skipArrayExact<uint32_t>(words, kDigitSizeError);
    if (!where.emplace(name, Place{start, r.position() - start, level}).second)
      r.fail("a key appears twice");
    order.push_back(name);
  };
  using Kind = KeyName::Kind;
  const uint8_t has = r.get<uint8_t>();
  if (has & ~(kHasRelin | kHasToSparse | kHasToDense))
    r.fail("unknown evaluation keys");
  if ((has & (kHasToSparse | kHasToDense)) &&
      !params.spec().encapsulationWeight)
    r.fail("encapsulation keys for a parameter set without encapsulation");
  if (has & kHasRelin)
    note({Kind::Relin}, top);
  if (has & kHasToSparse)
    note({Kind::ToSparse}, 0);
  if (has & kHasToDense)
    note({Kind::ToDense}, top);
  uint32_t count = r.get<uint32_t>();
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t g = r.get<uint32_t>();
    if ((g & 1) == 0 || g >= 2 * params.degree())
      r.fail("invalid Galois element");
    uint32_t level = r.get<uint32_t>();
    if (level > top)
      r.fail("Galois key level beyond the parameters' chain");
    note({Kind::Galois, g}, level);
  }
  r.expectEnd();
  if (mapped)
    mapped->release(0, payload.size());
}

EvalKeyFile::~EvalKeyFile() = default;

KeySelection::Keep EvalKeyFile::keepOf(const KeyName &name,
                                       const KeySelection *selection) {
  using Kind = KeyName::Kind;
  if (!selection)
    return KeySelection::Keep::All;
  switch (name.kind) {
  case Kind::Relin:
    return selection->relin;
  case Kind::ToSparse:
    return selection->toSparse;
  case Kind::ToDense:
    return selection->toDense;
  case Kind::Galois: {
    auto it = selection->galois.find(name.galois);
    return it == selection->galois.end() ? selection->unlisted : it->second;
  }
  }
  return KeySelection::Keep::All;
}

SwitchingKey EvalKeyFile::read(const KeyName &name, KeySelection::Keep keep,
                               const KeySelection *selection) const {
  auto it = where.find(name);
  if (it == where.end())
    throw Error(path + ": holds no " + name.describe().substr(4));
  const Place &at = it->second;
  ByteReader r(payload.subspan(at.offset, at.length), path);
  SwitchingKey key = getSwitchingKey(r, *params, at.level, keep, selection,
                                     selection && selection->compact(name));
  if (mapped)
    mapped->release(at.offset, at.offset + at.length);
  return key;
}

size_t heldKeyBytes(const Params &params, unsigned level,
                    KeySelection::Keep keep, const KeySelection *selection,
                    bool compact) {
  auto ext = params.extendedPrimeIds(level);
  size_t limbs = ext.size();
  if (keep == KeySelection::Keep::Nothing)
    return 0;
  if (keep == KeySelection::Keep::OwnLimbs && selection)
    limbs = size_t(std::count_if(ext.begin(), ext.end(), [&](uint32_t id) {
      return kernels::ownerOfPrime(id, selection->ranks) == selection->rank;
    }));
  const size_t halves = compact ? 1 : 2;
  return size_t(params.digitCount(level)) * halves * limbs * params.degree() *
         sizeof(uint32_t);
}

size_t EvalKeyFile::bytes(const KeyName &name, KeySelection::Keep keep,
                          const KeySelection *selection) const {
  return heldKeyBytes(*params, where.at(name).level, keep, selection,
                      selection && selection->compact(name));
}

size_t EvalKeyFile::readingBytes(const KeyName &name) const {
  const Place &at = where.at(name);
  return at.length + params->extendedPrimeIds(at.level).size() *
                         params->degree() * sizeof(uint32_t);
}

EvalKeys loadEvalKeys(const std::string &path, const Params &params,
                      Provenance *provenance, const KeySelection *selection) {
  return readEvalKeys(EvalKeyFile(path, params, provenance), selection);
}

EvalKeys readEvalKeys(const EvalKeyFile &file, const KeySelection *selection) {
  EvalKeys keys;
  for (const KeyName &name : file.names()) {
    SwitchingKey key =
        file.read(name, EvalKeyFile::keepOf(name, selection), selection);
    switch (name.kind) {
    case KeyName::Kind::Relin:
      keys.relin = std::move(key);
      break;
    case KeyName::Kind::ToSparse:
      keys.toSparse = std::move(key);
      break;
    case KeyName::Kind::ToDense:
      keys.toDense = std::move(key);
      break;
    case KeyName::Kind::Galois:
      keys.galois.emplace(name.galois, std::move(key));
      break;
    }
  }
  return keys;
}

void saveCiphertexts(const std::string &path, const Params &params,
                     const std::vector<Ciphertext> &cts,
                     const Provenance &provenance, CiphertextRole role) {
  ByteWriter w;
  putProvenance(w, provenance);
  w.put<uint32_t>(static_cast<uint32_t>(role));
  w.put<uint32_t>(static_cast<uint32_t>(cts.size()));
  for (auto &ct : cts) {
    w.put<double>(ct.scale);
    putPolyVector(w, ct.value);
  }
  writeContainer(path, FileKind::Ciphertexts, params.fingerprint(), w.buffer());
}

std::vector<Ciphertext> loadCiphertexts(const std::string &path,
                                        const Params &params,
                                        Provenance *provenance,
                                        CiphertextRole *role) {
  Container c;
  ByteReader r = openFor(path, FileKind::Ciphertexts, params, c);
  getProvenance(r, provenance);
  uint32_t side = r.get<uint32_t>();
  if (side != uint32_t(CiphertextRole::Inputs) &&
      side != uint32_t(CiphertextRole::Outputs))
    r.fail("unknown ciphertext role");
  if (role)
    *role = CiphertextRole(side);
  uint32_t count = r.get<uint32_t>();
  std::vector<Ciphertext> cts;
  for (uint32_t i = 0; i < count; ++i) {
    double scale = r.get<double>();
    if (!(scale >= 1) || !std::isfinite(scale))
      r.fail("invalid scale");
    cts.push_back({getPolyVector(r, params), scale});
  }
  r.expectEnd();
  return cts;
}

} // namespace cerium::ckks
