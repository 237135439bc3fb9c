//===- Encoder.h - Canonical-embedding encoder ------------------*- C++ -*-===//
//
// CKKS encoding: n = slots complex values z are mapped to the real polynomial
// m(X) with m(zeta^(5^j)) = z_j (zeta = exp(i pi / N)), scaled by Delta and
// rounded. With sparse slots (n < N/2), m(X) = m'(X^(N / 2n)) so the same
// values repeat N / 2n times. The O(n log n) special FFT over the rotation
// group 5^j does the embedding in both directions.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CKKS_ENCODER_H
#define CERIUM_CKKS_ENCODER_H

#include "cerium/CKKS/Ciphertext.h"

#include <complex>
#include <optional>
#include <span>
#include <vector>

namespace cerium::ckks {

class Encoder {
public:
  explicit Encoder(ParamsPtr params);
  /// An encoder for `slots` slots (a power of two up to N/2) instead of the
  /// parameter set's: vectors of period `slots` in the ring's N/2 slots
  /// (e.g. a mask telling two halves of 2n slots apart in a program of n).
  Encoder(ParamsPtr params, size_t slots);
  size_t slotCount() const { return slots; }

  /// Encodes up to slots() values (the rest are zero) at `scale` on the
  /// primes of `level`. Throws cerium::Error if a scaled coefficient does not
  /// lie within half the level's modulus (on a device backend: within 2^62).
  Plaintext encode(std::span<const std::complex<double>> values, double scale,
                   unsigned level, kernels::RnsBackend &backend) const;
  Plaintext encode(std::span<const double> values, double scale, unsigned level,
                   kernels::RnsBackend &backend) const;
  /// The same encoding written into each of `parts`: limbs over any primes
  /// of `level` (NTT form, in host memory), e.g. the runs of limbs one
  /// process of a partitioned run owns. The slots' transform is done once
  /// for all.
  void encodeInto(std::span<const std::complex<double>> values, double scale,
                  unsigned level, std::span<const kernels::Limbs> parts,
                  kernels::RnsBackend &backend) const;
  /// What encodeInto transforms: the scaled, rounded coefficients of the
  /// polynomial in X^(N / M), M = 2 x the vector's shortest power-of-two
  /// period (nttForwardSigned's operand; the slot transform on `threads`
  /// threads). A plaintext kept in this form takes 8 M bytes.
  std::vector<int64_t>
  signedCoefficients(std::span<const std::complex<double>> values, double scale,
                     int threads) const;
  /// signedCoefficients, or nothing where a coefficient is past 2^62 (which
  /// only encodeInto, on host limbs, can write).
  std::optional<std::vector<int64_t>>
  trySignedCoefficients(std::span<const std::complex<double>> values,
                        double scale, int threads) const;
  std::vector<std::complex<double>> decode(const Plaintext &pt,
                                           kernels::RnsBackend &backend) const;

  /// The unscaled real coefficients of the polynomial whose slots are
  /// `values` (exposed for tests).
  std::vector<double>
  slotsToCoefficients(std::span<const std::complex<double>> values) const;
  /// Slots of the polynomial with real coefficients `coeffs` (N of them).
  std::vector<std::complex<double>>
  coefficientsToSlots(std::span<const double> coeffs) const;

  /// Exact centered lift of RNS coefficients (coefficient domain) to reals,
  /// by Garner's mixed-radix conversion over the primes of the view.
  static std::vector<long double> liftCentered(const kernels::RnsContext &ctx,
                                               kernels::ConstLimbs coeffs);

  const Params &params() const { return *p; }

  /// The shortest period q (a power of two, at most `slots`) of `values`
  /// zero-padded to `slots`: an encoder for `slots` makes their polynomial
  /// one in X^(N / 2q), with 2q coefficients that may be nonzero
  /// (signedCoefficients' length).
  static size_t period(std::span<const std::complex<double>> values,
                       size_t slots);

private:
  void fft(std::vector<std::complex<double>> &v) const;
  /// signedCoefficients as doubles, of any magnitude (integers, rounded).
  std::vector<double>
  scaledCoefficients(std::span<const std::complex<double>> values, double scale,
                     int threads) const;
  /// Finds the shortest period q (a power of two) of `values` (zero-padded
  /// to the slots), and calls f(k, c) for each coefficient c of the
  /// polynomial whose slots they are that may be nonzero: the 2q
  /// coefficients N / (2q) apart (k the index among them); the others are
  /// 0. Returns q. The inverse special FFT (of one period) is read in its
  /// bit-reversed order rather than permuted; its butterflies run on
  /// `threads` threads.
  template <class F>
  size_t forEachCoefficient(std::span<const std::complex<double>> values, F f,
                            int threads) const;

  ParamsPtr p;
  size_t slots;
  std::vector<uint32_t> rotationGroup;     // 5^j mod 2N
  std::vector<std::complex<double>> roots; // exp(2 pi i k / 2N), k <= 2N
  /// The inverse FFT's twiddles, stage after stage in the order its
  /// butterflies read them (slots - 1 of them): no index arithmetic or
  /// scattered loads in the loop that every encoded constant runs.
  std::vector<std::complex<double>> inverseTwiddles;
  std::vector<uint32_t> bitReversed; // bitReverse(i, log2 slots), i < slots
};

} // namespace cerium::ckks

#endif // CERIUM_CKKS_ENCODER_H
