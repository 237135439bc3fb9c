//===- HomomorphicDft.h - CoeffToSlot / SlotToCoeff matrices ----*- C++ -*-===//
//
// The linear maps of CKKS bootstrapping between the slots z of a message and
// its coefficients, as a few sparse matrices in diagonal form.
//
// For n slots the encoder's polynomial is m(X) = m'(X^(N/2n)) with m' real of
// degree < 2n, and z_j = m'(xi_j), xi_j = exp(2 pi i 5^j / 4n). Since
// xi_j^n = i, z_j = sum_k w_k xi_j^k with w_k = t_k + i t_(k+n) (t the
// coefficients of m'): z = V w, a map that depends only on n.
//
// The encoder's special FFT computes V as a bit-reversal permutation followed
// by log2(n) butterfly stages; stage s (half-width h = 2^s) only touches
// diagonals 0, +h and -h. Leaving the permutation out, the stages are grouped
// into `levels` factors, so both maps work on w in bit-reversed order:
//
//   w'[k] = t[perm(k)] + i t[perm(k) + n],  perm = bit reversal of log2(n) bits
//
//   SlotToCoeff: z = V w   evaluated as  scale * z = F_levels ... F_1 w'
//   CoeffToSlot: the inverse, scale * w' = G_levels ... G_1 z
//
// Grouping: log2(n) stages split into `levels` consecutive groups of
// floor(log2(n) / levels) or one more stages; the larger groups hold the
// widest stages (a group ending at the widest stage folds +h and -h offsets
// together mod n, so it has 2^r diagonals instead of 2^(r+1) - 1). SlotToCoeff
// applies the narrowest stages first, CoeffToSlot the widest (its factors are
// the inverses in reverse order). `scale` is folded into the first factor
// applied.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CKKS_HOMOMORPHICDFT_H
#define CERIUM_CKKS_HOMOMORPHICDFT_H

#include <complex>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <vector>

namespace cerium::ckks {

/// A linear map on n complex slots in the diagonal form the homomorphic
/// evaluation uses: y = sum_r diagonals[r] ⊙ rotate(x, r), where
/// rotate(x, r)[k] = x[(k + r) mod n] (left rotation) and r in [0, n).
struct SlotMatrix {
  size_t slots = 0;
  std::map<int64_t, std::vector<std::complex<double>>> diagonals;

  /// Throws cerium::Error unless x has `slots` entries.
  std::vector<std::complex<double>>
  apply(std::span<const std::complex<double>> x) const;
};

/// a ∘ b (apply b first, then a), in diagonal form; diagonals that come out
/// exactly zero are dropped. Throws cerium::Error if the slot counts differ.
SlotMatrix compose(const SlotMatrix &a, const SlotMatrix &b);

/// CoeffToSlot over n = 2^logSlots slots as `levels` factors, applied first
/// to last (each costs one multiplicative level). Applied to the slots z of
/// a real polynomial t of degree < 2n (the encoder's, unscaled) they give
/// scale * w', w'[k] = t[perm(k)] + i t[perm(k) + n], perm as
/// dftSlotPermutation. levels must be in [1, logSlots]; n = 1 takes
/// levels = 1 and is scale times the identity. Throws cerium::Error for other
/// levels, or if a factor would exceed 2^26 complex entries (too dense: use
/// more levels).
std::vector<SlotMatrix> coeffsToSlotsFactors(unsigned logSlots, unsigned levels,
                                             double scale);

/// SlotToCoeff, the inverse map: the factors applied to w' (same perm) give
/// scale * z. Same constraints as coeffsToSlotsFactors.
std::vector<SlotMatrix> slotsToCoeffsFactors(unsigned logSlots, unsigned levels,
                                             double scale);

/// perm[k] for the factors above: the bit reversal of k over logSlots bits.
std::vector<size_t> dftSlotPermutation(unsigned logSlots);

/// The distinct nonzero rotation offsets over all factors' diagonals (the
/// rotations a diagonal-by-diagonal evaluation needs; offset 0 needs none).
std::set<int64_t> rotationOffsets(std::span<const SlotMatrix> factors);

} // namespace cerium::ckks

#endif // CERIUM_CKKS_HOMOMORPHICDFT_H
