//===- Evaluator.cpp - Ciphertext-level CKKS operations -------------------===//

#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Support/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cerium::ckks {

using kernels::ConstLimbs;
using kernels::Limbs;

Evaluator::Evaluator(ParamsPtr params, kernels::RnsBackend &backend)
    : p(std::move(params)), backend(backend) {}

void Evaluator::checkCompatible(const Ciphertext &a, unsigned level,
                                double scale) const {
  if (a.level() != level)
    throw Error(fmt::format("operands at different levels ({} and {})",
                            a.level(), level));
  if (std::fabs(a.scale / scale - 1) > 1e-9)
    throw Error(fmt::format("operands at different scales (2^{:.3f} and "
                            "2^{:.3f})",
                            std::log2(a.scale), std::log2(scale)));
}

Ciphertext Evaluator::add(const Ciphertext &a, const Ciphertext &b) {
  checkCompatible(a, b.level(), b.scale);
  const Ciphertext &big = a.size() >= b.size() ? a : b;
  const Ciphertext &small = a.size() >= b.size() ? b : a;
  Ciphertext out = big;
  for (size_t i = 0; i < small.size(); ++i)
    backend.add(out.value.poly(*p, i), big.value.poly(*p, i),
                small.value.poly(*p, i));
  return out;
}

Ciphertext Evaluator::negate(const Ciphertext &a) {
  Ciphertext out = a;
  for (size_t i = 0; i < a.size(); ++i)
    backend.negate(out.value.poly(*p, i), a.value.poly(*p, i));
  return out;
}

Ciphertext Evaluator::sub(const Ciphertext &a, const Ciphertext &b) {
  return add(a, negate(b));
}

Ciphertext Evaluator::addPlain(const Ciphertext &a, const Plaintext &b) {
  if (b.level() != a.level() || std::fabs(a.scale / b.scale - 1) > 1e-9)
    throw Error("plaintext level or scale does not match the ciphertext");
  Ciphertext out = a;
  backend.add(out.value.poly(*p, 0), a.value.poly(*p, 0), b.value.poly(*p, 0));
  return out;
}

Ciphertext Evaluator::mulPlain(const Ciphertext &a, const Plaintext &b) {
  if (b.level() != a.level())
    throw Error("plaintext level does not match the ciphertext");
  Ciphertext out = a;
  out.scale = a.scale * b.scale;
  for (size_t i = 0; i < a.size(); ++i)
    backend.mul(out.value.poly(*p, i), a.value.poly(*p, i),
                b.value.poly(*p, 0));
  return out;
}

Ciphertext Evaluator::multiply(const Ciphertext &a, const Ciphertext &b) {
  if (a.size() != 2 || b.size() != 2)
    throw Error("multiply expects relinearized (2-polynomial) operands");
  if (a.level() != b.level())
    throw Error(fmt::format("operands at different levels ({} and {})",
                            a.level(), b.level()));
  Ciphertext out{PolyVector::zeros(*p, a.level(), 3), a.scale * b.scale};
  ConstLimbs a0 = a.value.poly(*p, 0), a1 = a.value.poly(*p, 1);
  ConstLimbs b0 = b.value.poly(*p, 0), b1 = b.value.poly(*p, 1);
  Limbs d1 = out.value.poly(*p, 1);
  backend.mul(out.value.poly(*p, 0), a0, b0);
  backend.mul(d1, a0, b1);
  backend.mulAdd(d1, a1, b0);
  backend.mul(out.value.poly(*p, 2), a1, b1);
  return out;
}

const Evaluator::LevelConverters &Evaluator::converters(unsigned level) {
  std::lock_guard<std::mutex> lock(convMutex);
  auto it = convCache.find(level);
  if (it != convCache.end())
    return it->second;
  LevelConverters lc;
  auto ext = p->extendedPrimeIds(level);
  const size_t numP = p->numP(), alpha = p->digitSize();
  const size_t numQ = p->qCount(level);
  for (size_t j = 0; j < p->digitCount(level); ++j) {
    size_t first = numP + j * alpha;
    size_t last = std::min(first + alpha, numP + numQ);
    std::vector<uint32_t> rest(ext.begin(), ext.begin() + first);
    rest.insert(rest.end(), ext.begin() + last, ext.end());
    lc.modUp.push_back(std::make_unique<kernels::BaseConverter>(
        p->rns(), ext.subspan(first, last - first), rest));
  }
  lc.modDown = std::make_unique<kernels::BaseConverter>(
      p->rns(), p->pPrimeIds(), p->qPrimeIds(level));
  return convCache.emplace(level, std::move(lc)).first->second;
}

void Evaluator::keySwitchAccumulate(ConstLimbs d, const SwitchingKey &key,
                                    Limbs out0, Limbs out1) {
  const unsigned level = static_cast<unsigned>((d.numLimbs() - p->baseCount()) /
                                               p->primesPerLevel());
  const LevelConverters &lc = converters(level);
  auto ext = p->extendedPrimeIds(level);
  const size_t n = p->degree(), numP = p->numP(), alpha = p->digitSize();
  const size_t beta = lc.modUp.size(), extWords = ext.size() * n;
  // The key's basis is [P, Q_k] for some k >= level (usually L).
  const size_t keyPolyWords = key.polyWords();
  if (key.digits.size() < beta || keyPolyWords < extWords)
    throw Error(
        fmt::format("the switching key does not cover level {}", level));

  // Scratch in backend memory, left uninitialized: every word is written.
  kernels::BackendBuffer raised(backend, beta * extWords);
  std::vector<ConstLimbs> digits, keyB, keyA;
  for (size_t j = 0; j < beta; ++j) {
    size_t first = j * alpha;
    size_t count = std::min(alpha, d.numLimbs() - first);
    Limbs target{raised.data() + j * extWords, ext, n};
    backend.modUp(*lc.modUp[j], target, d.slice(first, count), numP + first);
    digits.push_back(target);
    // [P, Q_k] storage: the first |P| + |Q_l| limbs are the key at level l.
    keyB.push_back({key.digits[j].data(), ext, n});
    if (!key.uniformAtUse)
      keyA.push_back({key.digits[j].data() + keyPolyWords, ext, n});
  }
  kernels::BackendBuffer acc(backend, 2 * extWords);
  Limbs acc0{acc.data(), ext, n}, acc1{acc.data() + extWords, ext, n};
  if (!key.uniformAtUse) {
    backend.keySwitchInnerProduct(acc0, acc1, digits, keyB, keyA);
  } else {
    // A compact key (SwitchingKey::uniformAtUse): a's limbs made as used.
    backend.keySwitchInnerProduct(
        acc0, acc1, digits, keyB,
        uniformLimbSource(*p, key, kernels::hostCpuPath(backend)), 0);
  }
  kernels::BackendBuffer down(backend, 2 * out0.numWords());
  Limbs down0{down.data(), out0.primes, n};
  Limbs down1{down.data() + out0.numWords(), out0.primes, n};
  backend.modDown(*lc.modDown, down0, acc0);
  backend.modDown(*lc.modDown, down1, acc1);
  backend.add(out0, out0, down0);
  backend.add(out1, out1, down1);
}

Ciphertext Evaluator::relinearize(const Ciphertext &a, const EvalKeys &keys) {
  if (a.size() == 2)
    return a;
  if (!keys.relin)
    throw Error("no relinearization key was generated for this program");
  Ciphertext out{PolyVector::zeros(*p, a.level(), 2), a.scale};
  std::copy_n(a.value.data.begin(), 2 * a.value.polyWords(),
              out.value.data.begin());
  keySwitchAccumulate(a.value.poly(*p, 2), *keys.relin, out.value.poly(*p, 0),
                      out.value.poly(*p, 1));
  return out;
}

Ciphertext Evaluator::rescale(const Ciphertext &a) {
  if (a.level() == 0)
    throw Error("cannot rescale a ciphertext at level 0");
  Ciphertext cur = a;
  const size_t n = p->degree();
  size_t limbs = p->qCount(a.level());
  auto primes = p->qPrimeIds(a.level());
  // One divide-and-round per prime of the level (two for a double rescale).
  for (size_t r = 0; r < p->primesPerLevel(); ++r, --limbs) {
    std::vector<uint32_t> next(cur.size() * (limbs - 1) * n);
    for (size_t i = 0; i < cur.size(); ++i) {
      ConstLimbs in{cur.value.data.data() + i * limbs * n, primes.first(limbs),
                    n};
      Limbs out{next.data() + i * (limbs - 1) * n, primes.first(limbs - 1), n};
      backend.rescaleByLastPrime(out, in, kernels::Domain::Ntt);
    }
    cur.value.data = std::move(next);
    cur.scale /= p->prime(primes[limbs - 1]);
  }
  cur.value.level = a.level() - 1;
  return cur;
}

Ciphertext Evaluator::levelDown(const Ciphertext &a, unsigned level) {
  if (level > a.level())
    throw Error("levelDown cannot raise the level");
  Ciphertext out{PolyVector::zeros(*p, level, a.size()), a.scale};
  const size_t words = out.value.polyWords();
  for (size_t i = 0; i < a.size(); ++i)
    std::copy_n(a.value.poly(*p, i).data, words,
                out.value.data.begin() + i * words);
  return out;
}

Ciphertext Evaluator::multiplyByConstant(const Ciphertext &a, double c,
                                         double scale) {
  double m = std::round(c * scale);
  if (!(std::fabs(m) < 0x1p62))
    throw Error(fmt::format("constant {} is too large for scale 2^{:.1f}", c,
                            std::log2(scale)));
  Ciphertext out = multiplyByInteger(a, static_cast<int64_t>(m));
  out.scale = a.scale * scale;
  return out;
}

Ciphertext Evaluator::multiplyByInteger(const Ciphertext &a, int64_t m) {
  Ciphertext out = a;
  std::vector<uint32_t> scalars;
  for (uint32_t id : p->qPrimeIds(a.level()))
    scalars.push_back(modarith::fromSigned(m, p->rns().prime(id).modulus));
  for (size_t i = 0; i < a.size(); ++i)
    backend.mulScalar(out.value.poly(*p, i), a.value.poly(*p, i), scalars);
  out.scale = a.scale * double(m);
  return out;
}

Ciphertext Evaluator::adjustToLevel(const Ciphertext &a, unsigned level) {
  if (level == a.level())
    return a;
  if (level > a.level())
    throw Error("adjustToLevel cannot raise the level");
  Ciphertext dropped = levelDown(a, level + 1);
  double q = 1;
  for (size_t i = p->qCount(level); i < p->qCount(level + 1); ++i)
    q *= p->prime(p->qPrimeIds(level + 1)[i]);
  double m = std::round(p->levelScale(level) * q / a.scale);
  if (!(m >= 1 && m < 0x1p62))
    throw Error("adjustToLevel: scale ratio out of range");
  return rescale(multiplyByInteger(dropped, static_cast<int64_t>(m)));
}

Ciphertext Evaluator::applyGalois(const Ciphertext &a, uint32_t galois,
                                  const EvalKeys &keys) {
  if (a.size() != 2)
    throw Error("automorphisms expect relinearized (2-polynomial) operands");
  auto it = keys.galois.find(galois);
  if (it == keys.galois.end())
    throw Error(fmt::format("no Galois key for element {}", galois));
  Ciphertext out{PolyVector::zeros(*p, a.level(), 2), a.scale};
  kernels::BackendBuffer rotated1(backend, a.value.polyWords());
  Limbs r1{rotated1.data(), p->qPrimeIds(a.level()), p->degree()};
  backend.automorphism(out.value.poly(*p, 0), a.value.poly(*p, 0), galois,
                       kernels::Domain::Ntt);
  backend.automorphism(r1, a.value.poly(*p, 1), galois, kernels::Domain::Ntt);
  keySwitchAccumulate(r1, it->second, out.value.poly(*p, 0),
                      out.value.poly(*p, 1));
  return out;
}

Ciphertext Evaluator::switchKey(const Ciphertext &a, const SwitchingKey &key) {
  if (a.size() != 2)
    throw Error("key switching expects a relinearized (2-polynomial) operand");
  Ciphertext out{PolyVector::zeros(*p, a.level(), 2), a.scale};
  std::copy_n(a.value.poly(*p, 0).data, a.value.polyWords(),
              out.value.data.begin());
  keySwitchAccumulate(a.value.poly(*p, 1), key, out.value.poly(*p, 0),
                      out.value.poly(*p, 1));
  return out;
}

Ciphertext Evaluator::switchToSparse(const Ciphertext &a,
                                     const EvalKeys &keys) {
  if (!keys.toSparse)
    throw Error("no encapsulation key to the sparse secret was generated");
  if (a.level() != 0)
    throw Error(fmt::format("the switch to the sparse secret runs at level 0 "
                            "(its key covers [P, Q_0] only), got level {}",
                            a.level()));
  return switchKey(a, *keys.toSparse);
}

Ciphertext Evaluator::switchToDense(const Ciphertext &a, const EvalKeys &keys) {
  if (!keys.toDense)
    throw Error("no encapsulation key back to the dense secret was generated");
  return switchKey(a, *keys.toDense);
}

Ciphertext Evaluator::rotate(const Ciphertext &a, int64_t steps,
                             const EvalKeys &keys) {
  return applyGalois(a, galoisForRotation(*p, steps), keys);
}

Ciphertext Evaluator::conjugate(const Ciphertext &a, const EvalKeys &keys) {
  return applyGalois(a, galoisForConjugation(*p), keys);
}

} // namespace cerium::ckks
