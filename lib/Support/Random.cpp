//===- Random.cpp - ChaCha20 and AES-256-CTR keystreams -------------------===//

#include "cerium/Support/Random.h"
#include "cerium/Support/Error.h"

#include <sys/random.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace cerium {

// The rounds once, for one block in scalars (Prng's word-at-a-time stream)
// or eight blocks in the lanes of a vector (bulk expansion): the same
// operations on each lane, so the same words. Values are updated in place
// by reference, so no vector crosses a call boundary by value (whose ABI
// differs between the AVX2 and the baseline clone).
template <class V> [[gnu::always_inline]] static inline void rotl(V &x, int r) {
  x = (x << r) | (x >> (32 - r));
}

template <class V>
[[gnu::always_inline]] static inline void quarterRound(V &a, V &b, V &c, V &d) {
  a += b;
  d ^= a;
  rotl(d, 16);
  c += d;
  b ^= c;
  rotl(b, 12);
  a += b;
  d ^= a;
  rotl(d, 8);
  c += d;
  b ^= c;
  rotl(b, 7);
}

/// The 20 rounds (10 double rounds) and the feed-forward: x = block(s).
template <class V>
[[gnu::always_inline]] static inline void chachaRounds(const V s[16], V x[16]) {
  for (int i = 0; i < 16; ++i)
    x[i] = s[i];
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
    x[i] += s[i];
}

/// "expand 32-byte k", the key, the 64-bit nonce (words 14..15); the
/// caller sets the 64-bit block counter (words 12..13).
template <class V>
[[gnu::always_inline]] static inline void
initState(V s[16], const PrngSeed &key, uint64_t nonce) {
  static constexpr uint32_t sigma[4] = {0x61707865, 0x3320646e, 0x79622d32,
                                        0x6b206574};
  for (int i = 0; i < 4; ++i)
    s[i] = V{} + sigma[i];
  for (int i = 0; i < 8; ++i)
    s[4 + i] = V{} + key[size_t(i)];
  s[14] = V{} + static_cast<uint32_t>(nonce);
  s[15] = V{} + static_cast<uint32_t>(nonce >> 32);
}

namespace {
constexpr size_t kLanes = 8;
using Lanes = uint32_t __attribute__((vector_size(4 * kLanes)));
} // namespace

/// kLanes consecutive blocks from `counter`. Compiled for AVX2 and for the
/// baseline (two SSE2 halves); the lanes are independent, so both give the
/// same words.
__attribute__((target_clones("avx2", "default"))) static void
chachaLanes(const PrngSeed &key, uint64_t nonce, uint64_t counter,
            uint32_t *out) {
  Lanes s[16], x[16];
  initState(s, key, nonce);
  for (size_t l = 0; l < kLanes; ++l) {
    s[12][l] = static_cast<uint32_t>(counter + l);
    s[13][l] = static_cast<uint32_t>((counter + l) >> 32);
  }
  chachaRounds(s, x);
  for (size_t l = 0; l < kLanes; ++l)
    for (int i = 0; i < 16; ++i)
      out[l * 16 + size_t(i)] = x[i][l];
}

void chacha20Blocks(const PrngSeed &key, uint64_t nonce, uint64_t counter,
                    size_t count, uint32_t *out) {
  size_t done = 0;
  for (; done + kLanes <= count; done += kLanes)
    chachaLanes(key, nonce, counter + done, out + 16 * done);
  for (; done < count; ++done) {
    uint32_t s[16], x[16];
    const uint64_t c = counter + done;
    initState(s, key, nonce);
    s[12] = static_cast<uint32_t>(c);
    s[13] = static_cast<uint32_t>(c >> 32);
    chachaRounds(s, x);
    std::memcpy(out + 16 * done, x, sizeof(x));
  }
}

//===----------------------------------------------------------------------===//
// AES-256 (FIPS 197), the bytes of a column in the little-endian word
//===----------------------------------------------------------------------===//

namespace {

constexpr uint8_t gfMul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  for (; b; b >>= 1) {
    if (b & 1)
      product ^= a;
    a = static_cast<uint8_t>(a << 1 ^ (a & 0x80 ? 0x1b : 0));
  }
  return product;
}

constexpr uint8_t rotl8(uint8_t b, int r) {
  return static_cast<uint8_t>(b << r | b >> (8 - r));
}

/// The S-box from its definition (FIPS 197, 5.1.1): the inverse in
/// GF(2^8) (x^254; 0 for 0), then the affine map.
struct SBox {
  uint8_t s[256] = {};
  constexpr SBox() {
    for (unsigned x = 0; x < 256; ++x) {
      uint8_t inverse = 1, base = static_cast<uint8_t>(x);
      for (unsigned e = 254; e; e >>= 1, base = gfMul(base, base))
        if (e & 1)
          inverse = gfMul(inverse, base);
      if (x == 0)
        inverse = 0;
      s[x] =
          static_cast<uint8_t>(inverse ^ rotl8(inverse, 1) ^ rotl8(inverse, 2) ^
                               rotl8(inverse, 3) ^ rotl8(inverse, 4) ^ 0x63);
    }
  }
};
constexpr SBox kSBox;

/// SubBytes and MixColumns of one byte in row 0: the column (2s, s, s, 3s)
/// as a little-endian word; row r's contribution is this rotated by 8r.
struct RoundTable {
  uint32_t t[256] = {};
  constexpr RoundTable() {
    for (unsigned x = 0; x < 256; ++x) {
      const uint8_t v = kSBox.s[x];
      t[x] = uint32_t(gfMul(v, 2)) | uint32_t(v) << 8 | uint32_t(v) << 16 |
             uint32_t(gfMul(v, 3)) << 24;
    }
  }
};
constexpr RoundTable kRound;

inline uint32_t subWord(uint32_t w) {
  return uint32_t(kSBox.s[w & 0xff]) | uint32_t(kSBox.s[w >> 8 & 0xff]) << 8 |
         uint32_t(kSBox.s[w >> 16 & 0xff]) << 16 |
         uint32_t(kSBox.s[w >> 24]) << 24;
}

inline uint8_t byteOf(uint32_t w, int r) {
  return static_cast<uint8_t>(w >> (8 * r));
}

} // namespace

Aes256Schedule aes256Schedule(const PrngSeed &key) {
  Aes256Schedule w{};
  std::copy(key.begin(), key.end(), w.begin());
  uint8_t rcon = 1;
  for (size_t i = 8; i < w.size(); ++i) {
    uint32_t t = w[i - 1];
    if (i % 8 == 0) {
      // RotWord moves byte 1 to byte 0: a right rotation of the LE word.
      t = subWord(std::rotr(t, 8)) ^ rcon;
      rcon = gfMul(rcon, 2);
    } else if (i % 8 == 4) {
      t = subWord(t);
    }
    w[i] = w[i - 8] ^ t;
  }
  return w;
}

void aes256CtrBlocks(const Aes256Schedule &schedule, uint64_t nonce,
                     uint64_t counter, size_t count, uint32_t *out) {
  for (size_t b = 0; b < count; ++b) {
    const uint64_t c = counter + b;
    // Column j holds bytes 4j..4j+3 of the block: the counter, the nonce.
    uint32_t s[4] = {static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32),
                     static_cast<uint32_t>(nonce),
                     static_cast<uint32_t>(nonce >> 32)};
    for (int j = 0; j < 4; ++j)
      s[j] ^= schedule[size_t(j)];
    for (int round = 1; round <= 14; ++round) {
      uint32_t t[4];
      // ShiftRows: row r of column j comes from column j + r.
      for (int j = 0; j < 4; ++j) {
        const uint32_t *key = &schedule[size_t(4 * round + j)];
        if (round < 14)
          t[j] = kRound.t[byteOf(s[j], 0)] ^
                 std::rotl(kRound.t[byteOf(s[(j + 1) % 4], 1)], 8) ^
                 std::rotl(kRound.t[byteOf(s[(j + 2) % 4], 2)], 16) ^
                 std::rotl(kRound.t[byteOf(s[(j + 3) % 4], 3)], 24) ^ *key;
        else
          t[j] = (uint32_t(kSBox.s[byteOf(s[j], 0)]) |
                  uint32_t(kSBox.s[byteOf(s[(j + 1) % 4], 1)]) << 8 |
                  uint32_t(kSBox.s[byteOf(s[(j + 2) % 4], 2)]) << 16 |
                  uint32_t(kSBox.s[byteOf(s[(j + 3) % 4], 3)]) << 24) ^
                 *key;
      }
      std::copy(t, t + 4, s);
    }
    std::copy(s, s + 4, out + 4 * b);
  }
}

/// x mod d for 32-bit x and d by two multiplications (Lemire, Kaser and
/// Kurz, "Faster remainder by direct computation", 2019: exact for all
/// 32-bit operands with m = floor((2^64 - 1) / d) + 1).
static inline uint32_t fastMod(uint32_t x, uint64_t m, uint32_t d) {
  const uint64_t low = m * x;
  return static_cast<uint32_t>((static_cast<unsigned __int128>(low) * d) >> 64);
}

static uint32_t acceptLimit(uint32_t bound) {
  // Accept x < floor(2^32 / bound) * bound.
  return static_cast<uint32_t>((uint64_t(1) << 32) / bound * bound - 1);
}

void expandUniform(const PrngSeed &key, uint64_t nonce, uint64_t counter,
                   uint32_t bound, std::span<uint32_t> out) noexcept {
  assert(bound > 0);
  const uint32_t limit = acceptLimit(bound);
  const uint64_t m = ~uint64_t(0) / bound + 1;
  const Aes256Schedule schedule = aes256Schedule(key);
  constexpr size_t kBlocks = 16;
  uint32_t words[4 * kBlocks];
  size_t filled = 0;
  while (filled < out.size()) {
    aes256CtrBlocks(schedule, nonce, counter, kBlocks, words);
    counter += kBlocks;
    for (uint32_t x : words)
      if (x <= limit && filled < out.size())
        out[filled++] = fastMod(x, m, bound);
  }
}

Prng::Prng() {
  size_t got = 0;
  while (got < sizeof(key)) {
    ssize_t r = getrandom(reinterpret_cast<char *>(key.data()) + got,
                          sizeof(key) - got, 0);
    if (r < 0 && errno != EINTR)
      throw Error("cannot read system randomness (getrandom failed)");
    if (r > 0)
      got += static_cast<size_t>(r);
  }
}

Prng::Prng(uint64_t seed)
    : key{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
          0x5eed} {}

// The 64-bit nonce selects the stream.
Prng::Prng(const PrngSeed &seed, uint64_t stream) : key(seed), nonce(stream) {}

PrngSeed Prng::nextSeed() {
  PrngSeed seed;
  for (uint32_t &w : seed)
    w = next32();
  return seed;
}

void Prng::refill() {
  chacha20Blocks(key, nonce, counter++, 1, block.data());
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
  const uint32_t limit = acceptLimit(bound);
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
