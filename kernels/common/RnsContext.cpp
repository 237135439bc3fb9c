//===- RnsContext.cpp - Prime generation and NTT tables ------------------===//

#include "cerium/kernels/RnsContext.h"
#include "cerium/kernels/RnsBackend.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace cerium::kernels {

using namespace modarith;

uint32_t bitReverse(uint32_t x, unsigned bits) {
  // The whole word reversed by swapping ever larger halves, then its top
  // `bits` bits: constant time (a Galois element's NTT-domain permutation
  // takes two per coefficient).
  x = (x >> 1 & 0x55555555u) | (x & 0x55555555u) << 1;
  x = (x >> 2 & 0x33333333u) | (x & 0x33333333u) << 2;
  x = (x >> 4 & 0x0f0f0f0fu) | (x & 0x0f0f0f0fu) << 4;
  x = __builtin_bswap32(x);
  return bits ? x >> (32 - bits) : 0;
}

bool isPrime(uint32_t n) {
  if (n < 2)
    return false;
  for (uint32_t p : {2u, 3u, 5u, 7u})
    if (n % p == 0)
      return n == p;
  uint32_t d = n - 1;
  unsigned s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  Modulus m = makeModulus(n);
  // Bases 2, 3, 5, 7 decide primality for all n < 3.2e9.
  for (uint32_t a : {2u, 3u, 5u, 7u}) {
    uint32_t x = modarith::pow(a, d, m);
    if (x == 1 || x == n - 1)
      continue;
    bool composite = true;
    for (unsigned r = 1; r < s && composite; ++r) {
      x = mul(x, x, m);
      composite = x != n - 1;
    }
    if (composite)
      return false;
  }
  return true;
}

static void checkPrimeWidth(unsigned bits) {
  if (bits < kMinModulusBits || bits > kMaxModulusBits)
    throw std::invalid_argument("prime width " + std::to_string(bits) +
                                " bits is outside [" +
                                std::to_string(kMinModulusBits) + ", " +
                                std::to_string(kMaxModulusBits) + "]");
}

std::vector<uint32_t> generatePrimes(unsigned logDegree, unsigned bits,
                                     size_t count,
                                     std::span<const uint32_t> exclude) {
  checkPrimeWidth(bits);
  uint64_t step = uint64_t(2) << logDegree;
  std::vector<uint32_t> out;
  // Largest candidate = 1 mod 2N below 2^bits.
  uint64_t c = ((uint64_t(1) << bits) - 1) / step * step + 1;
  for (; out.size() < count && c > (uint64_t(1) << (bits - 1)); c -= step) {
    auto p = static_cast<uint32_t>(c);
    if (isPrime(p) &&
        std::find(exclude.begin(), exclude.end(), p) == exclude.end())
      out.push_back(p);
  }
  if (out.size() < count)
    throw std::invalid_argument("not enough " + std::to_string(bits) +
                                "-bit NTT primes for N = 2^" +
                                std::to_string(logDegree));
  return out;
}

std::vector<uint32_t> primesNearPowerOfTwo(unsigned logDegree, unsigned bits,
                                           size_t count,
                                           std::span<const uint32_t> exclude) {
  checkPrimeWidth(bits);
  uint64_t step = uint64_t(2) << logDegree;
  uint64_t center = uint64_t(1) << bits;
  uint64_t lo = center / step * step + 1; // largest candidate below 2^bits
  if (lo > center)
    lo -= step;
  uint64_t hi = lo + step;
  uint64_t limitHi = uint64_t(1) << kMaxModulusBits;
  uint64_t limitLo = uint64_t(1) << (bits - 2);
  std::vector<uint32_t> out;
  auto usable = [&](uint64_t c) {
    auto p = static_cast<uint32_t>(c);
    return isPrime(p) &&
           std::find(exclude.begin(), exclude.end(), p) == exclude.end();
  };
  // One prime below 2^bits, then one above, and so on: balanced counts keep
  // the pool centred in log scale, so pairs of them multiply to ~2^(2 bits)
  // (the primes' density is the same on both sides, their reach is not).
  for (bool below = true; out.size() < count; below = !below) {
    bool canLow = lo > limitLo, canHigh = hi < limitHi;
    if (!canLow && !canHigh)
      break;
    if ((below && canLow) || !canHigh) {
      for (; lo > limitLo; lo -= step)
        if (usable(lo)) {
          out.push_back(static_cast<uint32_t>(lo));
          lo -= step;
          break;
        }
    } else {
      for (; hi < limitHi; hi += step)
        if (usable(hi)) {
          out.push_back(static_cast<uint32_t>(hi));
          hi += step;
          break;
        }
    }
  }
  if (out.size() < count)
    throw std::invalid_argument("not enough NTT primes near 2^" +
                                std::to_string(bits) + " for N = 2^" +
                                std::to_string(logDegree));
  return out;
}

/// The smallest-generator primitive 2N-th root of unity modulo p.
static uint32_t findPrimitiveRoot(uint32_t p, unsigned logDegree) {
  Modulus m = makeModulus(p);
  uint64_t order = uint64_t(2) << logDegree;
  for (uint32_t g = 2; g < p; ++g) {
    uint32_t psi = modarith::pow(g, (p - 1) / order, m);
    // psi has order exactly 2N iff psi^N = -1.
    if (modarith::pow(psi, order / 2, m) == p - 1)
      return psi;
  }
  throw std::invalid_argument("no primitive root found");
}

RnsContext::RnsContext(unsigned logDegree, std::vector<uint32_t> primes)
    : logN(logDegree) {
  if (logDegree < 1 || logDegree > 17)
    throw std::invalid_argument("ring degree must be 2^1 .. 2^17");
  size_t n = degree();
  tables.reserve(primes.size());
  for (uint32_t p : primes) {
    if (p >= (1u << kMaxModulusBits) || p < (1u << (kMinModulusBits - 1)) ||
        !isPrime(p) || (p - 1) % (2 * n) != 0)
      throw std::invalid_argument("modulus " + std::to_string(p) +
                                  " is not an NTT-friendly prime in [2^14, "
                                  "2^30)");
    PrimeTables t;
    t.modulus = makeModulus(p);
    t.psi = findPrimitiveRoot(p, logDegree);
    uint32_t psiInv = inverse(t.psi, t.modulus);
    t.forwardTwiddles.resize(n);
    t.inverseTwiddles.resize(n);
    uint32_t pw = 1, pwInv = 1;
    for (size_t i = 0; i < n; ++i) {
      uint32_t r = bitReverse(static_cast<uint32_t>(i), logDegree);
      t.forwardTwiddles[r] = pw;
      t.inverseTwiddles[r] = pwInv;
      pw = mul(pw, t.psi, t.modulus);
      pwInv = mul(pwInv, psiInv, t.modulus);
    }
    t.forwardTwiddlesShoup.resize(n);
    t.inverseTwiddlesShoup.resize(n);
    for (size_t i = 0; i < n; ++i) {
      t.forwardTwiddlesShoup[i] = shoupQuotient(t.forwardTwiddles[i], p);
      t.inverseTwiddlesShoup[i] = shoupQuotient(t.inverseTwiddles[i], p);
    }
    t.degreeInverse = inverse(static_cast<uint32_t>(n % p), t.modulus);
    t.degreeInverseShoup = shoupQuotient(t.degreeInverse, p);
    tables.push_back(std::move(t));
  }
}

BaseConverter::BaseConverter(const RnsContext &ctx,
                             std::span<const uint32_t> fromIds,
                             std::span<const uint32_t> toIds)
    : from(fromIds.begin(), fromIds.end()), to(toIds.begin(), toIds.end()) {
  size_t k = from.size(), m = to.size();
  hatInv.resize(k);
  hatInvShoup.resize(k);
  hatMod.resize(m * k);
  recip.resize(k);
  prodMod.resize(m);
  prodInv.resize(m);
  prodInvShoup.resize(m);
  for (size_t i = 0; i < k; ++i) {
    Modulus ai = ctx.prime(from[i]).modulus;
    uint32_t hat = 1;
    for (size_t l = 0; l < k; ++l)
      if (l != i)
        hat = mul(hat, ctx.modulus(from[l]) % ai.value, ai);
    hatInv[i] = inverse(hat, ai);
    hatInvShoup[i] = shoupQuotient(hatInv[i], ai.value);
    recip[i] = 1.0 / double(ai.value);
  }
  for (size_t j = 0; j < m; ++j) {
    Modulus bj = ctx.prime(to[j]).modulus;
    uint32_t prod = 1;
    for (size_t i = 0; i < k; ++i) {
      uint32_t ai = ctx.modulus(from[i]) % bj.value;
      uint32_t hat = 1;
      for (size_t l = 0; l < k; ++l)
        if (l != i)
          hat = mul(hat, ctx.modulus(from[l]) % bj.value, bj);
      hatMod[j * k + i] = hat;
      prod = mul(prod, ai, bj);
    }
    if (prod == 0)
      throw std::invalid_argument("base conversion between overlapping bases");
    prodMod[j] = prod;
    prodInv[j] = inverse(prod, bj);
    prodInvShoup[j] = shoupQuotient(prodInv[j], bj.value);
  }
}

uint32_t rotationGaloisElement(size_t degree, int64_t steps) {
  const uint64_t m = 2 * degree;
  const int64_t order = static_cast<int64_t>(degree / 2);
  uint64_t e = static_cast<uint64_t>(((steps % order) + order) % order);
  uint64_t g = 1, base = 5;
  for (; e; e >>= 1, base = base * base % m)
    if (e & 1)
      g = g * base % m;
  return static_cast<uint32_t>(g);
}

RecordedWork::~RecordedWork() = default;
RnsBackend::~RnsBackend() = default;

void RnsBackend::checkSignedCoefficients(Limbs out, size_t m) {
  if (m == 0 || m > out.degree || (m & (m - 1)))
    throw std::invalid_argument("nttForwardSigned: expected a power of two "
                                "of coefficients, at most one per word of a "
                                "limb");
}

void RnsBackend::nttForwardSignedResident(Limbs out,
                                          const uint32_t *coefficients,
                                          size_t count) {
  checkSignedCoefficients(out, count);
  std::vector<int64_t> host(count);
  copyToHost(reinterpret_cast<uint32_t *>(host.data()), coefficients,
             2 * count);
  nttForwardSigned(out, host);
}

void RnsBackend::nttForwardSigned(Limbs out,
                                  std::span<const int64_t> coefficients) {
  checkSignedCoefficients(out, coefficients.size());
  const size_t n = out.degree, gap = n / coefficients.size();
  std::vector<uint32_t> host(out.numWords(), 0);
  for (size_t i = 0; i < out.numLimbs(); ++i) {
    const modarith::Modulus m = context().prime(out.primes[i]).modulus;
    for (size_t k = 0; k < coefficients.size(); ++k)
      host[i * n + k * gap] = modarith::fromSigned(coefficients[k], m);
  }
  copyFromHost(out.data, host.data(), out.numWords());
  nttForward(out);
}

void RnsBackend::checkCompactCoefficients(Limbs out, size_t count) const {
  const size_t m = out.degree;
  if (count != m || m > context().degree() || (m & (m - 1)))
    throw std::invalid_argument("nttForwardSignedCompact: expected one "
                                "coefficient per word of a limb, a power of "
                                "two up to the degree");
}

void RnsBackend::checkRepeatedInputs(std::span<const ConstLimbs> inputs,
                                     std::span<const uint32_t> repeats) const {
  if (repeats.size() != inputs.size())
    throw std::invalid_argument("elementwiseRepeated: one repeat per input");
  for (size_t r = 0; r < inputs.size(); ++r)
    if (repeats[r] > 1 && inputs[r].degree * repeats[r] != context().degree())
      throw std::invalid_argument("elementwiseRepeated: an input's words "
                                  "times its repeat is not the degree");
}

void RnsBackend::nttForwardSignedCompact(
    Limbs out, std::span<const int64_t> coefficients) {
  checkCompactCoefficients(out, coefficients.size());
  const size_t n = context().degree(), m = out.degree;
  BackendBuffer whole(*this, out.numLimbs() * n);
  nttForwardSigned({whole.data(), out.primes, n}, coefficients);
  std::vector<uint32_t> host(out.numLimbs() * n), picked(out.numWords());
  copyToHost(host.data(), whole.data(), host.size());
  for (size_t i = 0; i < out.numLimbs(); ++i)
    for (size_t j = 0; j < m; ++j)
      picked[i * m + j] = host[i * n + j * (n / m)];
  copyFromHost(out.data, picked.data(), picked.size());
}

void RnsBackend::elementwiseRepeated(const ElementwiseProgram &program,
                                     std::span<const Limbs> outputs,
                                     std::span<const ConstLimbs> inputs,
                                     std::span<const uint32_t> repeats) {
  checkRepeatedInputs(inputs, repeats);
  const size_t n = context().degree();
  std::vector<BackendBuffer> spread;
  std::vector<ConstLimbs> whole(inputs.begin(), inputs.end());
  for (size_t r = 0; r < inputs.size(); ++r) {
    const size_t g = repeats[r];
    if (g <= 1)
      continue;
    const ConstLimbs in = inputs[r];
    std::vector<uint32_t> compact(in.numWords()), host(in.numLimbs() * n);
    copyToHost(compact.data(), in.data, compact.size());
    for (size_t j = 0; j < host.size(); ++j)
      host[j] = compact[j / g];
    spread.emplace_back(*this, host.size());
    copyFromHost(spread.back().data(), host.data(), host.size());
    whole[r] = {spread.back().data(), in.primes, n};
  }
  elementwise(program, outputs, whole);
}

void RnsBackend::modUp(const BaseConverter &conv, Limbs extended,
                       ConstLimbs digit, size_t digitOffset) {
  const size_t k = digit.numLimbs(), n = digit.degree;
  const size_t m = conv.outputs().size();
  if (digitOffset + k > extended.numLimbs() || m + k != extended.numLimbs())
    throw std::invalid_argument("modUp: digit does not fit the basis");
  BackendBuffer coeffs(*this, k * n), converted(*this, m * n);
  copy(coeffs.data(), digit.data, k * n);
  nttInverse({coeffs.data(), digit.primes, n});
  Limbs convOut{converted.data(), conv.outputs(), n};
  baseConvert(conv, convOut, {coeffs.data(), digit.primes, n});
  nttForward(convOut);
  // Outputs before the digit, the digit itself, outputs after it.
  copy(extended.data, convOut.data, digitOffset * n);
  copy(extended.limb(digitOffset), digit.data, k * n);
  copy(extended.limb(digitOffset + k), convOut.limb(digitOffset),
       (m - digitOffset) * n);
}

void RnsBackend::keySwitchInnerProduct(Limbs out0, Limbs out1,
                                       std::span<const ConstLimbs> digits,
                                       std::span<const ConstLimbs> keyB,
                                       const UniformLimbSource &keyA,
                                       size_t firstKeyLimb) {
  if (!hostAccessible())
    throw std::invalid_argument("key-switch: a key with seeded halves on a "
                                "backend the host cannot address");
  const size_t n = out0.degree, limbs = out0.numLimbs();
  std::vector<uint32_t> made(digits.size() * limbs * n);
  std::vector<ConstLimbs> halves;
  for (size_t j = 0; j < digits.size(); ++j) {
    for (size_t i = 0; i < limbs; ++i)
      keyA(j, firstKeyLimb + i,
           std::span(made).subspan((j * limbs + i) * n, n));
    halves.push_back({made.data() + j * limbs * n, out0.primes, n});
  }
  keySwitchInnerProduct(out0, out1, digits, keyB, halves);
}

namespace {

/// The digits rotated into `scratch` (allocated here), as views.
std::vector<ConstLimbs> rotatedDigits(RnsBackend &backend,
                                      std::span<const ConstLimbs> digits,
                                      uint32_t galois, BackendBuffer &scratch) {
  const size_t words = digits.empty() ? 0 : digits[0].numWords();
  scratch = BackendBuffer(backend, digits.size() * words);
  std::vector<ConstLimbs> rotated;
  for (size_t j = 0; j < digits.size(); ++j) {
    Limbs r{scratch.data() + j * words, digits[j].primes, digits[j].degree};
    backend.automorphism(r, digits[j], galois, Domain::Ntt);
    rotated.push_back(r);
  }
  return rotated;
}

} // namespace

void RnsBackend::keySwitchInnerProductRotated(
    Limbs out0, Limbs out1, std::span<const ConstLimbs> digits,
    std::span<const ConstLimbs> keyB, std::span<const ConstLimbs> keyA,
    uint32_t galois) {
  BackendBuffer scratch;
  keySwitchInnerProduct(
      out0, out1, rotatedDigits(*this, digits, galois, scratch), keyB, keyA);
}

void RnsBackend::keySwitchInnerProductRotated(
    Limbs out0, Limbs out1, std::span<const ConstLimbs> digits,
    std::span<const ConstLimbs> keyB, const UniformLimbSource &keyA,
    size_t firstKeyLimb, uint32_t galois) {
  BackendBuffer scratch;
  keySwitchInnerProduct(out0, out1,
                        rotatedDigits(*this, digits, galois, scratch), keyB,
                        keyA, firstKeyLimb);
}

void RnsBackend::modDown(const BaseConverter &conv, Limbs out,
                         ConstLimbs extended) {
  const size_t numP = conv.inputs().size(), n = out.degree;
  if (extended.numLimbs() != numP + out.numLimbs() ||
      conv.outputs().size() != out.numLimbs())
    throw std::invalid_argument("modDown: basis mismatch");
  ConstLimbs pPart = extended.slice(0, numP);
  ConstLimbs qPart = extended.slice(numP, out.numLimbs());
  BackendBuffer coeffs(*this, numP * n), converted(*this, out.numWords());
  copy(coeffs.data(), pPart.data, numP * n);
  nttInverse({coeffs.data(), pPart.primes, n});
  Limbs convOut{converted.data(), out.primes, n};
  baseConvert(conv, convOut, {coeffs.data(), pPart.primes, n});
  nttForward(convOut);
  subMulScalar(out, qPart, convOut, conv.productInverse());
}

std::vector<std::pair<size_t, size_t>>
ownedRuns(std::span<const uint32_t> primes, int rank, int ranks) {
  std::vector<std::pair<size_t, size_t>> owned;
  for (size_t i = 0; i < primes.size(); ++i) {
    if (ownerOfPrime(primes[i], ranks) != rank)
      continue;
    if (!owned.empty() && owned.back().first + owned.back().second == i)
      ++owned.back().second;
    else
      owned.push_back({i, 1});
  }
  return owned;
}

} // namespace cerium::kernels
