//===- Random.h - Cryptographic randomness ----------------------*- C++ -*-===//
//
// Secret randomness (secrets, errors, encryption's masks, the seeds of keys'
// uniform halves) is a ChaCha20 keystream (RFC 8439 block function) seeded
// from the operating system; tests pass a fixed seed and print it on
// failure. The uniform halves themselves are public and expanded from their
// seed by AES-256 in counter mode, which they read in bulk on every key
// switch of a compact key, on the CPU's AES instructions
// (docs/architecture.md, "Compact keys", says why AES there).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_SUPPORT_RANDOM_H
#define CERIUM_SUPPORT_RANDOM_H

#include <array>
#include <cstdint>
#include <span>

namespace cerium {

/// A 256-bit ChaCha key.
using PrngSeed = std::array<uint32_t, 8>;

/// ChaCha20 blocks `counter`, `counter` + 1, ... of (key, nonce) (the
/// 64-bit-counter, 64-bit-nonce variant): `count` blocks of 16 words, in
/// order, into `out`. Eight blocks at a time in vector lanes.
void chacha20Blocks(const PrngSeed &key, uint64_t nonce, uint64_t counter,
                    size_t count, uint32_t *out);

/// The AES-256 key schedule (FIPS 197, section 5.2) of the 32 bytes whose
/// little-endian words `key` holds: 15 round keys of 4 words, word i of the
/// schedule the little-endian form of its bytes, so round key r is the 16
/// bytes at word 4r in memory order on a little-endian host.
using Aes256Schedule = std::array<uint32_t, 60>;
Aes256Schedule aes256Schedule(const PrngSeed &key);

/// AES-256 in counter mode, the public expansion's keystream: block i
/// encrypts the 16 bytes LE64(counter + i) | LE64(nonce) (the counter wraps
/// modulo 2^64), and its output is 4 little-endian words. `count` blocks
/// into `out`, in order. Table-driven, in scalars: the reference that the
/// vector samplers (kernels::expandUniform) reproduce on AES instructions.
void aes256CtrBlocks(const Aes256Schedule &schedule, uint64_t nonce,
                     uint64_t counter, size_t count, uint32_t *out);

/// `out` filled with values uniform in [0, bound) from the AES-256-CTR
/// keystream of (key, nonce) from block `counter` on (the expansion of a
/// public seed):
/// each word is kept if below the largest multiple of `bound` that fits 32
/// bits and reduced (no modulo bias), Prng::uniformBelow's rule. `bound` > 0;
/// it does not throw, so parallel loops call it.
void expandUniform(const PrngSeed &key, uint64_t nonce, uint64_t counter,
                   uint32_t bound, std::span<uint32_t> out) noexcept;

class Prng {
public:
  /// Seeded from getrandom(2).
  Prng();
  /// Deterministic stream for tests and reproducible benchmarks.
  explicit Prng(uint64_t seed);
  /// Stream `stream` of the keystream keyed by `seed` (from block 0), the
  /// same on every machine.
  Prng(const PrngSeed &seed, uint64_t stream);

  /// A fresh key drawn from this stream.
  PrngSeed nextSeed();

  uint32_t next32();
  uint64_t next64();
  /// Uniform in [0, bound) by rejection (no modulo bias).
  uint32_t uniformBelow(uint32_t bound);
  /// Uniform in [0, 1).
  double uniformReal();
  /// Rounded Gaussian with standard deviation sigma, truncated at 6 sigma.
  int32_t roundedGaussian(double sigma);

private:
  void refill();
  PrngSeed key{};
  uint64_t nonce = 0, counter = 0;
  std::array<uint32_t, 16> block{};
  unsigned used = 16;
};

} // namespace cerium

#endif // CERIUM_SUPPORT_RANDOM_H
