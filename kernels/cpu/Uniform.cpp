//===- Uniform.cpp - Vector ChaCha8 and rejection sampling ----------------===//
//
// The uniform halves of switching keys are ChaCha8 keystreams turned into
// residues by rejection (cerium::expandUniform in Support/Random.cpp, the
// reference, which draws them word after word). Keys are expanded from
// their seeds whenever they are loaded, made or streamed, so here the same
// words come from 8 (AVX2) or 16 (AVX-512) blocks in the lanes of vectors,
// transposed back to keystream order in registers, and the acceptance test,
// the reduction and the compaction of the accepted words run on vectors
// too. The values are those of the reference, word for word (tests compare
// them).
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include "cerium/Support/Random.h"

#include <immintrin.h>

#include <array>
#include <bit>

// GCC 12 reports the intentionally undefined source operands inside
// avx512fintrin.h (_mm512_undefined_epi32) as maybe-uninitialized when
// the intrinsics inline here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define CERIUM_AVX2 __attribute__((target("avx2"), always_inline)) inline
#define CERIUM_AVX512                                                          \
  __attribute__((target("avx512f,avx512vl"), always_inline)) inline

namespace cerium::kernels::cpu {

namespace {

constexpr uint32_t kSigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
/// ChaCha8: the expansion of a public seed (cerium::chacha8Blocks).
constexpr int kRounds = 8;

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
// AVX2: 8 blocks per pass
//===----------------------------------------------------------------------===//

CERIUM_AVX2 __m256i splat2(uint32_t x) {
  return _mm256_set1_epi32(static_cast<int>(x));
}

template <int R> CERIUM_AVX2 __m256i rotl2(__m256i x) {
  if constexpr (R == 16)
    return _mm256_shuffle_epi8(x, _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10,
                                                   11, 8, 9, 14, 15, 12, 13, 2,
                                                   3, 0, 1, 6, 7, 4, 5, 10, 11,
                                                   8, 9, 14, 15, 12, 13));
  else if constexpr (R == 8)
    return _mm256_shuffle_epi8(x, _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11,
                                                   8, 9, 10, 15, 12, 13, 14, 3,
                                                   0, 1, 2, 7, 4, 5, 6, 11, 8,
                                                   9, 10, 15, 12, 13, 14));
  else
    return _mm256_or_si256(_mm256_slli_epi32(x, R),
                           _mm256_srli_epi32(x, 32 - R));
}

CERIUM_AVX2 void quarter2(__m256i &a, __m256i &b, __m256i &c, __m256i &d) {
  a = _mm256_add_epi32(a, b);
  d = rotl2<16>(_mm256_xor_si256(d, a));
  c = _mm256_add_epi32(c, d);
  b = rotl2<12>(_mm256_xor_si256(b, c));
  a = _mm256_add_epi32(a, b);
  d = rotl2<8>(_mm256_xor_si256(d, a));
  c = _mm256_add_epi32(c, d);
  b = rotl2<7>(_mm256_xor_si256(b, c));
}

/// Blocks counter .. counter + 7 of (key, nonce): x[i] holds word i of
/// block l in lane l.
CERIUM_AVX2 void blocks2(const uint32_t *key, uint64_t nonce, uint64_t counter,
                         __m256i x[16]) {
  __m256i s[16];
  for (int i = 0; i < 4; ++i)
    s[i] = splat2(kSigma[i]);
  for (int i = 0; i < 8; ++i)
    s[4 + i] = splat2(key[i]);
  // The 64-bit counters counter + l in two vectors of words, made in
  // registers (words stored one by one and loaded as a vector stalled the
  // load: no store forwarding from eight stores). The low word wrapped
  // where it is below l (an unsigned comparison through the sign bit).
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lo =
      _mm256_add_epi32(splat2(static_cast<uint32_t>(counter)), lane);
  const __m256i sign = splat2(0x80000000u);
  const __m256i wrapped = _mm256_cmpgt_epi32(_mm256_xor_si256(lane, sign),
                                             _mm256_xor_si256(lo, sign));
  s[12] = lo;
  s[13] =
      _mm256_sub_epi32(splat2(static_cast<uint32_t>(counter >> 32)), wrapped);
  s[14] = splat2(static_cast<uint32_t>(nonce));
  s[15] = splat2(static_cast<uint32_t>(nonce >> 32));
  for (int i = 0; i < 16; ++i)
    x[i] = s[i];
  for (int round = 0; round < kRounds / 2; ++round) {
    quarter2(x[0], x[4], x[8], x[12]);
    quarter2(x[1], x[5], x[9], x[13]);
    quarter2(x[2], x[6], x[10], x[14]);
    quarter2(x[3], x[7], x[11], x[15]);
    quarter2(x[0], x[5], x[10], x[15]);
    quarter2(x[1], x[6], x[11], x[12]);
    quarter2(x[2], x[7], x[8], x[13]);
    quarter2(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; ++i)
    x[i] = _mm256_add_epi32(x[i], s[i]);
}

/// The 8 x 8 transpose of r[0..7] (rows) in place: afterwards r[l] holds
/// column l, i.e. words 0..7 (or 8..15) of block l.
CERIUM_AVX2 void transpose8(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int a = 0; a < 4; ++a) {
    t[2 * a] = _mm256_unpacklo_epi32(r[2 * a], r[2 * a + 1]);
    t[2 * a + 1] = _mm256_unpackhi_epi32(r[2 * a], r[2 * a + 1]);
  }
  // u[4g + k]: column 4L + k of rows 4g .. 4g + 3 in 128-bit lane L.
  for (int g = 0; g < 2; ++g) {
    u[4 * g + 0] = _mm256_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm256_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm256_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm256_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
    r[4 + k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
  }
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

template <bool Halving>
CERIUM_AVX2 void expand8(const uint32_t *key, uint64_t nonce, uint64_t counter,
                         uint32_t bound, const Rejection &rule,
                         const Reduce8 &c, uint32_t *out, size_t n) {
  const __m256i limit = splat2(rule.limit);
  size_t filled = 0;
  while (filled < n) {
    __m256i x[16];
    blocks2(key, nonce, counter, x);
    counter += 8;
    transpose8(x);     // x[l]: words 0..7 of block l
    transpose8(x + 8); // x[8 + l]: words 8..15 of block l
    for (int l = 0; l < 8 && filled < n; ++l)
      for (__m256i w : {x[l], x[8 + l]}) {
        if (n - filled >= 8) {
          filled += accept8<Halving>(w, limit, c, out + filled);
          continue;
        }
        alignas(32) uint32_t words[8];
        _mm256_store_si256(reinterpret_cast<__m256i *>(words), w);
        filled = acceptTail(words, 8, bound, rule, out, filled, n);
      }
  }
}

__attribute__((target("avx2"))) void
expandUniformAvx2(const uint32_t *key, uint64_t nonce, uint64_t counter,
                  uint32_t bound, uint32_t *out, size_t n) {
  const Rejection rule(bound);
  const Reduce8 c(rule, bound);
  if (c.halving)
    expand8<true>(key, nonce, counter, bound, rule, c, out, n);
  else
    expand8<false>(key, nonce, counter, bound, rule, c, out, n);
}

//===----------------------------------------------------------------------===//
// AVX-512: 16 blocks per pass
//===----------------------------------------------------------------------===//

CERIUM_AVX512 __m512i splat16(uint32_t x) {
  return _mm512_set1_epi32(static_cast<int>(x));
}

CERIUM_AVX512 void quarter16(__m512i &a, __m512i &b, __m512i &c, __m512i &d) {
  a = _mm512_add_epi32(a, b);
  d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 16);
  c = _mm512_add_epi32(c, d);
  b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 12);
  a = _mm512_add_epi32(a, b);
  d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 8);
  c = _mm512_add_epi32(c, d);
  b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 7);
}

/// Blocks counter .. counter + 15: x[i] holds word i of block l in lane l.
CERIUM_AVX512 void blocks16(const uint32_t *key, uint64_t nonce,
                            uint64_t counter, __m512i x[16]) {
  __m512i s[16];
  for (int i = 0; i < 4; ++i)
    s[i] = splat16(kSigma[i]);
  for (int i = 0; i < 8; ++i)
    s[4 + i] = splat16(key[i]);
  // As blocks2: the counters made in registers, the high word one more
  // where the low word wrapped (is below l).
  const __m512i lane =
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i lo =
      _mm512_add_epi32(splat16(static_cast<uint32_t>(counter)), lane);
  const __m512i hi = splat16(static_cast<uint32_t>(counter >> 32));
  s[12] = lo;
  s[13] = _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(lo, lane), hi,
                                splat16(1));
  s[14] = splat16(static_cast<uint32_t>(nonce));
  s[15] = splat16(static_cast<uint32_t>(nonce >> 32));
  for (int i = 0; i < 16; ++i)
    x[i] = s[i];
  for (int round = 0; round < kRounds / 2; ++round) {
    quarter16(x[0], x[4], x[8], x[12]);
    quarter16(x[1], x[5], x[9], x[13]);
    quarter16(x[2], x[6], x[10], x[14]);
    quarter16(x[3], x[7], x[11], x[15]);
    quarter16(x[0], x[5], x[10], x[15]);
    quarter16(x[1], x[6], x[11], x[12]);
    quarter16(x[2], x[7], x[8], x[13]);
    quarter16(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; ++i)
    x[i] = _mm512_add_epi32(x[i], s[i]);
}

/// The 16 x 16 transpose of r (rows) in place: afterwards r[l] is block l.
CERIUM_AVX512 void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int a = 0; a < 8; ++a) {
    t[2 * a] = _mm512_unpacklo_epi32(r[2 * a], r[2 * a + 1]);
    t[2 * a + 1] = _mm512_unpackhi_epi32(r[2 * a], r[2 * a + 1]);
  }
  // u[4g + k]: column 4L + k of rows 4g .. 4g + 3 in 128-bit lane L.
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  // Column 4L + k: lane L of u[k], u[4 + k], u[8 + k], u[12 + k].
  for (int k = 0; k < 4; ++k) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x44),
                  v1 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xEE),
                  v2 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x44),
                  v3 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xEE);
    r[k] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[4 + k] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    r[8 + k] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + k] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
}

__attribute__((target("avx512f,avx512vl"))) void
expandUniformAvx512(const uint32_t *key, uint64_t nonce, uint64_t counter,
                    uint32_t bound, uint32_t *out, size_t n) {
  const Rejection rule(bound);
  const __m512i limit = splat16(rule.limit), m = splat16(rule.m),
                q = splat16(bound);
  size_t filled = 0;
  while (filled < n) {
    __m512i x[16];
    blocks16(key, nonce, counter, x);
    counter += 16;
    transpose16(x);
    for (int l = 0; l < 16 && filled < n; ++l) {
      const __m512i w = x[l];
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

void expandUniform(CpuPath path, const std::array<uint32_t, 8> &key,
                   uint64_t nonce, uint64_t counter, uint32_t bound,
                   std::span<uint32_t> out) noexcept {
  if (path == CpuPath::Auto)
    path = bestCpuPath();
  // Bound 1 keeps every word (m would be 2^32): the reference's loop.
  if (bound < 2 || path == CpuPath::Portable)
    cerium::expandUniform(key, nonce, counter, bound, out);
  else if (path == CpuPath::Avx512)
    cpu::expandUniformAvx512(key.data(), nonce, counter, bound, out.data(),
                             out.size());
  else
    cpu::expandUniformAvx2(key.data(), nonce, counter, bound, out.data(),
                           out.size());
}

} // namespace cerium::kernels
