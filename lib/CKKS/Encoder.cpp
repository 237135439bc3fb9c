//===- Encoder.cpp - Canonical-embedding encoder --------------------------===//

#include "cerium/CKKS/Encoder.h"
#include "cerium/Support/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace cerium::ckks {

using kernels::ConstLimbs;
using kernels::Limbs;
using namespace modarith;

Encoder::Encoder(ParamsPtr params) : Encoder(params, params->slots()) {}

Encoder::Encoder(ParamsPtr params, size_t slotCount)
    : p(std::move(params)), slots(slotCount) {
  if (slots < 1 || slots > p->degree() / 2 || (slots & (slots - 1)))
    throw Error(fmt::format("an encoder for {} slots: not a power of two up "
                            "to N/2 = {}",
                            slots, p->degree() / 2));
  const size_t m = 2 * p->degree();
  rotationGroup.resize(slots);
  uint64_t g = 1;
  for (size_t j = 0; j < slots; ++j, g = g * 5 % m)
    rotationGroup[j] = static_cast<uint32_t>(g);
  roots.resize(m + 1);
  for (size_t k = 0; k <= m; ++k) {
    double angle = 2 * M_PI * double(k) / double(m);
    roots[k] = {std::cos(angle), std::sin(angle)};
  }
  for (size_t len = slots; len >= 2; len >>= 1) {
    const size_t half = len >> 1, period = len << 2, stride = m / period;
    for (size_t j = 0; j < half; ++j)
      inverseTwiddles.push_back(
          roots[(period - rotationGroup[j] % period) * stride]);
  }
  const auto logSlots = static_cast<unsigned>(std::countr_zero(slots));
  bitReversed.resize(slots);
  for (size_t i = 0; i < slots; ++i)
    bitReversed[i] = kernels::bitReverse(static_cast<uint32_t>(i), logSlots);
}

static void bitReversePermute(std::vector<std::complex<double>> &v) {
  const size_t n = v.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j)
      std::swap(v[i], v[j]);
  }
}

// Evaluation at zeta^(5^j): a radix-2 FFT whose twiddle for position j of a
// length-`len` block is zeta^(5^j mod 4 len) scaled to the 2N-th roots.
void Encoder::fft(std::vector<std::complex<double>> &v) const {
  const size_t n = v.size(), m = 2 * p->degree();
  bitReversePermute(v);
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t half = len >> 1, period = len << 2, stride = m / period;
    for (size_t i = 0; i < n; i += len)
      for (size_t j = 0; j < half; ++j) {
        auto w = roots[(rotationGroup[j] % period) * stride];
        auto u = v[i + j], t = v[i + j + half] * w;
        v[i + j] = u + t;
        v[i + j + half] = u - t;
      }
  }
}

/// One stage's butterflies x_j, y_j -> x_j + y_j, (x_j - y_j) w_j for
/// j < count, also compiled for AVX2 (two complex values per vector: 1.5x
/// at 2^15 slots). Without FMA contraction (which -mavx2 does not enable)
/// both clones compute the same products and sums, so the coefficients are
/// the same bits.
__attribute__((target_clones("avx2", "default"))) static void
butterflies(std::complex<double> *x, std::complex<double> *y,
            const std::complex<double> *w, size_t count) {
  for (size_t j = 0; j < count; ++j) {
    // (x - y) w spelled out: std::complex's product, whose NaN recovery
    // only matters once values overflow (and the scaled coefficients' bound
    // rejects those), in a form that vectorizes.
    const double re = x[j].real() - y[j].real();
    const double im = x[j].imag() - y[j].imag();
    x[j] += y[j];
    y[j] = {re * w[j].real() - im * w[j].imag(),
            re * w[j].imag() + im * w[j].real()};
  }
}

/// forEachCoefficient's butterflies on v[0, n) with its twiddles, stage
/// after stage (the twiddles of a stage are the same in every block).
static void inverseButterflies(std::complex<double> *v, size_t n,
                               const std::complex<double> *w) {
  for (size_t len = n; len >= 2; len >>= 1) {
    const size_t half = len >> 1;
    for (size_t i = 0; i < n; i += len)
      butterflies(v + i, v + i + half, w, half);
    w += half;
  }
}

/// The same on `threads` threads: the first stages, whose blocks are fewer
/// than the threads, split each block's butterflies among them; then every
/// block is a transform of its own (same twiddles from that stage on), one
/// per thread. The same operations as inverseButterflies, so the same bits.
static void inverseButterfliesOnThreads(std::complex<double> *v, size_t n,
                                        const std::complex<double> *w,
                                        int threads) {
  // Below this a transform is too short to pay for waking threads.
  constexpr size_t kLeast = 4096;
  size_t blocks = 1;
  for (; blocks < size_t(threads) && n / blocks >= kLeast; blocks *= 2) {
    const size_t len = n / blocks, half = len / 2;
    const size_t pieces = size_t(threads) / blocks,
                 piece = (half + pieces - 1) / pieces;
#pragma omp parallel for num_threads(threads)
    for (size_t t = 0; t < blocks * pieces; ++t) {
      const size_t i = (t / pieces) * len, j = (t % pieces) * piece;
      if (j < half)
        butterflies(v + i + j, v + i + half + j, w + j,
                    std::min(piece, half - j));
    }
    w += half;
  }
#pragma omp parallel for num_threads(threads) if (blocks > 1)
  for (size_t b = 0; b < blocks; ++b)
    inverseButterflies(v + b * (n / blocks), n / blocks, w);
}

size_t Encoder::period(std::span<const std::complex<double>> values,
                       size_t slots) {
  auto at = [&](size_t i) {
    return i < values.size() ? values[i] : std::complex<double>();
  };
  // Halving while the first 2 * half values repeat with period half: the
  // vector is already periodic with the step before's period.
  size_t q = slots;
  for (size_t half = slots / 2; half >= 1; half /= 2) {
    bool periodic = true;
    for (size_t i = half; i < 2 * half && periodic; ++i)
      periodic = at(i) == at(i - half);
    if (!periodic)
      break;
    q = half;
  }
  return q;
}

template <class F>
size_t Encoder::forEachCoefficient(std::span<const std::complex<double>> values,
                                   F f, int threads) const {
  if (values.size() > slots)
    throw Error(
        fmt::format("{} values do not fit {} slots", values.size(), slots));
  // The polynomial of a vector of period q is one in X^(N / 2q), whose 2q
  // coefficients the size-q transform of one period gives (the sparse
  // packing of q slots). The twiddles of the stages of length <= q are the
  // table's last q - 1.
  const size_t q = period(values, slots);
  auto at = [&](size_t i) {
    return i < values.size() ? values[i] : std::complex<double>();
  };
  std::vector<std::complex<double>> v(q);
  for (size_t i = 0; i < q; ++i)
    v[i] = at(i);
  inverseButterfliesOnThreads(v.data(), q, inverseTwiddles.data() + (slots - q),
                              threads);
  // bitReverse(i, log2 q) for i < q: the slots' reversal shifted down.
  const auto shift = static_cast<unsigned>(std::countr_zero(slots / q));
  for (size_t i = 0; i < q; ++i) {
    const std::complex<double> z = v[bitReversed[i] >> shift] / double(q);
    f(i, z.real());
    f(i + q, z.imag());
  }
  return q;
}

std::vector<double> Encoder::slotsToCoefficients(
    std::span<const std::complex<double>> values) const {
  std::vector<double> coeffs(p->degree(), 0.0), some(2 * slots);
  const size_t q = forEachCoefficient(
      values, [&](size_t k, double c) { some[k] = c; }, 1);
  const size_t gap = p->degree() / (2 * q);
  for (size_t k = 0; k < 2 * q; ++k)
    coeffs[k * gap] = some[k];
  return coeffs;
}

std::vector<std::complex<double>>
Encoder::coefficientsToSlots(std::span<const double> coeffs) const {
  const size_t n = p->degree(), gap = n / (2 * slots);
  std::vector<std::complex<double>> w(slots);
  for (size_t i = 0; i < slots; ++i)
    w[i] = {coeffs[i * gap], coeffs[(i + slots) * gap]};
  fft(w);
  return w;
}

Plaintext Encoder::encode(std::span<const std::complex<double>> values,
                          double scale, unsigned level,
                          kernels::RnsBackend &backend) const {
  if (level > p->maxLevel())
    throw Error(fmt::format("level {} exceeds the maximum level {}", level,
                            p->maxLevel()));
  Plaintext pt{PolyVector::zeros(*p, level, 1), scale};
  Limbs poly = pt.value.poly(*p, 0);
  encodeInto(values, scale, level, std::span(&poly, 1), backend);
  return pt;
}

/// round(y), halves away from zero, for |y| < 2^62: truncation and the
/// fraction y - trunc(y), which is exact, decide as std::round does, without
/// a library call per coefficient.
static int64_t roundToInteger(double y) {
  const auto t = static_cast<int64_t>(y);
  const double fraction = y - static_cast<double>(t);
  return t + (fraction >= 0.5) - (fraction <= -0.5);
}

/// The rounded coefficients as integers, or nothing if one is past 2^62
/// (what the int64 transforms take).
static std::optional<std::vector<int64_t>>
signedIfSmall(const std::vector<double> &scaled) {
  std::vector<int64_t> rounded(scaled.size());
  for (size_t j = 0; j < scaled.size(); ++j) {
    if (!(std::fabs(scaled[j]) < 0x1p62))
      return std::nullopt;
    rounded[j] = static_cast<int64_t>(scaled[j]);
  }
  return rounded;
}

/// y mod p for an integer-valued double y (any magnitude a double holds):
/// y = m 2^e with |m| < 2^53 an integer, so y mod p = (m mod p)(2^e mod p).
static uint32_t residue(double y, uint32_t p) {
  int e = 0;
  const double fraction = std::frexp(std::fabs(y), &e);
  const int shift = std::max(e - 53, 0);
  const auto m = static_cast<uint64_t>(std::ldexp(fraction, e - shift));
  uint64_t r = m % p, power = 1 % p, base = 2;
  for (int k = shift; k > 0; k >>= 1, base = base * base % p)
    if (k & 1)
      power = power * base % p;
  r = r * power % p;
  return y < 0 && r ? static_cast<uint32_t>(p - r) : static_cast<uint32_t>(r);
}

void Encoder::encodeInto(std::span<const std::complex<double>> values,
                         double scale, unsigned level,
                         std::span<const Limbs> parts,
                         kernels::RnsBackend &backend) const {
  std::vector<double> scaled =
      scaledCoefficients(values, scale, backend.hostThreads());
  if (auto coefficients = signedIfSmall(scaled)) {
    for (const Limbs &poly : parts)
      backend.nttForwardSigned(poly, *coefficients);
    return;
  }
  double largest = 0;
  for (double y : scaled)
    largest = std::max(largest, std::fabs(y));
  // Past 2^62 (values of large magnitude at a bootstrapping scale): each
  // coefficient reduced exactly on the host, then transformed. Only the
  // host's limbs can be written so, and only below half the level's modulus
  // (of all its primes, whichever `parts` hold) do the coefficients decode.
  double logModulus = 0;
  for (uint32_t id : p->qPrimeIds(level))
    logModulus += std::log2(double(p->rns().prime(id).modulus.value));
  if (!backend.hostAccessible() || std::log2(largest) >= logModulus - 1)
    throw Error(fmt::format(
        "value too large for scale 2^{:.1f}: a scaled coefficient of "
        "2^{:.1f} exceeds {}",
        std::log2(scale), std::log2(largest),
        backend.hostAccessible()
            ? fmt::format("half the modulus of level {} (2^{:.1f})", level,
                          logModulus - 1)
            : std::string("2^62")));
  const size_t n = p->degree(), gap = n / scaled.size();
  for (const Limbs &poly : parts) {
    for (size_t i = 0; i < poly.numLimbs(); ++i) {
      const uint32_t prime = p->rns().prime(poly.primes[i]).modulus.value;
      uint32_t *limb = poly.limb(i);
      std::fill(limb, limb + n, 0u);
      for (size_t k = 0; k < scaled.size(); ++k)
        limb[k * gap] = residue(scaled[k], prime);
    }
    backend.nttForward(poly);
  }
}

std::vector<double>
Encoder::scaledCoefficients(std::span<const std::complex<double>> values,
                            double scale, int threads) const {
  std::vector<double> rounded(2 * slots, 0);
  const size_t q = forEachCoefficient(
      values,
      [&](size_t j, double c) {
        const double y = c * scale;
        if (!std::isfinite(y))
          throw Error(fmt::format("value not finite at scale 2^{:.1f}",
                                  std::log2(scale)));
        rounded[j] =
            std::fabs(y) < 0x1p62 ? double(roundToInteger(y)) : std::round(y);
      },
      threads);
  // The 2q coefficients that may be nonzero, N / 2q apart: a vector of
  // period q transforms q / slots of the words (the homomorphic DFT's
  // factors of narrow butterflies have periods of 32 and 1024).
  rounded.resize(2 * q);
  return rounded;
}

std::optional<std::vector<int64_t>>
Encoder::trySignedCoefficients(std::span<const std::complex<double>> values,
                               double scale, int threads) const {
  return signedIfSmall(scaledCoefficients(values, scale, threads));
}

std::vector<int64_t>
Encoder::signedCoefficients(std::span<const std::complex<double>> values,
                            double scale, int threads) const {
  if (auto rounded = trySignedCoefficients(values, scale, threads))
    return std::move(*rounded);
  throw Error(fmt::format("value too large for scale 2^{:.1f}: a scaled "
                          "coefficient exceeds 2^62",
                          std::log2(scale)));
}

Plaintext Encoder::encode(std::span<const double> values, double scale,
                          unsigned level, kernels::RnsBackend &backend) const {
  std::vector<std::complex<double>> complexValues(values.begin(), values.end());
  return encode(complexValues, scale, level, backend);
}

std::vector<long double> Encoder::liftCentered(const kernels::RnsContext &ctx,
                                               ConstLimbs in) {
  const size_t k = in.numLimbs(), n = in.degree;
  std::vector<Modulus> mods(k);
  for (size_t i = 0; i < k; ++i)
    mods[i] = ctx.prime(in.primes[i]).modulus;
  // prefix[i][j] = q_0 ... q_{j-1} mod q_i (j < i); inv[i] = prefix[i][i]^-1.
  std::vector<std::vector<uint32_t>> prefix(k);
  std::vector<uint32_t> inv(k);
  for (size_t i = 0; i < k; ++i) {
    prefix[i].resize(i + 1);
    uint32_t acc = 1 % mods[i].value;
    for (size_t j = 0; j <= i; ++j) {
      prefix[i][j] = acc;
      if (j < i)
        acc = mul(acc, mods[j].value % mods[i].value, mods[i]);
    }
    inv[i] = inverse(prefix[i][i], mods[i]);
  }
  std::vector<long double> out(n);
  std::vector<uint32_t> digit(k);
  for (size_t c = 0; c < n; ++c) {
    // Mixed-radix digits: x = sum_i digit_i * q_0 ... q_{i-1}.
    for (size_t i = 0; i < k; ++i) {
      uint64_t acc = 0;
      for (size_t j = 0; j < i; ++j)
        acc = mulAdd(digit[j] % mods[i].value, prefix[i][j],
                     static_cast<uint32_t>(acc), mods[i]);
      digit[i] =
          mul(sub(in.limb(i)[c], static_cast<uint32_t>(acc), mods[i].value),
              inv[i], mods[i]);
    }
    // x > Q/2 iff the top digit is in the upper half (up to the boundary,
    // where no decryptable value lies); then evaluate Q - x, whose digits
    // are the complements of x - 1's.
    bool negative = digit[k - 1] > (mods[k - 1].value - 1) / 2;
    long double value = 0;
    if (!negative) {
      for (size_t i = k; i-- > 0;)
        value = value * mods[i].value + digit[i];
    } else {
      for (size_t i = k; i-- > 0;)
        value = value * mods[i].value + (mods[i].value - 1 - digit[i]);
      value = -(value + 1);
    }
    out[c] = value;
  }
  return out;
}

std::vector<std::complex<double>>
Encoder::decode(const Plaintext &pt, kernels::RnsBackend &backend) const {
  PolyVector coeffs = pt.value;
  Limbs poly = coeffs.poly(*p, 0);
  backend.nttInverse(poly);
  std::vector<long double> lifted = liftCentered(p->rns(), poly);
  std::vector<double> real(lifted.size());
  for (size_t j = 0; j < lifted.size(); ++j)
    real[j] = static_cast<double>(lifted[j] / pt.scale);
  return coefficientsToSlots(real);
}

} // namespace cerium::ckks
