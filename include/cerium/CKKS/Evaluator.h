//===- Evaluator.h - Ciphertext-level CKKS operations -----------*- C++ -*-===//
//
// The homomorphic operations written directly as RnsBackend kernel calls, in
// the textbook order (ModUp per digit, ModDown, one rescale per prime). It is
// the client library's reference: programs run as compiled schedules
// (ckks -> poly -> rns), and tests check those against this independent
// composition (CompileAndRun.SchedulesAgreeWithTheEvaluator); benchmarks
// report both.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CKKS_EVALUATOR_H
#define CERIUM_CKKS_EVALUATOR_H

#include "cerium/CKKS/Ciphertext.h"

#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace cerium::ckks {

class Evaluator {
public:
  Evaluator(ParamsPtr params, kernels::RnsBackend &backend);

  Ciphertext add(const Ciphertext &a, const Ciphertext &b);
  Ciphertext sub(const Ciphertext &a, const Ciphertext &b);
  Ciphertext negate(const Ciphertext &a);
  Ciphertext addPlain(const Ciphertext &a, const Plaintext &b);
  Ciphertext mulPlain(const Ciphertext &a, const Plaintext &b);
  /// Tensor product: a 3-polynomial ciphertext at scale a.scale * b.scale.
  Ciphertext multiply(const Ciphertext &a, const Ciphertext &b);
  Ciphertext relinearize(const Ciphertext &a, const EvalKeys &keys);
  /// Divides by the primes of the top level (primesPerLevel of them).
  Ciphertext rescale(const Ciphertext &a);
  /// Drops primes down to `level` without changing the message or scale.
  Ciphertext levelDown(const Ciphertext &a, unsigned level);
  /// The ckks.level_down semantics: moves a rescaled value to `level` with
  /// scale levelScale(level) (up to 2^-50 relative): drop primes to
  /// level + 1, multiply by the integer round(Delta_level Q_{level+1} /
  /// scale), rescale.
  Ciphertext adjustToLevel(const Ciphertext &a, unsigned level);
  /// a * m for an integer |m| < 2^62: the scale is multiplied by m.
  Ciphertext multiplyByInteger(const Ciphertext &a, int64_t m);
  /// a * c in every slot, c encoded as the integer round(c * scale) (no
  /// plaintext): the result's scale is a.scale * scale.
  Ciphertext multiplyByConstant(const Ciphertext &a, double c, double scale);
  Ciphertext rotate(const Ciphertext &a, int64_t steps, const EvalKeys &keys);
  Ciphertext conjugate(const Ciphertext &a, const EvalKeys &keys);
  Ciphertext applyGalois(const Ciphertext &a, uint32_t galois,
                         const EvalKeys &keys);
  /// Key switching alone (a rotation without the permutation): (c0 +
  /// KS(c1)_0, KS(c1)_1), which decrypts under the key's target secret.
  Ciphertext switchKey(const Ciphertext &a, const SwitchingKey &key);
  /// Sparse-secret encapsulation: s -> s' (at level 0, the only level its
  /// key covers) and s' -> s (at any level; bootstrapping uses the top).
  Ciphertext switchToSparse(const Ciphertext &a, const EvalKeys &keys);
  Ciphertext switchToDense(const Ciphertext &a, const EvalKeys &keys);

  /// Hybrid key switching of d (over Q_l, NTT): adds the two outputs of
  /// ModDown(sum_j ModUp(d_j) * key_j) to out0 and out1. The key may be
  /// over any [P, Q_k] with k >= l.
  void keySwitchAccumulate(kernels::ConstLimbs d, const SwitchingKey &key,
                           kernels::Limbs out0, kernels::Limbs out1);

private:
  struct LevelConverters {
    std::vector<std::unique_ptr<kernels::BaseConverter>> modUp; // per digit
    std::unique_ptr<kernels::BaseConverter> modDown;            // P -> Q_l
  };
  const LevelConverters &converters(unsigned level);
  void checkCompatible(const Ciphertext &a, unsigned level, double scale) const;

  ParamsPtr p;
  kernels::RnsBackend &backend;
  std::mutex convMutex;
  std::map<unsigned, LevelConverters> convCache;
};

} // namespace cerium::ckks

#endif // CERIUM_CKKS_EVALUATOR_H
