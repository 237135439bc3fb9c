//===- CpuKernels.h - The CPU kernels of one code path ----------*- C++ -*-===//
//
// Private to the CPU backend. Each code path (portable, AVX2, AVX-512) is a
// table of the per-limb (or per-block) loops; the backend picks one table at
// construction and parallelizes over limbs or blocks itself. Explicit tables
// rather than target_clones: an ifunc picks by the CPU alone, while
// CERIUM_CPU must be able to force a lower path.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_CPU_CPUKERNELS_H
#define CERIUM_KERNELS_CPU_CPUKERNELS_H

#include "cerium/kernels/CpuBackend.h"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cerium::kernels::cpu {

/// One base conversion, flattened for the block loops: k inputs, m outputs.
struct BaseConvertArgs {
  size_t k = 0, m = 0;
  const uint32_t *const *in = nullptr; // k limbs
  uint32_t *const *out = nullptr;      // m limbs
  const uint32_t *inModuli = nullptr, *hatInverse = nullptr,
                 *hatInverseShoup = nullptr; // k each
  const double *reciprocals = nullptr;       // k
  const uint32_t *outModuli = nullptr;       // m
  const uint32_t *hatMod = nullptr;          // m x k, row-major
  const uint32_t *minusA = nullptr;          // b_j - (A mod b_j), m
  /// Per output: floor(2^32 / b), 2^32 mod b and its Shoup quotient (the
  /// vector reduction of 64-bit accumulators, ModArith.h's reduce64Shoup).
  const uint32_t *oneShoup = nullptr, *pow32 = nullptr, *pow32Shoup = nullptr;
};

/// Constants of reduce64Shoup for one modulus.
struct Reduce64Constants {
  uint32_t p, oneShoup, pow32, pow32Shoup;
};

/// The constants of reduce64Shoup for the modulus p.
inline Reduce64Constants reduce64Constants(uint32_t p) {
  const uint32_t pow32 = static_cast<uint32_t>((uint64_t(1) << 32) % p);
  return {p, modarith::shoupQuotient(1, p), pow32,
          modarith::shoupQuotient(pow32, p)};
}

/// The sums of products in an ElementwiseProgram: a tree of additions whose
/// inner results are used once, by the next addition, with at least two
/// leaves that are products used only there (a matrix-vector product's
/// rows, a baby-step giant-step sum). Its products and inner additions are
/// not run one by one, each reduced; its root sums every term in 64-bit
/// accumulators (residue products are below 2^60) with one reduction per
/// kLazyAccumulateTerms - 1 terms. Exact residues either way, so the
/// outputs are the same words.
struct ProgramSums {
  static constexpr int32_t kCompute = -1, kFolded = -2;
  /// Per instruction: kCompute, kFolded (part of a sum) or its sum's index.
  std::vector<int32_t> role;
  struct Sum {
    uint32_t firstProduct, numProducts, firstPlain, numPlains;
  };
  std::vector<Sum> sums;
  /// The registers each product multiplies, and the other terms'.
  std::vector<std::pair<uint16_t, uint16_t>> products;
  std::vector<uint16_t> plains;
};
ProgramSums planSums(const ElementwiseProgram &program);

struct KernelSet {
  CpuPath path;
  void (*nttForward)(uint32_t *, const PrimeTables &, unsigned);
  void (*nttInverse)(uint32_t *, const PrimeTables &, unsigned);
  /// o[j] = x[j] mod p (ModArith.h's fromSignedShoup).
  void (*fromSigned)(uint32_t *o, const int64_t *x, const Reduce64Constants &c,
                     size_t n);
  void (*add)(uint32_t *o, const uint32_t *x, const uint32_t *y, uint32_t p,
              size_t n);
  void (*sub)(uint32_t *o, const uint32_t *x, const uint32_t *y, uint32_t p,
              size_t n);
  void (*negate)(uint32_t *o, const uint32_t *x, uint32_t p, size_t n);
  void (*mul)(uint32_t *o, const uint32_t *x, const uint32_t *y,
              modarith::ProductBarrett c, size_t n);
  void (*mulAdd)(uint32_t *o, const uint32_t *x, const uint32_t *y,
                 modarith::ProductBarrett c, size_t n);
  void (*mulScalar)(uint32_t *o, const uint32_t *x, uint32_t s, uint32_t sq,
                    uint32_t p, size_t n);
  void (*addScalar)(uint32_t *o, const uint32_t *x, uint32_t s, uint32_t p,
                    size_t n);
  void (*subMulScalar)(uint32_t *o, const uint32_t *x, const uint32_t *y,
                       uint32_t s, uint32_t sq, uint32_t p, size_t n);
  /// o[j] = x[perm[j]], for the permutations of automorphisms: each maps
  /// an aligned group of 8 words onto an aligned group of 8 (the group holds
  /// the evaluations at e + k N/4, k < 8, and e g + k g N/4 is such a group
  /// again), which vector paths may rely on.
  void (*permute)(uint32_t *o, const uint32_t *x, const uint32_t *perm,
                  size_t n);
  /// An ElementwiseProgram on words [c0, c0 + len) of limb i of its
  /// operands; input r holds compact limbs where repeats (optional) has
  /// repeats[r] > 1 (RnsBackend::elementwiseRepeated).
  void (*runProgram)(const ElementwiseProgram &program, const ProgramSums &sums,
                     std::span<const Limbs> outputs,
                     std::span<const ConstLimbs> inputs,
                     const uint32_t *repeats, size_t i, uint32_t p, size_t c0,
                     size_t len);
  /// Base conversion of coefficients [c0, c0 + len).
  void (*baseConvertBlock)(const BaseConvertArgs &args, size_t c0, size_t len);
  /// out0 = sum_d x[d] kb[d], out1 = sum_d x[d] ka[d] over words
  /// [c0, c0 + len) of one limb (every pointer is the limb's start).
  void (*innerProduct)(uint32_t *out0, uint32_t *out1,
                       const uint32_t *const *x, const uint32_t *const *kb,
                       const uint32_t *const *ka, size_t beta,
                       const Reduce64Constants &c, size_t c0, size_t len);
};

const KernelSet &portableKernels();
const KernelSet &avx2Kernels();
const KernelSet &avx512Kernels();

/// The AVX2 formulations that differ from the generic loops (NttAvx2.cpp's
/// NTT aside): 64-bit accumulators in registers, reduced with 32x32-bit
/// products only (RnsBlocked.inc, RnsAvx2.cpp).
void baseConvertBlockAvx2(const BaseConvertArgs &args, size_t c0, size_t len);
void innerProductAvx2(uint32_t *out0, uint32_t *out1, const uint32_t *const *x,
                      const uint32_t *const *kb, const uint32_t *const *ka,
                      size_t beta, const Reduce64Constants &c, size_t c0,
                      size_t len);
/// The same on sixteen lanes (RnsAvx512.cpp).
void baseConvertBlockAvx512(const BaseConvertArgs &args, size_t c0, size_t len);
void innerProductAvx512(uint32_t *out0, uint32_t *out1,
                        const uint32_t *const *x, const uint32_t *const *kb,
                        const uint32_t *const *ka, size_t beta,
                        const Reduce64Constants &c, size_t c0, size_t len);
/// o[j] = sum_t x[t][j] y[t][j] + sum_t plain[t][j] mod p over words
/// [c0, c0 + len) (ProgramSums' sums), eight and sixteen lanes at a time.
void sumOfProductsAvx2(uint32_t *o, const uint32_t *const *x,
                       const uint32_t *const *y, size_t products,
                       const uint32_t *const *plain, size_t plains,
                       const Reduce64Constants &c, size_t c0, size_t len);
void sumOfProductsAvx512(uint32_t *o, const uint32_t *const *x,
                         const uint32_t *const *y, size_t products,
                         const uint32_t *const *plain, size_t plains,
                         const Reduce64Constants &c, size_t c0, size_t len);
/// o[j] = x[j] y[j] mod p (ModArith.h's mulProduct), eight lanes at a time;
/// o may alias x or y.
void mulProductsAvx2(uint32_t *o, const uint32_t *x, const uint32_t *y,
                     modarith::ProductBarrett c, size_t n);
/// o[j] = x[j] mod p (fromSignedShoup), eight lanes at a time.
void fromSignedAvx2(uint32_t *o, const int64_t *x, const Reduce64Constants &c,
                    size_t n);
/// permute with one load and one lane shuffle per group of 8 words instead
/// of a gather.
void permuteAvx2(uint32_t *o, const uint32_t *x, const uint32_t *perm,
                 size_t n);
/// o[j] = x[j] w mod p (Shoup, wq = shoupQuotient(w, p)); o may alias x.
void mulShoupAvx2(uint32_t *o, const uint32_t *x, uint32_t w, uint32_t wq,
                  uint32_t p, size_t n);
/// The two above on sixteen lanes.
void mulProductsAvx512(uint32_t *o, const uint32_t *x, const uint32_t *y,
                       modarith::ProductBarrett c, size_t n);
void mulShoupAvx512(uint32_t *o, const uint32_t *x, uint32_t w, uint32_t wq,
                    uint32_t p, size_t n);
/// The generic (portable) forms, for tails the vector code leaves.
void baseConvertBlockPortable(const BaseConvertArgs &args, size_t c0,
                              size_t len);
void sumOfProductsPortable(uint32_t *o, const uint32_t *const *x,
                           const uint32_t *const *y, size_t products,
                           const uint32_t *const *plain, size_t plains,
                           const Reduce64Constants &c, size_t c0, size_t len);
void innerProductPortable(uint32_t *out0, uint32_t *out1,
                          const uint32_t *const *x, const uint32_t *const *kb,
                          const uint32_t *const *ka, size_t beta,
                          const Reduce64Constants &c, size_t c0, size_t len);

} // namespace cerium::kernels::cpu

#endif // CERIUM_KERNELS_CPU_CPUKERNELS_H
