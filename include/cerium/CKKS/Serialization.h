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
#include "cerium/Support/Container.h"

#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace cerium::ckks {

class KeyGenerator;

/// What a key or ciphertext file belongs to beyond its parameter set: the
/// program (its artifact's fingerprint) and the key generation (a random id
/// drawn by keygen, shared by the secret, public and evaluation keys and
/// every ciphertext made under them). The tools compare these, so a file
/// made for another program or under other keys is refused instead of
/// decrypting to garbage.
struct Provenance {
  uint64_t program = 0;
  uint64_t keySet = 0;
  bool operator==(const Provenance &) const = default;
};

/// Which side of a run a ciphertext file holds.
enum class CiphertextRole : uint32_t { Inputs = 1, Outputs = 2 };

void saveParams(const std::string &path, const Params &params);
ParamsPtr loadParams(const std::string &path);

/// Written with mode 0600.
void saveSecretKey(const std::string &path, const Params &params,
                   const SecretKey &sk, const Provenance &provenance = {});
SecretKey loadSecretKey(const std::string &path, const Params &params,
                        Provenance *provenance = nullptr);

void savePublicKey(const std::string &path, const Params &params,
                   const PublicKey &pk, const Provenance &provenance = {});
PublicKey loadPublicKey(const std::string &path, const Params &params,
                        Provenance *provenance = nullptr);

/// The level of the basis [P, Q_level] a key made by KeyGenerator is over
/// (a process's share of a key: its whole basis's).
unsigned keyLevel(const Params &params, const SwitchingKey &key);

void saveEvalKeys(const std::string &path, const Params &params,
                  const EvalKeys &keys, const Provenance &provenance = {});
/// The eval.keys file of saveEvalKeys for the keys evalKeys() would make,
/// each generated right before it is written and dropped after: the file's
/// bytes plus one key in memory, instead of every key expanded.
void generateEvalKeys(const std::string &path, const Params &params,
                      KeyGenerator &keygen, const SecretKey &sk, bool relin,
                      const GaloisLevels &galois, bool encapsulation,
                      const Provenance &provenance);
/// What one process of a partitioned run keeps of each evaluation key: a
/// key some op of its share uses whole, only the limbs of its own primes
/// (prime id mod `ranks` = `rank`) for a key used limb-wise only, and
/// nothing (a key without digits) for one only other processes use.
struct KeySelection {
  enum class Keep : uint8_t { Nothing, OwnLimbs, All };
  int ranks = 1, rank = 0;
  Keep relin = Keep::All, toSparse = Keep::All, toDense = Keep::All;
  /// By Galois element; elements not listed get `unlisted`.
  std::map<uint32_t, Keep> galois;
  Keep unlisted = Keep::All;
  /// Hold b alone and make a's limbs at each use (SwitchingKey::
  /// uniformAtUse): half the key memory...
  bool uniformAtUse = false;
  /// ... except for these keys, held whole all the same (keys a run reuses
  /// so often that making their a halves at every use costs more than
  /// holding them: runtime::reusedKeys).
  std::set<KeyName> keepWhole;
  /// Whether `name` is held compact.
  bool compact(const KeyName &name) const {
    return uniformAtUse && !keepWhole.count(name);
  }
};

/// Bytes a process holds of a switching key over [P, Q_level] kept as
/// `keep` (with a selection, OwnLimbs holds its primes' limbs only): b and
/// a for each digit, or b alone when `compact`.
size_t heldKeyBytes(const Params &params, unsigned level,
                    KeySelection::Keep keep, const KeySelection *selection,
                    bool compact);

/// `selection` (optional) says what to keep of each key; every key is
/// still read and checked.
EvalKeys loadEvalKeys(const std::string &path, const Params &params,
                      Provenance *provenance = nullptr,
                      const KeySelection *selection = nullptr);

/// An eval.keys file opened for reading its keys one at a time, in any
/// order: what loadEvalKeys reads all keys through, and what cerium-run
/// --memory-limit streams them from. Opening checks the file (checksum,
/// structure, provenance) and notes where each key starts; the file stays
/// mapped (a regular file) and a key's pages are dropped after it is read,
/// so what stays in memory is the keys a caller keeps.
class EvalKeyFile {
public:
  EvalKeyFile(const std::string &path, const Params &params,
              Provenance *provenance = nullptr);
  ~EvalKeyFile();
  EvalKeyFile(const EvalKeyFile &) = delete;
  EvalKeyFile &operator=(const EvalKeyFile &) = delete;

  /// The keys the file holds, in file order.
  const std::vector<KeyName> &names() const { return order; }
  bool has(const KeyName &name) const { return where.count(name) != 0; }
  /// The level of the basis [P, Q_level] the key is stored over.
  unsigned level(const KeyName &name) const { return where.at(name).level; }
  /// The key, read and checked (residues) from the file; `keep` says what
  /// of it to hold (KeySelection).
  SwitchingKey read(const KeyName &name, KeySelection::Keep keep,
                    const KeySelection *selection = nullptr) const;
  /// Bytes the key takes in memory as read with `keep`.
  size_t bytes(const KeyName &name, KeySelection::Keep keep,
               const KeySelection *selection = nullptr) const;
  /// Bytes reading it takes besides: its mapped file pages (the b halves),
  /// and one digit being filled.
  size_t readingBytes(const KeyName &name) const;
  /// What `selection` keeps of `name` (All without a selection).
  static KeySelection::Keep keepOf(const KeyName &name,
                                   const KeySelection *selection);

private:
  struct Place {
    size_t offset, length;
    unsigned level;
  };
  std::string path;
  const Params *params;
  std::unique_ptr<MappedContainer> mapped;
  Container owned; // when the file cannot be mapped
  std::span<const uint8_t> payload;
  std::vector<KeyName> order;
  std::map<KeyName, Place> where;
};

/// Every key of `file`, as `selection` (optional) says.
EvalKeys readEvalKeys(const EvalKeyFile &file,
                      const KeySelection *selection = nullptr);

void saveCiphertexts(const std::string &path, const Params &params,
                     const std::vector<Ciphertext> &cts,
                     const Provenance &provenance = {},
                     CiphertextRole role = CiphertextRole::Inputs);
std::vector<Ciphertext> loadCiphertexts(const std::string &path,
                                        const Params &params,
                                        Provenance *provenance = nullptr,
                                        CiphertextRole *role = nullptr);

} // namespace cerium::ckks

#endif // CERIUM_CKKS_SERIALIZATION_H
