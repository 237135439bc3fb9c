//===- Uniform.cpp - Vector AES-256-CTR and rejection sampling -----------===//
//
// The uniform halves of switching keys are AES-256-CTR keystreams turned
// into residues by rejection (cerium::expandUniform in Support/Random.cpp,
// the reference, which draws them block after block from a table-driven
// AES). Keys are expanded from their seeds whenever they are loaded, made
// or streamed, so here the blocks come from the CPU's AES instructions,
// many in flight (an AES round has a latency of several cycles, and the
// units start one or two each cycle), one, two or four blocks to a
// register; a block's four words are already in keystream order, and the
// acceptance test, the reduction and the compaction of the accepted words
// run on vectors too. The values are those of the reference, word for word
// (tests compare them on every unit).
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include "cerium/Support/Random.h"

#include <immintrin.h>

#include <array>
#include <bit>

// GCC 12 reports the intentionally undefined source operands inside
// avx512fintrin.h (_mm512_undefined_epi32) as (maybe-)uninitialized when
// the intrinsics inline here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define CERIUM_AVX2 __attribute__((target("avx2"), always_inline)) inline
#define CERIUM_AESNI __attribute__((target("avx2,aes"), always_inline)) inline
#define CERIUM_VAES256                                                         \
  __attribute__((target("avx2,aes,vaes"), always_inline)) inline
#define CERIUM_VAES512                                                         \
  __attribute__((target("avx512f,avx512vl,aes,vaes"), always_inline)) inline

namespace cerium::kernels::cpu {

namespace {

/// The rejection rule's constants for `bound` (2 <= bound): words up to
/// `limit` are kept, and x mod bound = x - t bound or that less bound, with
/// t = floor(x m / 2^32), m = floor(2^32 / bound): x m / 2^32 is within 1
/// below x / bound, so t is floor(x / bound) or one less (and exact when
/// bound > 2^31, where m = 1 and only words below bound are kept).
struct Rejection {
  uint32_t limit, m;
  explicit Rejection(uint32_t bound)
      : limit(static_cast<uint32_t>((uint64_t(1) << 32) / bound * bound - 1)),
        m(static_cast<uint32_t>((uint64_t(1) << 32) / bound)) {}
};

/// Words that remain after the vector loop (fewer than one vector of room in
/// `out`), the reference's rule word by word.
inline size_t acceptTail(const uint32_t *words, size_t count, uint32_t bound,
                         const Rejection &r, uint32_t *out, size_t filled,
                         size_t n) {
  for (size_t i = 0; i < count && filled < n; ++i)
    if (words[i] <= r.limit)
      out[filled++] = words[i] % bound;
  return filled;
}

//===----------------------------------------------------------------------===//
// AVX2, with AES-NI or VAES
//===----------------------------------------------------------------------===//

CERIUM_AVX2 __m256i splat2(uint32_t x) {
  return _mm256_set1_epi32(static_cast<int>(x));
}

/// The permutation that packs the lanes set in an 8-bit mask to the front.
struct CompressTable {
  alignas(32) uint32_t index[256][8];
  constexpr CompressTable() : index{} {
    for (unsigned mask = 0; mask < 256; ++mask) {
      unsigned next = 0;
      for (unsigned lane = 0; lane < 8; ++lane)
        if (mask >> lane & 1)
          index[mask][next++] = lane;
    }
  }
};
constexpr CompressTable kCompress;

/// The reduction of a kept word x (<= the limit < m bound): x - t bound,
/// t = floor(x m / 2^32), then less bound once more if needed. Where
/// 2^29 < bound < 2^30 (m is 4 to 7, so x < 8 bound, and 4 bound < 2^32)
/// three conditional subtractions of 4, 2 and 1 times bound give the same
/// residue with no products (Halving).
struct Reduce8 {
  __m256i m, mOdd, q, q2, q4;
  bool halving;
  explicit CERIUM_AVX2 Reduce8(const Rejection &r, uint32_t bound)
      : m(splat2(r.m)), mOdd(_mm256_srli_epi64(splat2(r.m), 32)),
        q(splat2(bound)), q2(splat2(bound << 1)), q4(splat2(bound << 2)),
        halving(r.m >= 4 && r.m <= 7 && bound < (1u << 30)) {}
};

CERIUM_AVX2 __m256i subtractIfAbove(__m256i x, __m256i k) {
  return _mm256_min_epu32(x, _mm256_sub_epi32(x, k));
}

/// Keeps the words of w at most the limit, reduced, at out[filled...]
/// (writing 8 words: the caller leaves room); returns how many.
template <bool Halving>
CERIUM_AVX2 unsigned accept8(__m256i w, __m256i limit, const Reduce8 &c,
                             uint32_t *out) {
  const __m256i kept = _mm256_cmpeq_epi32(_mm256_min_epu32(w, limit), w);
  const unsigned mask =
      static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(kept)));
  __m256i r;
  if constexpr (Halving) {
    r = subtractIfAbove(subtractIfAbove(subtractIfAbove(w, c.q4), c.q2), c.q);
  } else {
    const __m256i even = _mm256_srli_epi64(_mm256_mul_epu32(w, c.m), 32);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(w, 32), c.mOdd);
    const __m256i t = _mm256_blend_epi32(even, odd, 0xAA);
    r = subtractIfAbove(_mm256_sub_epi32(w, _mm256_mullo_epi32(t, c.q)), c.q);
  }
  r = _mm256_permutevar8x32_epi32(
      r, _mm256_load_si256(
             reinterpret_cast<const __m256i *>(kCompress.index[mask])));
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(out), r);
  return static_cast<unsigned>(std::popcount(mask));
}

/// The words of x[0..count) (in keystream order) through the rule into
/// out[filled...]; returns the new count.
template <bool Halving>
CERIUM_AVX2 size_t acceptVectors(const __m256i *x, int count,
                                 const Rejection &rule, const Reduce8 &c,
                                 uint32_t bound, uint32_t *out, size_t filled,
                                 size_t n) {
  const __m256i limit = splat2(rule.limit);
  for (int j = 0; j < count && filled < n; ++j) {
    if (n - filled >= 8) {
      filled += accept8<Halving>(x[j], limit, c, out + filled);
      continue;
    }
    alignas(32) uint32_t words[8];
    _mm256_store_si256(reinterpret_cast<__m256i *>(words), x[j]);
    filled = acceptTail(words, 8, bound, rule, out, filled, n);
  }
  return filled;
}

CERIUM_AESNI __m128i roundKey(const Aes256Schedule &schedule, int round) {
  return _mm_loadu_si128(
      reinterpret_cast<const __m128i *>(schedule.data() + 4 * round));
}

/// AES-NI: 8 blocks per pass, one to a register, the round keys read from
/// memory (16 blocks in flight measured 8% slower).
template <bool Halving>
CERIUM_AESNI void expandAesNi(const Aes256Schedule &schedule, uint64_t nonce,
                              uint64_t counter, uint32_t bound,
                              const Rejection &rule, const Reduce8 &c,
                              uint32_t *out, size_t n) {
  constexpr int kBlocks = 8;
  __m128i block = _mm_set_epi64x(static_cast<long long>(nonce),
                                 static_cast<long long>(counter));
  const __m128i one = _mm_set_epi64x(0, 1);
  size_t filled = 0;
  while (filled < n) {
    __m128i x[kBlocks];
    for (int j = 0; j < kBlocks; ++j) {
      x[j] = _mm_xor_si128(block, roundKey(schedule, 0));
      block = _mm_add_epi64(block, one);
    }
    for (int round = 1; round < 14; ++round)
      for (int j = 0; j < kBlocks; ++j)
        x[j] = _mm_aesenc_si128(x[j], roundKey(schedule, round));
    __m256i words[kBlocks / 2];
    for (int j = 0; j < kBlocks / 2; ++j)
      words[j] = _mm256_set_m128i(
          _mm_aesenclast_si128(x[2 * j + 1], roundKey(schedule, 14)),
          _mm_aesenclast_si128(x[2 * j], roundKey(schedule, 14)));
    filled = acceptVectors<Halving>(words, kBlocks / 2, rule, c, bound, out,
                                    filled, n);
  }
}

/// VAES on 256 bits: 32 blocks per pass, two to a register.
template <bool Halving>
CERIUM_VAES256 void expandVaes256(const Aes256Schedule &schedule,
                                  uint64_t nonce, uint64_t counter,
                                  uint32_t bound, const Rejection &rule,
                                  const Reduce8 &c, uint32_t *out, size_t n) {
  constexpr int kRegisters = 16;
  __m256i key[15];
  for (int round = 0; round < 15; ++round)
    key[round] = _mm256_broadcastsi128_si256(roundKey(schedule, round));
  __m256i blocks = _mm256_setr_epi64x(
      static_cast<long long>(counter), static_cast<long long>(nonce),
      static_cast<long long>(counter + 1), static_cast<long long>(nonce));
  const __m256i two = _mm256_setr_epi64x(2, 0, 2, 0);
  size_t filled = 0;
  while (filled < n) {
    __m256i x[kRegisters];
    for (int j = 0; j < kRegisters; ++j) {
      x[j] = _mm256_xor_si256(blocks, key[0]);
      blocks = _mm256_add_epi64(blocks, two);
    }
    for (int round = 1; round < 14; ++round)
      for (int j = 0; j < kRegisters; ++j)
        x[j] = _mm256_aesenc_epi128(x[j], key[round]);
    for (int j = 0; j < kRegisters; ++j)
      x[j] = _mm256_aesenclast_epi128(x[j], key[14]);
    filled =
        acceptVectors<Halving>(x, kRegisters, rule, c, bound, out, filled, n);
  }
}

__attribute__((target("avx2,aes"))) void
expandAesNiAvx2(const Aes256Schedule &schedule, uint64_t nonce,
                uint64_t counter, uint32_t bound, uint32_t *out, size_t n) {
  const Rejection rule(bound);
  const Reduce8 c(rule, bound);
  if (c.halving)
    expandAesNi<true>(schedule, nonce, counter, bound, rule, c, out, n);
  else
    expandAesNi<false>(schedule, nonce, counter, bound, rule, c, out, n);
}

__attribute__((target("avx2,aes,vaes"))) void
expandVaes256Avx2(const Aes256Schedule &schedule, uint64_t nonce,
                  uint64_t counter, uint32_t bound, uint32_t *out, size_t n) {
  const Rejection rule(bound);
  const Reduce8 c(rule, bound);
  if (c.halving)
    expandVaes256<true>(schedule, nonce, counter, bound, rule, c, out, n);
  else
    expandVaes256<false>(schedule, nonce, counter, bound, rule, c, out, n);
}

//===----------------------------------------------------------------------===//
// AVX-512 with VAES: four blocks per register
//===----------------------------------------------------------------------===//

CERIUM_VAES512 __m512i splat16(uint32_t x) {
  return _mm512_set1_epi32(static_cast<int>(x));
}

/// VAES on 512 bits: 32 blocks per pass, four to a register.
__attribute__((target("avx512f,avx512vl,aes,vaes"))) void
expandVaes512(const Aes256Schedule &schedule, uint64_t nonce, uint64_t counter,
              uint32_t bound, uint32_t *out, size_t n) {
  constexpr int kRegisters = 8;
  const Rejection rule(bound);
  const __m512i limit = splat16(rule.limit), m = splat16(rule.m),
                q = splat16(bound);
  __m512i key[15];
  for (int round = 0; round < 15; ++round)
    key[round] = _mm512_broadcast_i32x4(_mm_loadu_si128(
        reinterpret_cast<const __m128i *>(schedule.data() + 4 * round)));
  const auto c = static_cast<long long>(counter);
  const auto v = static_cast<long long>(nonce);
  __m512i blocks = _mm512_setr_epi64(c, v, c + 1, v, c + 2, v, c + 3, v);
  const __m512i four = _mm512_setr_epi64(4, 0, 4, 0, 4, 0, 4, 0);
  size_t filled = 0;
  while (filled < n) {
    __m512i x[kRegisters];
    for (int j = 0; j < kRegisters; ++j) {
      x[j] = _mm512_xor_si512(blocks, key[0]);
      blocks = _mm512_add_epi64(blocks, four);
    }
    for (int round = 1; round < 14; ++round)
      for (int j = 0; j < kRegisters; ++j)
        x[j] = _mm512_aesenc_epi128(x[j], key[round]);
    for (int j = 0; j < kRegisters; ++j)
      x[j] = _mm512_aesenclast_epi128(x[j], key[14]);
    for (int j = 0; j < kRegisters && filled < n; ++j) {
      const __m512i w = x[j];
      if (n - filled < 16) {
        alignas(64) uint32_t words[16];
        _mm512_store_si512(words, w);
        filled = acceptTail(words, 16, bound, rule, out, filled, n);
        continue;
      }
      const __mmask16 kept = _mm512_cmple_epu32_mask(w, limit);
      const __m512i even = _mm512_srli_epi64(_mm512_mul_epu32(w, m), 32);
      const __m512i odd =
          _mm512_mul_epu32(_mm512_srli_epi64(w, 32), _mm512_srli_epi64(m, 32));
      const __m512i t = _mm512_mask_blend_epi32(0xAAAA, even, odd);
      __m512i r = _mm512_sub_epi32(w, _mm512_mullo_epi32(t, q));
      r = _mm512_min_epu32(r, _mm512_sub_epi32(r, q));
      _mm512_mask_compressstoreu_epi32(out + filled, kept, r);
      filled += static_cast<size_t>(std::popcount(unsigned(kept)));
    }
  }
}

} // namespace

} // namespace cerium::kernels::cpu

namespace cerium::kernels {

bool cpuSupports(AesUnit unit) {
  static const bool aes = __builtin_cpu_supports("aes"),
                    vaes = aes && __builtin_cpu_supports("vaes");
  switch (unit) {
  case AesUnit::AesNi:
    return aes && cpuHasAvx2();
  case AesUnit::Vaes256:
    return vaes && cpuHasAvx2();
  case AesUnit::Vaes512:
    return vaes && cpuSupports(CpuPath::Avx512);
  default:
    return true;
  }
}

AesUnit aesUnitFor(CpuPath path) {
  if (path == CpuPath::Auto)
    path = bestCpuPath();
  if (path == CpuPath::Portable)
    return AesUnit::Software;
  if (path == CpuPath::Avx512 && cpuSupports(AesUnit::Vaes512))
    return AesUnit::Vaes512;
  return cpuSupports(AesUnit::Vaes256) ? AesUnit::Vaes256
         : cpuSupports(AesUnit::AesNi) ? AesUnit::AesNi
                                       : AesUnit::Software;
}

const char *aesUnitName(AesUnit unit) {
  switch (unit) {
  case AesUnit::AesNi:
    return "aes-ni";
  case AesUnit::Vaes256:
    return "vaes256";
  case AesUnit::Vaes512:
    return "vaes512";
  default:
    return "software";
  }
}

void expandUniform(AesUnit unit, const std::array<uint32_t, 8> &key,
                   uint64_t nonce, uint64_t counter, uint32_t bound,
                   std::span<uint32_t> out) noexcept {
  // Bound 1 keeps every word (m would be 2^32): the reference's loop.
  if (bound < 2 || unit == AesUnit::Software) {
    cerium::expandUniform(key, nonce, counter, bound, out);
    return;
  }
  const Aes256Schedule schedule = aes256Schedule(key);
  if (unit == AesUnit::Vaes512)
    cpu::expandVaes512(schedule, nonce, counter, bound, out.data(), out.size());
  else if (unit == AesUnit::Vaes256)
    cpu::expandVaes256Avx2(schedule, nonce, counter, bound, out.data(),
                           out.size());
  else
    cpu::expandAesNiAvx2(schedule, nonce, counter, bound, out.data(),
                         out.size());
}

void expandUniform(CpuPath path, const std::array<uint32_t, 8> &key,
                   uint64_t nonce, uint64_t counter, uint32_t bound,
                   std::span<uint32_t> out) noexcept {
  expandUniform(aesUnitFor(path), key, nonce, counter, bound, out);
}

} // namespace cerium::kernels
