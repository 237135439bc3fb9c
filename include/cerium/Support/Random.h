//===- Random.h - Cryptographic randomness ----------------------*- C++ -*-===//
//
// A ChaCha20 keystream (RFC 8439 block function) seeded from the operating
// system. Key material (secrets, errors, the uniform halves of keys) comes
// from here; tests pass a fixed seed and print it on failure.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_SUPPORT_RANDOM_H
#define CERIUM_SUPPORT_RANDOM_H

#include <array>
#include <cstdint>

namespace cerium {

/// A 256-bit ChaCha20 key.
using PrngSeed = std::array<uint32_t, 8>;

class Prng {
public:
  /// Seeded from getrandom(2).
  Prng();
  /// Deterministic stream for tests and reproducible benchmarks.
  explicit Prng(uint64_t seed);
  /// Stream `stream` of the keystream keyed by `seed`: what expands a
  /// public seed into uniform polynomials (the `a` halves of switching
  /// keys), the same on every machine.
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
  std::array<uint32_t, 16> state{};
  std::array<uint32_t, 16> block{};
  unsigned used = 16;
};

} // namespace cerium

#endif // CERIUM_SUPPORT_RANDOM_H
