//===- NttAvx2.cpp - AVX2 negacyclic NTT ----------------------------------===//
//
// The butterflies of Ntt.cpp, eight lanes at a time. Stages whose butterfly
// span is at least 64 words run on whole vectors with one broadcast twiddle,
// two stages per pass over memory (four vectors through two butterflies
// each); the six with spans 32 down to 1 run in one pass over 64-word blocks
// of eight vectors, transposed in registers for the last three so that
// every butterfly is still between whole vectors (their twiddles, one per
// lane, come from a table laid out for that pass: laneTwiddles). A limb's
// transform at N = 2^16 sits in L2 and is bound by instructions, which the
// transposed stages cut (the shuffles between them and the permuted
// twiddles had made the narrow stages cost twice a wide one). Outputs are
// exact residues, so they equal the portable path's bit for bit. The
// functions carry a target attribute (not a per-file -mavx2) so that
// nothing else in the binary is compiled for AVX2: the backend calls them
// only after checking the CPU.
//
//===----------------------------------------------------------------------===//

#include "cerium/kernels/CpuBackend.h"

#include <immintrin.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#define CERIUM_AVX2 __attribute__((target("avx2"), always_inline)) inline

namespace cerium::kernels::cpu {
namespace {

/// A twiddle w with its Shoup quotient wq, and wq's odd lanes in the even
/// positions (what the odd lanes' 32x32 -> 64-bit product reads). For a
/// broadcast twiddle that is wq itself.
struct Twiddle {
  __m256i w, wq, wqOdd;
};

/// x * w mod p in [0, 2p) (Shoup), lane-wise: q = hi(x wq) from the 64-bit
/// products of the even lanes and of the odd ones, then x w - q p mod 2^32.
CERIUM_AVX2 __m256i mulShoupLazy(__m256i x, const Twiddle &t, __m256i p) {
  __m256i even = _mm256_srli_epi64(_mm256_mul_epu32(x, t.wq), 32);
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), t.wqOdd);
  __m256i q = _mm256_blend_epi32(even, odd, 0xAA);
  return _mm256_sub_epi32(_mm256_mullo_epi32(x, t.w), _mm256_mullo_epi32(q, p));
}

/// x >= m ? x - m : x, lane-wise (unsigned; x < 2m).
CERIUM_AVX2 __m256i reduceOnce(__m256i x, __m256i m) {
  return _mm256_min_epu32(x, _mm256_sub_epi32(x, m));
}

CERIUM_AVX2 void forwardButterfly(__m256i &x, __m256i &y, const Twiddle &t,
                                  __m256i p, __m256i twoP) {
  __m256i u = reduceOnce(x, twoP);
  __m256i v = mulShoupLazy(y, t, p);
  x = _mm256_add_epi32(u, v);
  y = _mm256_add_epi32(_mm256_sub_epi32(u, v), twoP);
}

CERIUM_AVX2 void inverseButterfly(__m256i &x, __m256i &y, const Twiddle &t,
                                  __m256i p, __m256i twoP) {
  __m256i u = _mm256_add_epi32(x, y);
  __m256i v = _mm256_add_epi32(_mm256_sub_epi32(x, y), twoP);
  x = reduceOnce(u, twoP);
  y = mulShoupLazy(v, t, p);
}

CERIUM_AVX2 __m256i load(const uint32_t *p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}
CERIUM_AVX2 void store(uint32_t *p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), v);
}

/// Twiddle i of a table (and its quotient) in every lane.
CERIUM_AVX2 Twiddle broadcast(const uint32_t *w, const uint32_t *wq, size_t i) {
  const __m256i q = _mm256_set1_epi32(static_cast<int>(wq[i]));
  return {_mm256_set1_epi32(static_cast<int>(w[i])), q, q};
}

/// Eight distinct twiddles (w[0..8), wq[0..8)), one per lane.
CERIUM_AVX2 Twiddle inLanes(const uint32_t *w, const uint32_t *wq) {
  const __m256i q = load(wq);
  return {load(w), q, _mm256_srli_epi64(q, 32)};
}

/// What the last pass of a transform does to each word it stores: nothing,
/// the forward NTT's reduction from [0, 4p), or the inverse's scaling by
/// N^-1. The inverse's last pass scales within its last stage (ScaleInLast:
/// that stage's one twiddle w[1] times N^-1 in `last`, N^-1 on the other
/// output), so that each output takes one product, not two.
struct Finish {
  enum Kind { None, Reduce, Scale, ScaleInLast } kind = None;
  Twiddle nInv, last;
  CERIUM_AVX2 __m256i apply(__m256i x, __m256i p, __m256i twoP) const {
    if (kind == Reduce)
      return reduceOnce(reduceOnce(x, twoP), p);
    if (kind == Scale)
      return reduceOnce(mulShoupLazy(x, nInv, p), p);
    return x;
  }
};

/// The inverse's last butterfly, scaled: x + y and x - y times N^-1 and
/// w[1] N^-1 (in `finish`), in [0, p).
CERIUM_AVX2 void lastInverseButterfly(__m256i &x, __m256i &y,
                                      const Finish &finish, __m256i p,
                                      __m256i twoP) {
  __m256i u = _mm256_add_epi32(x, y);
  __m256i v = _mm256_add_epi32(_mm256_sub_epi32(x, y), twoP);
  x = reduceOnce(mulShoupLazy(u, finish.nInv, p), p);
  y = reduceOnce(mulShoupLazy(v, finish.last, p), p);
}

/// One stage with `m` groups of span `half` (>= 8): whole vectors, one
/// broadcast twiddle per group.
template <bool Forward>
CERIUM_AVX2 void wideStage(uint32_t *a, size_t m, size_t half,
                           const uint32_t *w, const uint32_t *wq, __m256i p,
                           __m256i twoP, const Finish &finish) {
  for (size_t i = 0; i < m; ++i) {
    const Twiddle t = broadcast(w, wq, m + i);
    uint32_t *xs = a + 2 * i * half, *ys = xs + half;
    for (size_t j = 0; j < half; j += 8) {
      __m256i x = load(xs + j), y = load(ys + j);
      if constexpr (Forward)
        forwardButterfly(x, y, t, p, twoP);
      else if (finish.kind == Finish::ScaleInLast)
        lastInverseButterfly(x, y, finish, p, twoP);
      else
        inverseButterfly(x, y, t, p, twoP);
      store(xs + j, finish.apply(x, p, twoP));
      store(ys + j, finish.apply(y, p, twoP));
    }
  }
}

/// One block of a stage pair: the four vectors at p0 + k * stride
/// (k = 0..3) through two stages. Forward: (0,2) and (1,3) with twiddle a,
/// then (0,1) with b and (2,3) with c. Inverse: (0,1) with a and (2,3) with
/// b, then (0,2) and (1,3) with c. The butterflies and their order are
/// those of the two stages one after the other.
template <bool Forward>
CERIUM_AVX2 void stagePairBlock(uint32_t *p0, size_t stride, const Twiddle &a,
                                const Twiddle &b, const Twiddle &c, __m256i p,
                                __m256i twoP, const Finish &finish) {
  __m256i x0 = load(p0), x1 = load(p0 + stride), x2 = load(p0 + 2 * stride),
          x3 = load(p0 + 3 * stride);
  if constexpr (Forward) {
    forwardButterfly(x0, x2, a, p, twoP);
    forwardButterfly(x1, x3, a, p, twoP);
    forwardButterfly(x0, x1, b, p, twoP);
    forwardButterfly(x2, x3, c, p, twoP);
  } else {
    inverseButterfly(x0, x1, a, p, twoP);
    inverseButterfly(x2, x3, b, p, twoP);
    if (finish.kind == Finish::ScaleInLast) {
      lastInverseButterfly(x0, x2, finish, p, twoP);
      lastInverseButterfly(x1, x3, finish, p, twoP);
    } else {
      inverseButterfly(x0, x2, c, p, twoP);
      inverseButterfly(x1, x3, c, p, twoP);
    }
  }
  store(p0, finish.apply(x0, p, twoP));
  store(p0 + stride, finish.apply(x1, p, twoP));
  store(p0 + 2 * stride, finish.apply(x2, p, twoP));
  store(p0 + 3 * stride, finish.apply(x3, p, twoP));
}

/// Two forward stages in one pass over memory: `m` groups of span `half`
/// and the next (2m groups, span half / 2 >= 8).
CERIUM_AVX2 void forwardStagePair(uint32_t *a, size_t m, size_t half,
                                  const uint32_t *w, const uint32_t *wq,
                                  __m256i p, __m256i twoP) {
  const size_t quarter = half / 2;
  const Finish none{};
  for (size_t i = 0; i < m; ++i) {
    const Twiddle t1 = broadcast(w, wq, m + i);
    const Twiddle t2 = broadcast(w, wq, 2 * m + 2 * i);
    const Twiddle t3 = broadcast(w, wq, 2 * m + 2 * i + 1);
    uint32_t *base = a + 2 * i * half;
    for (size_t j = 0; j < quarter; j += 8)
      stagePairBlock<true>(base + j, quarter, t1, t2, t3, p, twoP, none);
  }
}

/// Two inverse stages in one pass: span `half` (>= 8, m groups) and the
/// next (span 2 half, m / 2 groups).
CERIUM_AVX2 void inverseStagePair(uint32_t *a, size_t m, size_t half,
                                  const uint32_t *w, const uint32_t *wq,
                                  __m256i p, __m256i twoP,
                                  const Finish &finish) {
  for (size_t k = 0; k < m / 2; ++k) {
    const Twiddle t1 = broadcast(w, wq, m + 2 * k);
    const Twiddle t2 = broadcast(w, wq, m + 2 * k + 1);
    const Twiddle t3 = broadcast(w, wq, m / 2 + k);
    uint32_t *base = a + 4 * k * half;
    for (size_t j = 0; j < half; j += 8)
      stagePairBlock<false>(base + j, half, t1, t2, t3, p, twoP, finish);
  }
}

/// Twiddles table[0..count) placed in lanes by `index` (vpermd).
CERIUM_AVX2 __m256i permuted(const uint32_t *table, __m256i index,
                             size_t count) {
  __m256i t = count == 8   ? load(table)
              : count == 4 ? _mm256_castsi128_si256(_mm_loadu_si128(
                                 reinterpret_cast<const __m128i *>(table)))
                           : _mm256_castsi128_si256(_mm_loadl_epi64(
                                 reinterpret_cast<const __m128i *>(table)));
  return _mm256_permutevar8x32_epi32(t, index);
}
CERIUM_AVX2 Twiddle twiddlesInLanes(const uint32_t *w, const uint32_t *wq,
                                    __m256i index, size_t count) {
  const __m256i q = permuted(wq, index, count);
  return {permuted(w, index, count), q, _mm256_srli_epi64(q, 32)};
}

CERIUM_AVX2 __m256i shuffleEven(__m256i x, __m256i y) {
  return _mm256_castps_si256(_mm256_shuffle_ps(
      _mm256_castsi256_ps(x), _mm256_castsi256_ps(y), _MM_SHUFFLE(2, 0, 2, 0)));
}
CERIUM_AVX2 __m256i shuffleOdd(__m256i x, __m256i y) {
  return _mm256_castps_si256(_mm256_shuffle_ps(
      _mm256_castsi256_ps(x), _mm256_castsi256_ps(y), _MM_SHUFFLE(3, 1, 3, 1)));
}

/// The four narrowest stages (spans 8, 4, 2, 1) in one pass, for N = 16
/// and 32 (larger transforms take blockStages): each 16-word block a0..a7
/// b0..b7 goes through all of them in registers. Between stages the words
/// move with one or two shuffles, so a butterfly's operands may sit in any
/// lanes; its twiddle is permuted into the same lane. Forward runs the
/// stages from span 8 down and finishes with `finish`; inverse from span 1
/// up.
template <bool Forward>
CERIUM_AVX2 void narrowStages(uint32_t *a, size_t n, const uint32_t *w,
                              const uint32_t *wq, __m256i p, __m256i twoP,
                              const Finish &finish) {
  // Groups of the stages with spans 8, 4, 2, 1.
  const size_t m8 = n / 16, m4 = n / 8, m2 = n / 4, m1 = n / 2;
  const __m256i quads = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
  for (size_t blk = 0; blk < m8; ++blk) {
    uint32_t *block = a + 16 * blk;
    __m256i va = load(block), vb = load(block + 8), x, y;
    if constexpr (Forward) {
      // Span 8: (a_j, b_j).
      forwardButterfly(va, vb, broadcast(w, wq, m8 + blk), p, twoP);
      // Span 4: x = a0-3 | b0-3, y = a4-7 | b4-7.
      x = _mm256_permute2x128_si256(va, vb, 0x20);
      y = _mm256_permute2x128_si256(va, vb, 0x31);
      forwardButterfly(
          x, y, twiddlesInLanes(w + m4 + 2 * blk, wq + m4 + 2 * blk, quads, 2),
          p, twoP);
      // Span 2: x = a0 a1 a4 a5 | b0 b1 b4 b5, y = a2 a3 a6 a7 | b2 ...
      const __m256i pairs = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
      __m256i x2 = _mm256_unpacklo_epi64(x, y),
              y2 = _mm256_unpackhi_epi64(x, y);
      forwardButterfly(
          x2, y2,
          twiddlesInLanes(w + m2 + 4 * blk, wq + m2 + 4 * blk, pairs, 4), p,
          twoP);
      // Span 1: x = a0 a4 a2 a6 | b0 b4 b2 b6, y = a1 a5 a3 a7 | b1 ...
      const __m256i singles = _mm256_setr_epi32(0, 2, 1, 3, 4, 6, 5, 7);
      __m256i x1 = shuffleEven(x2, y2), y1 = shuffleOdd(x2, y2);
      forwardButterfly(
          x1, y1,
          twiddlesInLanes(w + m1 + 8 * blk, wq + m1 + 8 * blk, singles, 8), p,
          twoP);
      // Back to memory order, undoing each step.
      x2 = _mm256_unpacklo_epi32(x1, y1);
      y2 = _mm256_unpackhi_epi32(x1, y1);
      x = _mm256_unpacklo_epi64(x2, y2);
      y = _mm256_unpackhi_epi64(x2, y2);
      va = _mm256_permute2x128_si256(x, y, 0x20);
      vb = _mm256_permute2x128_si256(x, y, 0x31);
    } else {
      // Span 1: x = a0 a2 b0 b2 | a4 a6 b4 b6, y = a1 a3 b1 b3 | a5 ...
      const __m256i singles = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
      x = shuffleEven(va, vb);
      y = shuffleOdd(va, vb);
      inverseButterfly(
          x, y,
          twiddlesInLanes(w + m1 + 8 * blk, wq + m1 + 8 * blk, singles, 8), p,
          twoP);
      // Memory order again (a0-7, b0-7), then span 2:
      // x = a0 a1 b0 b1 | a4 a5 b4 b5, y = a2 a3 b2 b3 | a6 ...
      va = _mm256_unpacklo_epi32(x, y);
      vb = _mm256_unpackhi_epi32(x, y);
      const __m256i pairs = _mm256_setr_epi32(0, 0, 2, 2, 1, 1, 3, 3);
      x = _mm256_unpacklo_epi64(va, vb);
      y = _mm256_unpackhi_epi64(va, vb);
      inverseButterfly(
          x, y, twiddlesInLanes(w + m2 + 4 * blk, wq + m2 + 4 * blk, pairs, 4),
          p, twoP);
      // Span 4: x = a0-3 | b0-3, y = a4-7 | b4-7.
      va = _mm256_unpacklo_epi64(x, y);
      vb = _mm256_unpackhi_epi64(x, y);
      x = _mm256_permute2x128_si256(va, vb, 0x20);
      y = _mm256_permute2x128_si256(va, vb, 0x31);
      inverseButterfly(
          x, y, twiddlesInLanes(w + m4 + 2 * blk, wq + m4 + 2 * blk, quads, 2),
          p, twoP);
      // Span 8: (a_j, b_j).
      va = _mm256_permute2x128_si256(x, y, 0x20);
      vb = _mm256_permute2x128_si256(x, y, 0x31);
      inverseButterfly(va, vb, broadcast(w, wq, m8 + blk), p, twoP);
    }
    store(block, finish.apply(va, p, twoP));
    store(block + 8, finish.apply(vb, p, twoP));
  }
}

/// r[i][j] -> r[j][i]: the 8 x 8 words of eight vectors transposed
/// (unpacks of words, of word pairs, then of halves).
CERIUM_AVX2 void transpose8(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int k = 0; k < 4; ++k) {
    t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 2; ++k) {
    u[4 * k] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
    u[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
    u[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
    u[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x20);
    r[k + 4] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x31);
  }
}

/// Words of a block's lane twiddles (laneTwiddles): span 2's two vectors
/// and span 1's four, each as twiddles then quotients.
constexpr size_t kLaneTwiddleWords = 2 * 6 * 8;

/// The twiddles of blockStages' transposed stages, block by block in the
/// order it reads them: after the transpose, lane i of a 64-word block
/// holds words 8i..8i+7 and vector j word j of each, so span 2's butterfly
/// on lane i takes group 16b + 2i + (j >> 2) and span 1's 32b + 4i +
/// (j >> 1) (span 4's, 8b + i, are contiguous in the table already).
/// Made once per (prime, root, size) and kept: 3/4 N words of each table.
const uint32_t *laneTwiddles(const PrimeTables &t, unsigned logN,
                             bool forward) {
  using Key = std::tuple<uint32_t, uint32_t, unsigned, bool>;
  static std::mutex mutex;
  static std::map<Key, std::unique_ptr<std::vector<uint32_t>>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto &entry = cache[Key{t.modulus.value, t.psi, logN, forward}];
  if (!entry) {
    const size_t n = size_t(1) << logN, blocks = n / 64;
    const uint32_t *w =
        forward ? t.forwardTwiddles.data() : t.inverseTwiddles.data();
    const uint32_t *wq =
        forward ? t.forwardTwiddlesShoup.data() : t.inverseTwiddlesShoup.data();
    auto table =
        std::make_unique<std::vector<uint32_t>>(blocks * kLaneTwiddleWords);
    for (size_t b = 0; b < blocks; ++b)
      for (size_t v = 0; v < 6; ++v)
        for (size_t i = 0; i < 8; ++i) {
          const size_t g = v < 2 ? n / 4 + 16 * b + 2 * i + v
                                 : n / 2 + 32 * b + 4 * i + (v - 2);
          uint32_t *out = table->data() + b * kLaneTwiddleWords + 16 * v + i;
          out[0] = w[g];
          out[8] = wq[g];
        }
    entry = std::move(table);
  }
  return entry->data();
}

/// How far ahead blockStages fetches its lane twiddles, in blocks.
constexpr size_t kPrefetchBlocks = 8;

/// The six narrowest stages (spans 32 down to 1) in one pass over 64-word
/// blocks: eight vectors of 8 words; spans 32, 16, 8 between whole vectors
/// with broadcast twiddles, then the block transposed so that spans 4, 2, 1
/// are between whole vectors too, their twiddles in lanes (laneTwiddles),
/// and transposed back. Forward runs spans 32 down to 1, inverse 1 up to
/// 32; `finish` applies to every word stored.
template <bool Forward>
CERIUM_AVX2 void blockStages(uint32_t *a, size_t n, const uint32_t *w,
                             const uint32_t *wq, const uint32_t *lanes,
                             __m256i p, __m256i twoP, const Finish &finish) {
  const size_t m32 = n / 64, m16 = n / 32, m8 = n / 16, m4 = n / 8;
  for (size_t b = 0; b < m32; ++b, lanes += kLaneTwiddleWords) {
    uint32_t *block = a + 64 * b;
    // The lane twiddles stream from memory once per transform (each prime
    // has its own), and a block's loads of them stalled it: fetched
    // kPrefetchBlocks blocks ahead.
    if (b + kPrefetchBlocks < m32)
      for (size_t k = 0; k < kLaneTwiddleWords; k += 16)
        _mm_prefetch(reinterpret_cast<const char *>(
                         lanes + kPrefetchBlocks * kLaneTwiddleWords + k),
                     _MM_HINT_T0);
    __m256i r[8];
    for (int i = 0; i < 8; ++i)
      r[i] = load(block + 8 * i);
    if constexpr (Forward) {
      const Twiddle t32 = broadcast(w, wq, m32 + b);
      for (int i = 0; i < 4; ++i)
        forwardButterfly(r[i], r[i + 4], t32, p, twoP);
      for (int h = 0; h < 2; ++h) {
        const Twiddle t16 = broadcast(w, wq, m16 + 2 * b + h);
        forwardButterfly(r[4 * h], r[4 * h + 2], t16, p, twoP);
        forwardButterfly(r[4 * h + 1], r[4 * h + 3], t16, p, twoP);
      }
      for (int q = 0; q < 4; ++q)
        forwardButterfly(r[2 * q], r[2 * q + 1],
                         broadcast(w, wq, m8 + 4 * b + q), p, twoP);
      transpose8(r);
      const Twiddle t4 = inLanes(w + m4 + 8 * b, wq + m4 + 8 * b);
      for (int j = 0; j < 4; ++j)
        forwardButterfly(r[j], r[j + 4], t4, p, twoP);
      for (int h = 0; h < 2; ++h) {
        const Twiddle t2 = inLanes(lanes + 16 * h, lanes + 16 * h + 8);
        forwardButterfly(r[4 * h], r[4 * h + 2], t2, p, twoP);
        forwardButterfly(r[4 * h + 1], r[4 * h + 3], t2, p, twoP);
      }
      for (int q = 0; q < 4; ++q)
        forwardButterfly(r[2 * q], r[2 * q + 1],
                         inLanes(lanes + 32 + 16 * q, lanes + 40 + 16 * q), p,
                         twoP);
      for (int i = 0; i < 8; ++i)
        r[i] = finish.apply(r[i], p, twoP);
      transpose8(r);
    } else {
      transpose8(r);
      for (int q = 0; q < 4; ++q)
        inverseButterfly(r[2 * q], r[2 * q + 1],
                         inLanes(lanes + 32 + 16 * q, lanes + 40 + 16 * q), p,
                         twoP);
      for (int h = 0; h < 2; ++h) {
        const Twiddle t2 = inLanes(lanes + 16 * h, lanes + 16 * h + 8);
        inverseButterfly(r[4 * h], r[4 * h + 2], t2, p, twoP);
        inverseButterfly(r[4 * h + 1], r[4 * h + 3], t2, p, twoP);
      }
      const Twiddle t4 = inLanes(w + m4 + 8 * b, wq + m4 + 8 * b);
      for (int j = 0; j < 4; ++j)
        inverseButterfly(r[j], r[j + 4], t4, p, twoP);
      transpose8(r);
      for (int q = 0; q < 4; ++q)
        inverseButterfly(r[2 * q], r[2 * q + 1],
                         broadcast(w, wq, m8 + 4 * b + q), p, twoP);
      for (int h = 0; h < 2; ++h) {
        const Twiddle t16 = broadcast(w, wq, m16 + 2 * b + h);
        inverseButterfly(r[4 * h], r[4 * h + 2], t16, p, twoP);
        inverseButterfly(r[4 * h + 1], r[4 * h + 3], t16, p, twoP);
      }
      const Twiddle t32 = broadcast(w, wq, m32 + b);
      for (int i = 0; i < 4; ++i)
        inverseButterfly(r[i], r[i + 4], t32, p, twoP);
      for (int i = 0; i < 8; ++i)
        r[i] = finish.apply(r[i], p, twoP);
    }
    for (int i = 0; i < 8; ++i)
      store(block + 8 * i, r[i]);
  }
}

} // namespace

// Forward: stage pairs while both spans are >= 64 words, a single stage of
// span 64 if one is left, then the six narrow stages with the final
// reduction in one pass: 6 passes over memory at N = 2^16 instead of 16.
// N = 16 and 32 take the four-stage narrow pass instead.
__attribute__((target("avx2"))) void
nttForwardAvx2(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 16)
    return nttForwardPortable(a, t, logN);
  const __m256i p = _mm256_set1_epi32(static_cast<int>(t.modulus.value));
  const __m256i twoP = _mm256_add_epi32(p, p);
  const uint32_t *w = t.forwardTwiddles.data();
  const uint32_t *wq = t.forwardTwiddlesShoup.data();
  const Finish none{}, reduce{Finish::Reduce, {}, {}};
  if (n < 64) {
    if (n == 32)
      wideStage<true>(a, 1, 16, w, wq, p, twoP, none);
    narrowStages<true>(a, n, w, wq, p, twoP, reduce);
    return;
  }
  const uint32_t *lanes = laneTwiddles(t, logN, true);
  size_t m = 1, half = n >> 1;
  for (; half >= 128; m <<= 2, half >>= 2)
    forwardStagePair(a, m, half, w, wq, p, twoP);
  if (half == 64)
    wideStage<true>(a, m, half, w, wq, p, twoP, none);
  blockStages<true>(a, n, w, wq, lanes, p, twoP, reduce);
}

// Inverse: the six narrow stages in one pass, then stage pairs up to span
// n/2 (the last a single stage where an odd number is left); the last pass
// also scales by N^-1.
__attribute__((target("avx2"))) void
nttInverseAvx2(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  if (n < 16)
    return nttInversePortable(a, t, logN);
  const __m256i p = _mm256_set1_epi32(static_cast<int>(t.modulus.value));
  const __m256i twoP = _mm256_add_epi32(p, p);
  const uint32_t *w = t.inverseTwiddles.data();
  const uint32_t *wq = t.inverseTwiddlesShoup.data();
  const Finish none{};
  const __m256i nInvQ =
      _mm256_set1_epi32(static_cast<int>(t.degreeInverseShoup));
  const Twiddle nInv{_mm256_set1_epi32(static_cast<int>(t.degreeInverse)),
                     nInvQ, nInvQ};
  const Finish scale{Finish::Scale, nInv, {}};
  if (n < 64) {
    narrowStages<false>(a, n, w, wq, p, twoP, n == 16 ? scale : none);
    if (n == 32)
      wideStage<false>(a, 1, 16, w, wq, p, twoP, scale);
    return;
  }
  const uint32_t *lanes = laneTwiddles(t, logN, false);
  if (n == 64) {
    blockStages<false>(a, n, w, wq, lanes, p, twoP, scale);
    return;
  }
  blockStages<false>(a, n, w, wq, lanes, p, twoP, none);
  const uint32_t pv = t.modulus.value;
  const uint32_t wN = static_cast<uint32_t>(uint64_t(w[1]) * t.degreeInverse %
                                            pv),
                 wNq = modarith::shoupQuotient(wN, pv);
  const Finish scaleInLast{Finish::ScaleInLast,
                           nInv,
                           {_mm256_set1_epi32(static_cast<int>(wN)),
                            _mm256_set1_epi32(static_cast<int>(wNq)),
                            _mm256_set1_epi32(static_cast<int>(wNq))}};
  // m is 2^(logN - 7): pairs until one pair (even logN) or one stage (odd)
  // is left.
  size_t m = n >> 7, half = 64;
  for (; m > 2; m >>= 2, half <<= 2)
    inverseStagePair(a, m, half, w, wq, p, twoP, none);
  if (m == 2)
    inverseStagePair(a, m, half, w, wq, p, twoP, scaleInLast);
  else
    wideStage<false>(a, m, half, w, wq, p, twoP, scaleInLast);
}

} // namespace cerium::kernels::cpu
