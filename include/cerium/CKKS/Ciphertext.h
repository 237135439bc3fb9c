//===- Ciphertext.h - Plaintexts, ciphertexts and keys ----------*- C++ -*-===//
//
// Containers only: the operations live in Encoder, Encryptor, KeyGenerator
// and Evaluator. Every polynomial is stored limb-major in the NTT domain.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CKKS_CIPHERTEXT_H
#define CERIUM_CKKS_CIPHERTEXT_H

#include "cerium/CKKS/Params.h"
#include "cerium/Support/Random.h"
#include "cerium/kernels/RnsBackend.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cerium::ckks {

/// `numPolys` polynomials over the Q primes of `level`, NTT domain.
struct PolyVector {
  unsigned level = 0;
  size_t numPolys = 0;
  std::vector<uint32_t> data;

  static PolyVector zeros(const Params &params, unsigned level,
                          size_t numPolys) {
    return {level, numPolys,
            std::vector<uint32_t>(numPolys * params.qCount(level) *
                                  params.degree())};
  }
  size_t polyWords() const { return numPolys ? data.size() / numPolys : 0; }
  kernels::Limbs poly(const Params &params, size_t i) {
    return {data.data() + i * polyWords(), params.qPrimeIds(level),
            params.degree()};
  }
  kernels::ConstLimbs poly(const Params &params, size_t i) const {
    return {data.data() + i * polyWords(), params.qPrimeIds(level),
            params.degree()};
  }
};

struct Plaintext {
  PolyVector value; // one polynomial
  double scale = 1;
  unsigned level() const { return value.level; }
};

/// (c0, c1) or, after a multiplication before relinearization, (c0, c1, c2);
/// decrypts to c0 + c1 s (+ c2 s^2).
struct Ciphertext {
  PolyVector value;
  double scale = 1;
  unsigned level() const { return value.level; }
  size_t size() const { return value.numPolys; }
};

/// Ternary secret, coefficient form (what is stored and serialized).
struct SecretKey {
  std::vector<int8_t> coeffs;
};

/// Encryption of zero under s: (b, a) = (-a s + e, a) over Q_L.
struct PublicKey {
  PolyVector value; // two polynomials at the top level
};

/// Leaves the elements a container makes uninitialized where a vector would
/// zero them: a key digit (tens of MiB, gigabytes per key set) is written
/// whole right after it is allocated, on all threads, so zeroing it first
/// on one thread only costs a pass and faults its pages in on one thread.
template <class T> struct UninitializedAllocator : std::allocator<T> {
  template <class U> struct rebind { using other = UninitializedAllocator<U>; };
  UninitializedAllocator() = default;
  template <class U>
  UninitializedAllocator(const UninitializedAllocator<U> &) noexcept {}
  template <class U> void construct(U *p) noexcept {
    ::new (static_cast<void *>(p)) U;
  }
  template <class U, class... Args> void construct(U *p, Args &&...args) {
    ::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
  }
};

/// One digit of a switching key: b, then a (each over [P, Q_l], or over
/// the limbs a process holds).
using KeyDigit = std::vector<uint32_t, UninitializedAllocator<uint32_t>>;

/// Hybrid switching key from s' to s: for each digit j,
/// (b_j, a_j) = (-a_j s + e_j + P [Q/D_j]_{D_j}^{-1} (Q/D_j) s', a_j) over
/// [P, Q_L]. Both halves of digit j are stored as one block of 2 polys.
/// A key may be made over a shorter basis [P, Q_l], the prefix that key
/// switches at level l or below read: a Galois key only as long as its
/// highest use (GaloisLevels), the encapsulation key to the sparse secret
/// over [P, Q_0] only (EvalKeys::toSparse).
struct SwitchingKey {
  std::vector<KeyDigit> digits; // each: b over [P,Q_l], then a
  /// The `a` halves come from `seed` and `stream` (each limb of each digit a
  /// AES-256-CTR keystream of its own, residues uniform by rejection:
  /// expandUniformLimb): files store the seed instead of them, half the
  /// bytes.
  PrngSeed seed{};
  uint64_t stream = 0;
  /// The `a` halves are not held either: each digit holds b alone, and key
  /// switching makes a's limbs from the seed as it uses them (half the
  /// memory, at the keystream's cost on every use).
  bool uniformAtUse = false;

  /// A process of a partitioned run may hold only some limbs of [P, Q_l]
  /// (those of its own primes): basisLimbs = |[P, Q_l]| marks such a
  /// partial key, keptLimbs lists the positions held (increasing, maybe
  /// none), and each digit holds b and a over those limbs only. A whole
  /// key has basisLimbs = 0.
  std::vector<uint32_t> keptLimbs;
  uint32_t basisLimbs = 0;

  /// Words of one half of a digit as held: |[P, Q_l]| N for a key over
  /// [P, Q_l] (the kept limbs' N each for a partial key).
  size_t polyWords() const {
    return digits.empty() ? 0 : digits.front().size() / (uniformAtUse ? 1 : 2);
  }
};

/// Which evaluation key: the relinearization key, a Galois key, or one of
/// the two encapsulation keys.
struct KeyName {
  enum class Kind : uint8_t { Relin, Galois, ToSparse, ToDense };
  Kind kind = Kind::Relin;
  uint32_t galois = 0; // Galois: its element
  bool operator==(const KeyName &) const = default;
  auto operator<=>(const KeyName &) const = default;
  /// For messages: "the relinearization key", "the Galois key 5", ...
  std::string describe() const;
};

/// Galois elements, each with the highest level a program switches its key
/// at. The key is made over [P, Q_level] alone, the prefix of the full key
/// that every key switch at that level or below reads: a rotation used only
/// low in the chain (a bootstrap's SlotToCoeff) costs a fraction of a key
/// over [P, Q_L].
using GaloisLevels = std::map<uint32_t, unsigned>;

struct EvalKeys {
  /// Switching key from s^2 to s; absent if no multiplication needs it.
  std::optional<SwitchingKey> relin;
  /// Switching keys from s(X^g) to s, by Galois element g (each over the
  /// [P, Q_level] of its GaloisLevels entry).
  std::map<uint32_t, SwitchingKey> galois;
  /// Sparse-secret encapsulation (bootstrapping; absent unless a program
  /// switches secrets): from s to the ephemeral sparse secret s', over
  /// [P, Q_0] only (a sparse-secret RLWE instance is secure only under a
  /// small modulus, and the switch happens at level 0), and from s' back to
  /// s over [P, Q_L]. s' itself is never kept.
  std::optional<SwitchingKey> toSparse, toDense;

  /// The key of that name, or null.
  const SwitchingKey *find(const KeyName &name) const;
};

} // namespace cerium::ckks

#endif // CERIUM_CKKS_CIPHERTEXT_H
