//===- KeyGenerator.cpp - Keys, encryption, decryption --------------------===//

#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Support/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

namespace cerium::ckks {

using kernels::ConstLimbs;
using kernels::Limbs;
using namespace modarith;

uint32_t galoisForRotation(const Params &params, int64_t steps) {
  return kernels::rotationGaloisElement(params.degree(), steps);
}

uint32_t galoisForConjugation(const Params &params) {
  return static_cast<uint32_t>(2 * params.degree() - 1);
}

std::vector<uint32_t> smallToRnsNtt(std::span<const int8_t> coeffs,
                                    std::span<const uint32_t> primes,
                                    kernels::RnsBackend &backend) {
  const kernels::RnsContext &ctx = backend.context();
  const size_t n = ctx.degree();
  std::vector<uint32_t> out(primes.size() * n);
  for (size_t i = 0; i < primes.size(); ++i) {
    uint32_t q = ctx.modulus(primes[i]);
    for (size_t j = 0; j < n; ++j)
      out[i * n + j] =
          coeffs[j] >= 0 ? uint32_t(coeffs[j]) : q - uint32_t(-coeffs[j]);
  }
  backend.nttForward({out.data(), primes, n});
  return out;
}

namespace {

/// Coefficients uniform in {-1, 0, 1}.
std::vector<int8_t> sampleTernary(Prng &prng, size_t n) {
  std::vector<int8_t> v(n);
  for (auto &c : v)
    c = static_cast<int8_t>(int(prng.uniformBelow(3)) - 1);
  return v;
}

/// Exactly `weight` coefficients uniform in {-1, 1}, the rest 0: a partial
/// Fisher-Yates shuffle picks the support.
std::vector<int8_t> sampleFixedWeight(Prng &prng, size_t n, size_t weight) {
  std::vector<int8_t> v(n, 0);
  std::vector<uint32_t> idx(n);
  for (uint32_t i = 0; i < n; ++i)
    idx[i] = i;
  for (size_t i = 0; i < weight; ++i) {
    size_t j = i + prng.uniformBelow(static_cast<uint32_t>(n - i));
    std::swap(idx[i], idx[j]);
    v[idx[i]] = prng.uniformBelow(2) ? 1 : -1;
  }
  return v;
}

/// A rounded-Gaussian error polynomial over `primes`, NTT domain.
std::vector<uint32_t> sampleErrorNtt(Prng &prng,
                                     std::span<const uint32_t> primes,
                                     kernels::RnsBackend &backend) {
  std::vector<int8_t> e(backend.context().degree());
  for (auto &c : e)
    c = static_cast<int8_t>(prng.roundedGaussian(kErrorStdDev));
  return smallToRnsNtt(e, primes, backend);
}

/// Residues uniform modulo each prime: uniform in either domain, so no NTT.
std::vector<uint32_t> sampleUniform(Prng &prng,
                                    std::span<const uint32_t> primes,
                                    const kernels::RnsContext &ctx) {
  const size_t n = ctx.degree();
  std::vector<uint32_t> out(primes.size() * n);
  for (size_t i = 0; i < primes.size(); ++i) {
    uint32_t q = ctx.modulus(primes[i]);
    for (size_t j = 0; j < n; ++j)
      out[i * n + j] = prng.uniformBelow(q);
  }
  return out;
}

} // namespace

void expandUniformLimb(const Params &params, const PrngSeed &seed,
                       uint64_t stream, size_t digit, size_t limb,
                       unsigned level, std::span<uint32_t> out,
                       kernels::CpuPath path) noexcept {
  // The counter's high 32 bits name the limb's keystream, the low 32 count
  // its blocks (a limb takes ~N/16 of them).
  static_assert(kMaxKeyLimbs <= (size_t(1) << 16));
  assert(digit < (size_t(1) << 16) && limb < kMaxKeyLimbs &&
         limb < params.extendedPrimeIds(level).size() &&
         out.size() == params.degree());
  kernels::expandUniform(
      path, seed, stream, uint64_t(digit) << 48 | uint64_t(limb) << 32,
      params.prime(params.extendedPrimeIds(level)[limb]), out);
}

kernels::RnsBackend::UniformLimbSource
uniformLimbSource(const Params &params, const SwitchingKey &key,
                  kernels::CpuPath path) {
  return [&params, &key, path](size_t digit, size_t limb,
                               std::span<uint32_t> out) {
    expandUniformLimb(params, key.seed, key.stream, digit, limb,
                      params.maxLevel(), out, path);
  };
}

void expandUniformHalf(const Params &params, const PrngSeed &seed,
                       uint64_t stream, size_t digit, unsigned level,
                       std::span<uint32_t> out) {
  const size_t n = params.degree(),
               limbs = params.extendedPrimeIds(level).size();
  if (out.size() != limbs * n || limbs > kMaxKeyLimbs ||
      digit >= (size_t(1) << 16))
    throw Error("internal error: a switching key half has the wrong size");
  const kernels::CpuPath path = kernels::resolveCpuPath();
#pragma omp parallel for schedule(dynamic)
  for (size_t i = 0; i < limbs; ++i)
    expandUniformLimb(params, seed, stream, digit, i, level,
                      out.subspan(i * n, n), path);
}

KeyGenerator::KeyGenerator(ParamsPtr params, kernels::RnsBackend &backend,
                           Prng &prng)
    : p(std::move(params)), backend(backend), prng(prng) {}

SecretKey KeyGenerator::secretKey() {
  const size_t n = p->degree();
  if (p->spec().secret == SecretDistribution::UniformTernary)
    return SecretKey{sampleTernary(prng, n)};
  return SecretKey{sampleFixedWeight(prng, n, p->spec().hammingWeight)};
}

SecretKey KeyGenerator::sparseSecretKey() {
  if (!p->spec().encapsulationWeight)
    throw Error("the parameter set has no sparse-secret encapsulation "
                "(encapsulation weight 0)");
  return SecretKey{
      sampleFixedWeight(prng, p->degree(), p->spec().encapsulationWeight)};
}

PublicKey KeyGenerator::publicKey(const SecretKey &sk) {
  const unsigned top = p->maxLevel();
  auto primes = p->qPrimeIds(top);
  const size_t n = p->degree();
  PublicKey pk{PolyVector::zeros(*p, top, 2)};
  auto s = smallToRnsNtt(sk.coeffs, primes, backend);
  auto a = sampleUniform(prng, primes, p->rns());
  auto e = sampleErrorNtt(prng, primes, backend);
  Limbs b = pk.value.poly(*p, 0);
  ConstLimbs sv{s.data(), primes, n}, av{a.data(), primes, n},
      ev{e.data(), primes, n};
  backend.mul(b, av, sv);
  backend.sub(b, ev, b); // b = e - a s
  std::copy(a.begin(), a.end(), pk.value.data.begin() + a.size());
  return pk;
}

SwitchingKey KeyGenerator::switchingKey(const SecretKey &sk,
                                        std::span<const uint32_t> from) {
  return switchingKey(sk, from, p->maxLevel());
}

SwitchingKey KeyGenerator::switchingKey(const SecretKey &sk,
                                        std::span<const uint32_t> from,
                                        unsigned level) {
  if (level > p->maxLevel())
    throw Error("switching key level beyond the parameter set's");
  auto ext = p->extendedPrimeIds(level);
  const size_t n = p->degree(), words = ext.size() * n;
  if (from.size() != words)
    throw Error("switching key source has the wrong size");
  auto s = smallToRnsNtt(sk.coeffs, ext, backend);
  ConstLimbs sv{s.data(), ext, n};
  SwitchingKey key;
  if (!uniformSeed)
    uniformSeed = prng.nextSeed();
  key.seed = *uniformSeed;
  key.stream = nextStream++;
  // Digit j's gadget factor is P on its Q primes and 0 elsewhere whatever
  // the level, so a key over [P, Q_level] is the prefix of the key over
  // [P, Q_L] that every key switch at `level` or below reads.
  for (size_t j = 0; j < p->digitCount(level); ++j) {
    KeyDigit digit(2 * words); // written whole below: b, then a
    Limbs b{digit.data(), ext, n};
    std::span<uint32_t> a = std::span(digit).subspan(words);
    expandUniformHalf(*p, key.seed, key.stream, j, level, a);
    auto e = sampleErrorNtt(prng, ext, backend);
    backend.mul(b, {a.data(), ext, n}, sv);
    backend.sub(b, {e.data(), ext, n}, b); // b = e - a s
    // + P * s' on the Q primes of digit j (the gadget factor P (Q/D_j)
    // [(Q/D_j)^-1]_{D_j} is P mod those primes and 0 mod all others).
    size_t first = p->numP() + j * p->digitSize();
    size_t last = std::min(first + p->digitSize(), ext.size());
    for (size_t i = first; i < last; ++i) {
      Modulus q = p->rns().prime(ext[i]).modulus;
      uint32_t pModQ = 1;
      for (uint32_t pid : p->pPrimeIds())
        pModQ = mul(pModQ, p->prime(pid) % q.value, q);
      uint32_t *bi = b.limb(i);
      const uint32_t *fi = from.data() + i * n;
      for (size_t c = 0; c < n; ++c)
        bi[c] = mulAdd(fi[c], pModQ, bi[c], q);
    }
    key.digits.push_back(std::move(digit));
  }
  return key;
}

SwitchingKey KeyGenerator::relinearizationKey(const SecretKey &sk) {
  auto ext = p->extendedPrimeIds(p->maxLevel());
  const size_t n = p->degree();
  auto s = smallToRnsNtt(sk.coeffs, ext, backend);
  std::vector<uint32_t> s2(s.size());
  backend.mul({s2.data(), ext, n}, {s.data(), ext, n}, {s.data(), ext, n});
  return switchingKey(sk, s2);
}

SwitchingKey KeyGenerator::galoisKey(const SecretKey &sk, uint32_t galois) {
  return galoisKey(sk, galois, p->maxLevel());
}

SwitchingKey KeyGenerator::galoisKey(const SecretKey &sk, uint32_t galois,
                                     unsigned level) {
  if (level > p->maxLevel())
    throw Error("switching key level beyond the parameter set's");
  auto ext = p->extendedPrimeIds(level);
  const size_t n = p->degree();
  auto s = smallToRnsNtt(sk.coeffs, ext, backend);
  std::vector<uint32_t> sg(s.size());
  backend.automorphism({sg.data(), ext, n}, {s.data(), ext, n}, galois,
                       kernels::Domain::Ntt);
  return switchingKey(sk, sg, level);
}

SwitchingKey KeyGenerator::toSparseKey(const SecretKey &sk,
                                       const SecretKey &sparse) {
  auto ext = p->extendedPrimeIds(0);
  return switchingKey(sparse, smallToRnsNtt(sk.coeffs, ext, backend), 0);
}

SwitchingKey KeyGenerator::toDenseKey(const SecretKey &sk,
                                      const SecretKey &sparse) {
  auto ext = p->extendedPrimeIds(p->maxLevel());
  return switchingKey(sk, smallToRnsNtt(sparse.coeffs, ext, backend));
}

EvalKeys KeyGenerator::evalKeys(const SecretKey &sk, bool relin,
                                std::span<const uint32_t> galoisElements,
                                bool encapsulation) {
  GaloisLevels galois;
  for (uint32_t g : galoisElements)
    galois.emplace(g, p->maxLevel());
  return evalKeys(sk, relin, galois, encapsulation);
}

EvalKeys KeyGenerator::evalKeys(const SecretKey &sk, bool relin,
                                const GaloisLevels &galois,
                                bool encapsulation) {
  EvalKeys keys;
  if (relin)
    keys.relin = relinearizationKey(sk);
  for (auto [g, level] : galois)
    keys.galois.emplace(g, galoisKey(sk, g, level));
  if (encapsulation) {
    // s' lives only for these two keys.
    SecretKey sparse = sparseSecretKey();
    keys.toSparse = toSparseKey(sk, sparse);
    keys.toDense = toDenseKey(sk, sparse);
  }
  return keys;
}

Encryptor::Encryptor(ParamsPtr params, kernels::RnsBackend &backend)
    : p(std::move(params)), backend(backend) {}

Ciphertext Encryptor::encrypt(const Plaintext &pt, const PublicKey &pk,
                              Prng &prng) {
  const unsigned level = pt.level();
  auto primes = p->qPrimeIds(level);
  const size_t n = p->degree();
  // v ternary, e0, e1 Gaussian: (v b + e0 + m, v a + e1). Restricting pk to
  // the primes of `level` keeps it a valid encryption of zero there.
  auto vv = smallToRnsNtt(sampleTernary(prng, n), primes, backend);
  Ciphertext ct{PolyVector::zeros(*p, level, 2), pt.scale};
  for (size_t k = 0; k < 2; ++k) {
    auto ev = sampleErrorNtt(prng, primes, backend);
    Limbs out = ct.value.poly(*p, k);
    ConstLimbs key{pk.value.data.data() + k * pk.value.polyWords(), primes, n};
    backend.mul(out, key, {vv.data(), primes, n});
    backend.add(out, out, {ev.data(), primes, n});
  }
  backend.add(ct.value.poly(*p, 0), ct.value.poly(*p, 0), pt.value.poly(*p, 0));
  return ct;
}

Ciphertext Encryptor::encrypt(const Plaintext &pt, const SecretKey &sk,
                              Prng &prng) {
  const unsigned level = pt.level();
  auto primes = p->qPrimeIds(level);
  const size_t n = p->degree();
  auto s = smallToRnsNtt(sk.coeffs, primes, backend);
  Ciphertext ct{PolyVector::zeros(*p, level, 2), pt.scale};
  Limbs c0 = ct.value.poly(*p, 0), c1 = ct.value.poly(*p, 1);
  auto a = sampleUniform(prng, primes, p->rns());
  std::copy(a.begin(), a.end(), c1.data);
  auto ev = sampleErrorNtt(prng, primes, backend);
  backend.mul(c0, c1, {s.data(), primes, n});
  backend.sub(c0, {ev.data(), primes, n}, c0); // e - a s
  backend.add(c0, c0, pt.value.poly(*p, 0));
  return ct;
}

Plaintext Encryptor::decrypt(const Ciphertext &ct, const SecretKey &sk) {
  auto primes = p->qPrimeIds(ct.level());
  const size_t n = p->degree();
  auto s = smallToRnsNtt(sk.coeffs, primes, backend);
  ConstLimbs sv{s.data(), primes, n};
  Plaintext pt{PolyVector::zeros(*p, ct.level(), 1), ct.scale};
  Limbs m = pt.value.poly(*p, 0);
  // Horner in s: ((c_{k-1} s + c_{k-2}) s + ...) + c_0.
  size_t k = ct.size();
  std::copy_n(ct.value.poly(*p, k - 1).data, m.numWords(), m.data);
  for (size_t i = k - 1; i-- > 0;) {
    backend.mul(m, m, sv);
    backend.add(m, m, ct.value.poly(*p, i));
  }
  return pt;
}

} // namespace cerium::ckks
