//===- Random.cpp - ChaCha20 keystream ------------------------------------===//

#include "cerium/Support/Random.h"
#include "cerium/Support/Error.h"

#include <sys/random.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace cerium {

static uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static void quarterRound(uint32_t &a, uint32_t &b, uint32_t &c, uint32_t &d) {
  a += b;
  d ^= a;
  d = rotl(d, 16);
  c += d;
  b ^= c;
  b = rotl(b, 12);
  a += b;
  d ^= a;
  d = rotl(d, 8);
  c += d;
  b ^= c;
  b = rotl(b, 7);
}

static void initState(std::array<uint32_t, 16> &s, const uint32_t key[8]) {
  // "expand 32-byte k", key, block counter 0, nonce 0.
  s = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
  std::memcpy(&s[4], key, 32);
  s[12] = s[13] = s[14] = s[15] = 0;
}

Prng::Prng() {
  uint32_t key[8];
  size_t got = 0;
  while (got < sizeof(key)) {
    ssize_t r =
        getrandom(reinterpret_cast<char *>(key) + got, sizeof(key) - got, 0);
    if (r < 0 && errno != EINTR)
      throw Error("cannot read system randomness (getrandom failed)");
    if (r > 0)
      got += static_cast<size_t>(r);
  }
  initState(state, key);
}

Prng::Prng(uint64_t seed) {
  uint32_t key[8] = {static_cast<uint32_t>(seed),
                     static_cast<uint32_t>(seed >> 32),
                     0x5eed,
                     0,
                     0,
                     0,
                     0,
                     0};
  initState(state, key);
}

Prng::Prng(const PrngSeed &seed, uint64_t stream) {
  initState(state, seed.data());
  // The 64-bit nonce (words 14..15) selects the stream.
  state[14] = static_cast<uint32_t>(stream);
  state[15] = static_cast<uint32_t>(stream >> 32);
}

PrngSeed Prng::nextSeed() {
  PrngSeed seed;
  for (uint32_t &w : seed)
    w = next32();
  return seed;
}

void Prng::refill() {
  std::array<uint32_t, 16> x = state;
  for (int i = 0; i < 10; ++i) {
    quarterRound(x[0], x[4], x[8], x[12]);
    quarterRound(x[1], x[5], x[9], x[13]);
    quarterRound(x[2], x[6], x[10], x[14]);
    quarterRound(x[3], x[7], x[11], x[15]);
    quarterRound(x[0], x[5], x[10], x[15]);
    quarterRound(x[1], x[6], x[11], x[12]);
    quarterRound(x[2], x[7], x[8], x[13]);
    quarterRound(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; ++i)
    block[i] = x[i] + state[i];
  // 64-bit block counter in words 12..13.
  if (++state[12] == 0)
    ++state[13];
  used = 0;
}

uint32_t Prng::next32() {
  if (used == 16)
    refill();
  return block[used++];
}

uint64_t Prng::next64() {
  uint64_t lo = next32();
  return lo | (uint64_t(next32()) << 32);
}

uint32_t Prng::uniformBelow(uint32_t bound) {
  // Accept x < floor(2^32 / bound) * bound.
  uint32_t limit =
      static_cast<uint32_t>((uint64_t(1) << 32) / bound * bound - 1);
  for (;;) {
    uint32_t x = next32();
    if (x <= limit)
      return x % bound;
  }
}

double Prng::uniformReal() {
  return static_cast<double>(next64() >> 11) * 0x1.0p-53;
}

int32_t Prng::roundedGaussian(double sigma) {
  const double bound = 6 * sigma;
  for (;;) {
    // Box-Muller; u1 in (0, 1].
    double u1 = 1.0 - uniformReal(), u2 = uniformReal();
    double z =
        sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    if (std::fabs(z) <= bound)
      return static_cast<int32_t>(std::lround(z));
  }
}

} // namespace cerium
