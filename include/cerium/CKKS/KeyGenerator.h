//===- KeyGenerator.h - Secret, public and switching keys -------*- C++ -*-===//
#ifndef CERIUM_CKKS_KEYGENERATOR_H
#define CERIUM_CKKS_KEYGENERATOR_H

#include "cerium/CKKS/Ciphertext.h"
#include "cerium/Support/Random.h"
#include "cerium/kernels/CpuBackend.h"

#include <span>

namespace cerium::ckks {

/// Standard deviation of the error distribution (Homomorphic Encryption
/// Standard).
inline constexpr double kErrorStdDev = 3.2;

/// Galois element of a slot rotation by `steps` (left; negative = right).
uint32_t galoisForRotation(const Params &params, int64_t steps);
/// Galois element of complex conjugation of the slots.
uint32_t galoisForConjugation(const Params &params);

/// Limb `limb` (a position in the extended primes [P, Q_level] of the key:
/// the top level but for the encapsulation key to the sparse secret, level
/// 0) of digit `digit`'s uniform `a` half of the switching key with `seed`
/// and `stream`, into `out` (N words). Each limb is a keystream of its own
/// (AES-256-CTR keyed by `seed`, nonce `stream`, block counter (digit <<
/// 48 | limb << 32) on), residues uniform by rejection: limbs expand in
/// parallel, and a process expands only the limbs it holds. Callers keep digit
/// < 2^16, limb within [P, Q_level] and out N words (it runs inside parallel
/// loops, so it does not throw), and pass the CPU path resolved
/// (kernels::resolveCpuPath) for the sampler.
void expandUniformLimb(const Params &params, const PrngSeed &seed,
                       uint64_t stream, size_t digit, size_t limb,
                       unsigned level, std::span<uint32_t> out,
                       kernels::CpuPath path) noexcept;
/// The `a` limbs of `key`, a key held with its uniform halves as seeds
/// (SwitchingKey::uniformAtUse), for RnsBackend::keySwitchInnerProduct: limb
/// positions in [P, Q_L] (a key's limbs keep theirs at every level), made
/// on `path`. The source refers to `params` and `key`, which must outlive
/// it.
kernels::RnsBackend::UniformLimbSource
uniformLimbSource(const Params &params, const SwitchingKey &key,
                  kernels::CpuPath path);
/// Limbs a key's keystream layout can name (16 bits of the counter).
inline constexpr size_t kMaxKeyLimbs = size_t(1) << 16;
/// Digit `digit`'s whole `a` half over [P, Q_level] into `out`, the limbs
/// on all threads.
void expandUniformHalf(const Params &params, const PrngSeed &seed,
                       uint64_t stream, size_t digit, unsigned level,
                       std::span<uint32_t> out);

/// Residues of a small signed polynomial over `primes`, NTT domain.
std::vector<uint32_t> smallToRnsNtt(std::span<const int8_t> coeffs,
                                    std::span<const uint32_t> primes,
                                    kernels::RnsBackend &backend);

class KeyGenerator {
public:
  KeyGenerator(ParamsPtr params, kernels::RnsBackend &backend, Prng &prng);

  SecretKey secretKey();
  PublicKey publicKey(const SecretKey &sk);
  /// Switching key from `from` to sk; `from` over [P, Q_L], NTT domain.
  SwitchingKey switchingKey(const SecretKey &sk,
                            std::span<const uint32_t> from);
  /// The same over [P, Q_level] only (digitCount(level) digits), `from`
  /// over that basis: a key usable at `level` and below.
  SwitchingKey switchingKey(const SecretKey &sk, std::span<const uint32_t> from,
                            unsigned level);
  SwitchingKey relinearizationKey(const SecretKey &sk);
  SwitchingKey galoisKey(const SecretKey &sk, uint32_t galois);
  /// The Galois key over [P, Q_level] only.
  SwitchingKey galoisKey(const SecretKey &sk, uint32_t galois, unsigned level);

  /// The ephemeral sparse secret s' of sparse-secret encapsulation: exactly
  /// spec().encapsulationWeight coefficients in {-1, 1}, the rest 0 (throws
  /// if the parameter set has no encapsulation weight). evalKeys draws one
  /// per key generation, makes the two keys with it and drops it; it is
  /// public so that tests can decrypt under s'. Never save it.
  SecretKey sparseSecretKey();
  /// Switching key from sk to `sparse` over [P, Q_0] only: the switch runs
  /// at level 0, and a sparse-secret RLWE sample is secure only under a
  /// small modulus, so no key under s' exists over a larger one.
  SwitchingKey toSparseKey(const SecretKey &sk, const SecretKey &sparse);
  /// Switching key from `sparse` back to sk over [P, Q_L] (used right after
  /// ModRaise, at the top level; it is an RLWE sample under sk).
  SwitchingKey toDenseKey(const SecretKey &sk, const SecretKey &sparse);

  /// The relinearization key (if `relin`), one Galois key per element (over
  /// [P, Q_level] for its level) and, if `encapsulation`, the two keys of
  /// sparse-secret encapsulation (made with a fresh s', which is not kept).
  EvalKeys evalKeys(const SecretKey &sk, bool relin, const GaloisLevels &galois,
                    bool encapsulation = false);
  /// The same with every Galois key over [P, Q_L].
  EvalKeys evalKeys(const SecretKey &sk, bool relin,
                    std::span<const uint32_t> galoisElements,
                    bool encapsulation = false);

private:
  ParamsPtr p;
  kernels::RnsBackend &backend;
  Prng &prng;
  /// Keys the `a` halves of this generator's switching keys (one stream
  /// each), drawn from `prng` on first use.
  std::optional<PrngSeed> uniformSeed;
  uint64_t nextStream = 0;
};

/// Encryption and decryption (the client side).
class Encryptor {
public:
  Encryptor(ParamsPtr params, kernels::RnsBackend &backend);

  Ciphertext encrypt(const Plaintext &pt, const PublicKey &pk, Prng &prng);
  Ciphertext encrypt(const Plaintext &pt, const SecretKey &sk, Prng &prng);
  /// c0 + c1 s (+ c2 s^2) as a plaintext at the ciphertext's level and scale.
  Plaintext decrypt(const Ciphertext &ct, const SecretKey &sk);

private:
  ParamsPtr p;
  kernels::RnsBackend &backend;
};

} // namespace cerium::ckks

#endif // CERIUM_CKKS_KEYGENERATOR_H
