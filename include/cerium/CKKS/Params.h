//===- Params.h - CKKS parameter sets ---------------------------*- C++ -*-===//
//
// A parameter set fixes the ring (N, slots), the ciphertext modulus chain Q,
// the special primes P for hybrid key switching, the number of digits dnum,
// and the secret distribution. Q is ordered
//
//   q_0 .. q_{b-1}   (base: holds the result after the last rescale)
//   then k primes for level 1, k primes for level 2, ..., k for level L,
//
// where k (primesPerLevel) is 1 for scales up to 2^30 and 2 above (a double
// rescale: 32-bit words cap primes at 30 bits). A ciphertext at level l lives
// on the first b + l k primes; rescaling drops the last k.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CKKS_PARAMS_H
#define CERIUM_CKKS_PARAMS_H

#include "cerium/Support/Container.h"
#include "cerium/kernels/RnsContext.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cerium::ckks {

enum class SecretDistribution : uint8_t {
  /// Each coefficient uniform in {-1, 0, 1}.
  UniformTernary = 0,
  /// Exactly `hammingWeight` coefficients in {-1, 1}, the rest 0.
  SparseTernary = 1,
};

struct ParamSpec {
  unsigned logN = 14;
  /// log2 of the slot count; 0 means full slots (N/2).
  unsigned logSlots = 0;
  /// Number of rescales a fresh ciphertext supports.
  unsigned levels = 5;
  /// log2 of the scale Delta.
  unsigned scaleBits = 50;
  /// Bits of the base modulus q_0..q_{b-1} (scale plus headroom for the
  /// message after the last rescale).
  unsigned baseBits = 60;
  /// Number of key-switching digits.
  unsigned dnum = 3;
  SecretDistribution secret = SecretDistribution::UniformTernary;
  unsigned hammingWeight = 0;
  /// Hamming weight h' of the ephemeral sparse secret s' of sparse-secret
  /// encapsulation (bootstrapping keeps the computation secret s, dense,
  /// and switches to s' only around ModRaise); 0: no encapsulation.
  unsigned encapsulationWeight = 0;
  /// Allows rings whose log2(PQ) exceeds the 128-bit bound.
  bool insecure = false;
};

/// Largest log2(PQ) at 128-bit classical security for a ternary secret
/// (Homomorphic Encryption Standard; 2^16 as extrapolated by OpenFHE and
/// Lattigo). 0 if N is not in the table.
unsigned maxLogQP128(unsigned logN);

/// The largest log2(P q_0) at which the sparse-secret encapsulation key
/// (an RLWE sample under a secret of `weight` nonzero coefficients, over
/// [P, Q_0]) keeps 128-bit security at N = 2^logN: the largest modulus
/// scripts/sparse_secret_security.py finds at 133 bits in the HE standard's
/// cost model (5 bits over 128 for what the model overstates sparse
/// secrets; docs/architecture.md, "Security of the s -> s' key"). 0 where
/// no estimate was made (only weight 32 has one).
unsigned maxLogPQ0Encapsulated128(unsigned logN, unsigned weight);

class Params {
public:
  /// Builds a parameter set; throws cerium::Error with one line if the spec is
  /// inconsistent or, without `insecure`, below 128-bit security.
  static std::shared_ptr<const Params> create(const ParamSpec &spec);

  const ParamSpec &spec() const { return s; }
  unsigned logN() const { return s.logN; }
  size_t degree() const { return size_t(1) << s.logN; }
  size_t slots() const { return size_t(1) << logSlots; }
  unsigned logSlotCount() const { return logSlots; }
  unsigned maxLevel() const { return s.levels; }
  unsigned dnum() const { return s.dnum; }
  bool insecure() const { return s.insecure; }

  size_t primesPerLevel() const { return perLevel; }
  size_t baseCount() const { return base; }
  /// Primes of Q at `level`.
  size_t qCount(unsigned level) const { return base + level * perLevel; }
  size_t numQ() const { return qCount(s.levels); }
  size_t numP() const { return pIds.size(); }
  /// Q primes per key-switching digit.
  size_t digitSize() const { return alpha; }
  /// Number of digits of a ciphertext at `level`.
  size_t digitCount(unsigned level) const {
    return (qCount(level) + alpha - 1) / alpha;
  }

  /// The prime table: Q primes have ids 0..numQ-1, P primes numQ..numQ+numP-1.
  const kernels::RnsContext &rns() const { return *ctx; }
  std::span<const uint32_t> qPrimeIds(unsigned level) const {
    return std::span(qIds).first(qCount(level));
  }
  std::span<const uint32_t> pPrimeIds() const { return pIds; }
  /// [P ids, Q ids at level]: the basis of key switching. P comes first so
  /// that a key stored over [P, Q_L] restricts to any level by truncation.
  std::span<const uint32_t> extendedPrimeIds(unsigned level) const {
    return std::span(extIds).first(numP() + qCount(level));
  }
  uint32_t prime(uint32_t id) const { return ctx->modulus(id); }

  /// The scale a ciphertext has at `level` when every level was entered by a
  /// multiplication of two such ciphertexts and a rescale: Delta_L =
  /// 2^scaleBits, Delta_{l-1} = Delta_l^2 / (product of level l's primes). The
  /// prime chain is chosen so these stay close to 2^scaleBits.
  double levelScale(unsigned level) const { return scales[level]; }

  double logQ() const;
  double logQP() const;
  /// log2 of q_0, the base primes' product (what the last rescale leaves).
  double logQ0() const;
  /// log2 of P q_0 (the primes of [P, Q_0]): the modulus of the
  /// encapsulation key s -> s', whose sparse secret is secure only under a
  /// small modulus.
  double logPQ0() const;
  /// Hash identifying this parameter set in every file made for it.
  uint64_t fingerprint() const { return fp; }

  void serialize(ByteWriter &w) const;
  static std::shared_ptr<const Params> deserialize(ByteReader &r);
  /// One line describing the set (for tools).
  std::string describe() const;

private:
  /// log2 of the product of the primes with these ids.
  double logProduct(std::span<const uint32_t> ids) const;
  static std::shared_ptr<const Params> assemble(const ParamSpec &spec,
                                                std::vector<uint32_t> q,
                                                std::vector<uint32_t> p);

  ParamSpec s;
  unsigned logSlots = 0;
  size_t perLevel = 1, base = 1, alpha = 1;
  std::vector<uint32_t> qIds, pIds, extIds;
  std::vector<double> scales;
  std::shared_ptr<const kernels::RnsContext> ctx;
  uint64_t fp = 0;
};

using ParamsPtr = std::shared_ptr<const Params>;

} // namespace cerium::ckks

namespace cerium::ckks {

/// Parameters for a program of `levels` multiplicative levels on `slots`
/// slots, meeting `precision` (absolute error): the scale grows with the
/// precision asked (2^40, or 2^50 below 2^-15), the base modulus keeps 16
/// bits of headroom (at most 60 bits) for the result's magnitude, or the
/// `levelZeroBits` that values at level 0 (under q_0 alone) need above the
/// scale if more, and the ring
/// is the smallest that holds the slots and — unless `insecure` — keeps
/// log2(PQ) within the 128-bit bound. `logN` fixes the ring instead (0:
/// automatic). `hammingWeight` > 0 (programs that bootstrap) asks for a sparse
/// ternary secret of that weight and a scale of at least 2^50, which
/// bootstrapping's precision needs. `encapsulationWeight` > 0 (programs that
/// bootstrap with sparse-secret encapsulation, normally with
/// `hammingWeight` 0: a dense secret) records the weight h' of the
/// ephemeral sparse secret and likewise asks for a scale of at least 2^50.
/// A bootstrapping chain's base lies 8 + `widerBase` bits above the scale
/// (the bits values beyond [-1, 1] need, BootstrapConfig::widenBaseFor; the
/// search then trades digits for scale as for any base).
/// Throws cerium::Error if no ring up to 2^16 (2^17 insecure) fits.
ParamsPtr chooseParams(int64_t slots, unsigned levels, double precision,
                       bool insecure, unsigned logN = 0,
                       unsigned hammingWeight = 0,
                       unsigned encapsulationWeight = 0, unsigned widerBase = 0,
                       unsigned levelZeroBits = 0);

} // namespace cerium::ckks
#endif // CERIUM_CKKS_PARAMS_H
