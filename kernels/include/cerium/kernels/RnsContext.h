//===- RnsContext.h - Primes and NTT tables of an RNS basis -----*- C++ -*-===//
//
// An RnsContext fixes the ring R = Z[X]/(X^N + 1) and an ordered table of
// NTT-friendly primes (p = 1 mod 2N, p < 2^30). Kernels address limbs by their
// index into this table ("prime id"), so one polynomial may live on any subset
// of the primes (Q_l, Q_l u P, one key-switching digit, ...).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_RNSCONTEXT_H
#define CERIUM_KERNELS_RNSCONTEXT_H

#include "cerium/kernels/ModArith.h"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace cerium::kernels {

/// Everything the kernels need to compute modulo one prime.
struct PrimeTables {
  modarith::Modulus modulus;
  /// A primitive 2N-th root of unity psi (chosen deterministically: the
  /// NTT-domain form of keys and ciphertexts depends on it).
  uint32_t psi = 0;
  /// psi^brev(i) for i in [0, N), and their Shoup quotients (forward NTT).
  std::vector<uint32_t> forwardTwiddles, forwardTwiddlesShoup;
  /// psi^-brev(i) for i in [0, N), and their Shoup quotients (inverse NTT).
  std::vector<uint32_t> inverseTwiddles, inverseTwiddlesShoup;
  /// N^-1 mod p and its Shoup quotient.
  uint32_t degreeInverse = 0, degreeInverseShoup = 0;
};

class RnsContext {
public:
  /// Builds NTT tables for every prime. Throws std::invalid_argument when a
  /// prime is not NTT-friendly for this ring or is too wide.
  RnsContext(unsigned logDegree, std::vector<uint32_t> primes);

  unsigned logDegree() const { return logN; }
  size_t degree() const { return size_t(1) << logN; }
  size_t numPrimes() const { return tables.size(); }
  const PrimeTables &prime(uint32_t id) const { return tables[id]; }
  uint32_t modulus(uint32_t id) const { return tables[id].modulus.value; }

private:
  unsigned logN;
  std::vector<PrimeTables> tables;
};

/// Bit reversal of the low `bits` bits of x.
uint32_t bitReverse(uint32_t x, unsigned bits);

/// True if p is prime (deterministic Miller-Rabin for 32-bit integers).
bool isPrime(uint32_t p);

/// The `count` largest primes p = 1 mod 2N below 2^bits, in decreasing order,
/// skipping those listed in `exclude`.
std::vector<uint32_t> generatePrimes(unsigned logDegree, unsigned bits,
                                     size_t count,
                                     std::span<const uint32_t> exclude = {});

/// Primes p = 1 mod 2N nearest 2^bits, alternately below and above it,
/// skipping those in `exclude`. Used for the scale primes, whose products
/// must track a power of two.
std::vector<uint32_t> primesNearPowerOfTwo(unsigned logDegree, unsigned bits,
                                           size_t count,
                                           std::span<const uint32_t> exclude);

/// The Galois element of a rotation by `steps` slots on a ring of degree N:
/// 5^steps mod 2N (5 has order N/2, so steps are taken modulo N/2).
uint32_t rotationGaloisElement(size_t degree, int64_t steps);

/// The process that owns the limbs over prime `id` when a schedule runs on
/// `ranks` processes (rns-partition): every limb of one prime, in every
/// array, lives on one process, and consecutive ids alternate so that each
/// level's primes spread evenly.
inline int ownerOfPrime(uint32_t id, int ranks) {
  return int(id % uint32_t(ranks));
}

/// The runs of consecutive positions of `primes` whose primes `rank` owns,
/// as (first, count): the calls a process makes for a limb-wise op.
std::vector<std::pair<size_t, size_t>>
ownedRuns(std::span<const uint32_t> primes, int rank, int ranks);

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_RNSCONTEXT_H
