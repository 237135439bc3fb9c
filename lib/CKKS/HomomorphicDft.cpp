//===- HomomorphicDft.cpp - CoeffToSlot / SlotToCoeff matrices ------------===//

#include "cerium/CKKS/HomomorphicDft.h"
#include "cerium/Support/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cerium::ckks {

using Complex = std::complex<double>;

std::vector<Complex> SlotMatrix::apply(std::span<const Complex> x) const {
  if (x.size() != slots)
    throw Error(
        fmt::format("a {}-slot matrix applied to {} values", slots, x.size()));
  const size_t n = slots;
  std::vector<Complex> y(n);
  for (const auto &[r, d] : diagonals)
    for (size_t k = 0; k < n; ++k)
      y[k] += d[k] * x[(k + size_t(r)) % n];
  return y;
}

static bool isZero(const std::vector<Complex> &d) {
  return std::all_of(d.begin(), d.end(),
                     [](Complex v) { return v == Complex(0); });
}

static void dropZeroDiagonals(SlotMatrix &m) {
  std::erase_if(m.diagonals, [](const auto &e) { return isZero(e.second); });
}

SlotMatrix compose(const SlotMatrix &a, const SlotMatrix &b) {
  if (a.slots != b.slots)
    throw Error(fmt::format("cannot compose a {}-slot matrix with a {}-slot "
                            "matrix",
                            a.slots, b.slots));
  const size_t n = a.slots;
  SlotMatrix c{n, {}};
  // rotate(b_s ⊙ rotate(x, s), r)[k] = b_s[k + r] x[k + r + s].
  for (const auto &[r, da] : a.diagonals)
    for (const auto &[s, db] : b.diagonals) {
      auto &dc = c.diagonals[int64_t((size_t(r) + size_t(s)) % n)];
      dc.resize(n);
      for (size_t k = 0; k < n; ++k)
        dc[k] += da[k] * db[(k + size_t(r)) % n];
    }
  dropZeroDiagonals(c);
  return c;
}

// Beyond 2^26 slots no factor fits the size bound anyway.
static size_t slotCount(unsigned logSlots) {
  if (logSlots > 26)
    throw Error(
        fmt::format("2^{} slots are too many for a homomorphic DFT", logSlots));
  return size_t(1) << logSlots;
}

std::vector<size_t> dftSlotPermutation(unsigned logSlots) {
  const size_t n = slotCount(logSlots);
  std::vector<size_t> perm(n, 0);
  for (size_t k = 0; k < n; ++k)
    for (unsigned b = 0; b < logSlots; ++b)
      if (k >> b & 1)
        perm[k] |= size_t(1) << (logSlots - 1 - b);
  return perm;
}

std::set<int64_t> rotationOffsets(std::span<const SlotMatrix> factors) {
  std::set<int64_t> offsets;
  for (const SlotMatrix &f : factors)
    for (const auto &[r, d] : f.diagonals)
      if (r != 0)
        offsets.insert(r);
  return offsets;
}

// exp(2 pi i k / m), evaluated in long double so the result is the correctly
// rounded root in practice.
static Complex unitRoot(uint64_t k, uint64_t m) {
  long double angle = 2 * std::acos(-1.0L) * static_cast<long double>(k) /
                      static_cast<long double>(m);
  return {static_cast<double>(std::cos(angle)),
          static_cast<double>(std::sin(angle))};
}

// Butterfly stage s (half-width h = 2^s) of the special FFT with the input
// already bit-reversed: for a block of length 2h and position j < h,
//   y[j] = x[j] + w_j x[j + h],  y[j + h] = x[j] - w_j x[j + h],
// w_j = exp(2 pi i (5^j mod 8h) / 8h). The inverse halves the sum and
// difference and undoes the twiddle with its conjugate.
static SlotMatrix butterflyStage(size_t n, unsigned s, bool inverse) {
  const size_t h = size_t(1) << s, period = 8 * h;
  SlotMatrix m{n, {}};
  auto &d0 = m.diagonals[0], &up = m.diagonals[int64_t(h % n)],
       &down = m.diagonals[int64_t((n - h) % n)];
  d0.resize(n);
  up.resize(n);
  down.resize(n); // the same diagonal as `up` when h = n/2
  uint64_t rot = 1;
  for (size_t j = 0; j < h; ++j, rot = rot * 5 % period) {
    Complex w = unitRoot(rot, period);
    for (size_t base = 0; base < n; base += 2 * h) {
      const size_t lo = base + j, hi = lo + h;
      if (!inverse) {
        d0[lo] += 1.0;
        up[lo] += w;
        down[hi] += 1.0;
        d0[hi] += -w;
      } else {
        d0[lo] += 0.5;
        up[lo] += 0.5;
        down[hi] += 0.5 * std::conj(w);
        d0[hi] += -0.5 * std::conj(w);
      }
    }
  }
  dropZeroDiagonals(m);
  return m;
}

// Stage counts per SlotToCoeff factor, narrowest stages first.
static std::vector<unsigned> groupSizes(unsigned logSlots, unsigned levels) {
  const size_t n = slotCount(logSlots);
  const unsigned maxLevels = std::max(logSlots, 1u);
  if (levels < 1 || levels > maxLevels)
    throw Error(fmt::format("a homomorphic DFT over 2^{} slots takes 1 to {} "
                            "levels, not {}",
                            logSlots, maxLevels, levels));
  std::vector<unsigned> sizes(levels, logSlots / levels);
  for (unsigned g = levels - logSlots % levels; g < levels; ++g)
    ++sizes[g];
  // A group of r stages has at most 2^(r+1) - 1 diagonals, and at most n.
  for (unsigned r : sizes) {
    const size_t bound = std::min(n, (size_t(1) << (r + 1)) - 1);
    if (bound > (size_t(1) << 26) / n)
      throw Error(fmt::format("a homomorphic DFT factor over 2^{} slots with "
                              "{} stages is too dense; use more levels",
                              logSlots, r));
  }
  return sizes;
}

static SlotMatrix identityTimes(size_t n, double scale) {
  SlotMatrix m{n, {}};
  m.diagonals[0].assign(n, Complex(scale));
  dropZeroDiagonals(m);
  return m;
}

static void scaleBy(SlotMatrix &m, double scale) {
  for (auto &[r, d] : m.diagonals)
    for (auto &v : d)
      v *= scale;
  dropZeroDiagonals(m);
}

// The factors of SlotToCoeff (inverse = false), or of CoeffToSlot, in
// application order.
static std::vector<SlotMatrix> dftFactors(unsigned logSlots, unsigned levels,
                                          double scale, bool inverse) {
  std::vector<unsigned> sizes = groupSizes(logSlots, levels);
  const size_t n = size_t(1) << logSlots;
  if (n == 1)
    return {identityTimes(1, scale)};
  std::vector<SlotMatrix> factors;
  unsigned first = 0;
  for (unsigned r : sizes) {
    SlotMatrix group = butterflyStage(n, first, inverse);
    for (unsigned s = first + 1; s < first + r; ++s) {
      SlotMatrix stage = butterflyStage(n, s, inverse);
      // Forward stages run narrowest first; their inverses widest first.
      group = inverse ? compose(group, stage) : compose(stage, group);
    }
    factors.push_back(std::move(group));
    first += r;
  }
  if (inverse)
    std::reverse(factors.begin(), factors.end());
  scaleBy(factors.front(), scale);
  return factors;
}

std::vector<SlotMatrix> coeffsToSlotsFactors(unsigned logSlots, unsigned levels,
                                             double scale) {
  return dftFactors(logSlots, levels, scale, /*inverse=*/true);
}

std::vector<SlotMatrix> slotsToCoeffsFactors(unsigned logSlots, unsigned levels,
                                             double scale) {
  return dftFactors(logSlots, levels, scale, /*inverse=*/false);
}

} // namespace cerium::ckks
