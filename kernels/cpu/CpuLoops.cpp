//===- CpuLoops.cpp - The kernel tables of the three CPU code paths -------===//
//
// CpuLoops.inc's loops instantiated for baseline x86-64, AVX2 and AVX-512
// (x86-64-v4), and the table of each path. The AVX2 and AVX-512 tables take
// their base conversion and inner product from RnsBlocked.inc
// (register-blocked accumulators: AVX2 cannot vectorize the
// double-precision reduction of the generic loops, and their AVX-512 clones,
// which can with AVX-512DQ, measured slower), and their own NTTs.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

// GCC 12 reports the intentionally undefined source operands of the
// AVX-512 intrinsics it expands here as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cerium::kernels::cpu {

using namespace modarith;

namespace {

/// x mod p for any 64-bit x and p >= 2^14 (kMinModulusBits), by a
/// double-precision quotient estimate: x / p is known to within
/// 3 * 2^11 / p < 1/2, so the truncated estimate is off by at most one and
/// one correction each way makes the remainder exact. Unlike the 128-bit
/// Barrett product (reduce64), every step has a vector form with
/// AVX-512DQ (64-bit integer <-> double conversions, 64-bit products).
inline __attribute__((always_inline)) uint64_t
reduceByDouble(uint64_t x, uint64_t p, double inverse) {
  uint64_t q = static_cast<uint64_t>(static_cast<double>(x) * inverse);
  int64_t r = static_cast<int64_t>(x - q * p);
  r += r < 0 ? int64_t(p) : 0;
  r -= r >= int64_t(p) ? int64_t(p) : 0;
  return static_cast<uint64_t>(r);
}

} // namespace

#define CERIUM_PATH_NS portable_path
#define CERIUM_PATH_TARGET
#include "CpuLoops.inc"
#undef CERIUM_PATH_NS
#undef CERIUM_PATH_TARGET

// Residue products: GCC vectorizes mulProduct's 64-bit Barrett steps for
// AVX2 with packs and unpacks around every product; the hand-written form
// keeps even and odd lanes apart until the end (2.5x the loop's rate).
#define CERIUM_PATH_NS avx2_path
#define CERIUM_PATH_TARGET __attribute__((target("avx2")))
#define CERIUM_PATH_MUL_PRODUCTS mulProductsAvx2
#define CERIUM_PATH_MUL_SHOUP mulShoupAvx2
#define CERIUM_PATH_PERMUTE permuteAvx2
#define CERIUM_PATH_SUM_OF_PRODUCTS sumOfProductsAvx2
#include "CpuLoops.inc"
#undef CERIUM_PATH_NS
#undef CERIUM_PATH_TARGET
#undef CERIUM_PATH_MUL_PRODUCTS
#undef CERIUM_PATH_MUL_SHOUP
#undef CERIUM_PATH_PERMUTE
#undef CERIUM_PATH_SUM_OF_PRODUCTS

// The AVX-512 loops take hand-written products (the generic loops' AVX-512
// clones ran them 1.2x slower than even the AVX2 forms on a Zen 5 EPYC) and
// the AVX2 permutation (the clones gather: 3.3x slower).
#define CERIUM_PATH_NS avx512_path
#define CERIUM_PATH_TARGET __attribute__((target("arch=x86-64-v4")))
#define CERIUM_PATH_MUL_PRODUCTS mulProductsAvx512
#define CERIUM_PATH_MUL_SHOUP mulShoupAvx512
#define CERIUM_PATH_PERMUTE permuteAvx2
#define CERIUM_PATH_SUM_OF_PRODUCTS sumOfProductsAvx512
#include "CpuLoops.inc"
#undef CERIUM_PATH_NS
#undef CERIUM_PATH_TARGET
#undef CERIUM_PATH_MUL_PRODUCTS
#undef CERIUM_PATH_MUL_SHOUP
#undef CERIUM_PATH_PERMUTE
#undef CERIUM_PATH_SUM_OF_PRODUCTS

void baseConvertBlockPortable(const BaseConvertArgs &args, size_t c0,
                              size_t len) {
  portable_path::baseConvertBlock(args, c0, len);
}

void sumOfProductsPortable(uint32_t *o, const uint32_t *const *x,
                           const uint32_t *const *y, size_t products,
                           const uint32_t *const *plain, size_t plains,
                           const Reduce64Constants &c, size_t c0, size_t len) {
  portable_path::sumOfProducts(o, x, y, products, plain, plains, c, c0, len);
}

ProgramSums planSums(const ElementwiseProgram &program) {
  using Op = ElementwiseProgram::Opcode;
  const size_t numInputs = program.numInputs, size = program.code.size();
  // Each register's uses and (where it has one use) its user; outputs
  // escape the program and are never folded.
  std::vector<uint32_t> uses(program.numRegisters(), 0);
  std::vector<uint32_t> user(program.numRegisters(), 0);
  std::vector<bool> output(program.numRegisters(), false);
  for (size_t k = 0; k < size; ++k) {
    const auto &ins = program.code[k];
    auto use = [&](uint16_t r) {
      ++uses[r];
      user[r] = uint32_t(k);
    };
    use(ins.lhs);
    if (ins.op == Op::Add || ins.op == Op::Sub || ins.op == Op::Mul)
      use(ins.rhs);
  }
  for (uint16_t r : program.outputs)
    output[r] = true;
  auto is = [&](size_t r, Op op) {
    return r >= numInputs && program.code[r - numInputs].op == op;
  };
  // Used once, by an addition: part of that addition's sum.
  auto foldable = [&](size_t r) {
    return r >= numInputs && uses[r] == 1 && !output[r] &&
           program.code[user[r]].op == Op::Add;
  };
  ProgramSums plan;
  plan.role.assign(size, ProgramSums::kCompute);
  std::vector<size_t> stack, folded;
  std::vector<std::pair<uint16_t, uint16_t>> products;
  std::vector<uint16_t> plains;
  for (size_t k = 0; k < size; ++k) {
    const auto &root = program.code[k];
    if (root.op != Op::Add || foldable(numInputs + k))
      continue;
    stack.assign({root.lhs, root.rhs});
    folded.clear();
    products.clear();
    plains.clear();
    while (!stack.empty()) {
      const size_t r = stack.back();
      stack.pop_back();
      const bool add = is(r, Op::Add), mul = is(r, Op::Mul);
      if (!(add || mul) || !foldable(r)) {
        plains.push_back(uint16_t(r));
        continue;
      }
      const auto &ins = program.code[r - numInputs];
      if (add) {
        stack.push_back(ins.lhs);
        stack.push_back(ins.rhs);
      } else {
        products.push_back({ins.lhs, ins.rhs});
      }
      folded.push_back(r - numInputs);
    }
    // One product gains nothing over a product and an addition.
    if (products.size() < 2)
      continue;
    for (size_t f : folded)
      plan.role[f] = ProgramSums::kFolded;
    plan.role[k] = int32_t(plan.sums.size());
    plan.sums.push_back(
        {uint32_t(plan.products.size()), uint32_t(products.size()),
         uint32_t(plan.plains.size()), uint32_t(plains.size())});
    plan.products.insert(plan.products.end(), products.begin(), products.end());
    plan.plains.insert(plan.plains.end(), plains.begin(), plains.end());
  }
  return plan;
}

void innerProductPortable(uint32_t *out0, uint32_t *out1,
                          const uint32_t *const *x, const uint32_t *const *kb,
                          const uint32_t *const *ka, size_t beta,
                          const Reduce64Constants &c, size_t c0,
                          size_t len) {
  portable_path::innerProduct(out0, out1, x, kb, ka, beta, c, c0, len);
}

#define CERIUM_KERNEL_SET(NS, PATH, FORWARD, INVERSE, FROM_SIGNED, BASECONV,   \
                          INNER)                                               \
  KernelSet {                                                                  \
    PATH, FORWARD, INVERSE, FROM_SIGNED, NS::add, NS::sub, NS::negate,         \
        NS::mul, NS::mulAdd, NS::mulScalar, NS::addScalar, NS::subMulScalar,   \
        NS::permute, NS::runProgram, BASECONV, INNER                           \
  }

const KernelSet &portableKernels() {
  static const KernelSet set = CERIUM_KERNEL_SET(
      portable_path, CpuPath::Portable, nttForwardPortable, nttInversePortable,
      portable_path::fromSigned, portable_path::baseConvertBlock,
      portable_path::innerProduct);
  return set;
}

const KernelSet &avx2Kernels() {
  static const KernelSet set = CERIUM_KERNEL_SET(
      avx2_path, CpuPath::Avx2, nttForwardAvx2, nttInverseAvx2, fromSignedAvx2,
      baseConvertBlockAvx2, innerProductAvx2);
  return set;
}

// Base conversion and the key-switch inner product with register-blocked
// accumulators (RnsBlocked.inc) on sixteen lanes: their eight-lane forms had
// measured 1.5x and 2.4x the generic loops' AVX-512 clones (64-bit sums in
// memory, reduced through doubles) on the Zen 5.
const KernelSet &avx512Kernels() {
  static const KernelSet set = CERIUM_KERNEL_SET(
      avx512_path, CpuPath::Avx512, nttForwardAvx512, nttInverseAvx512,
      fromSignedAvx2, baseConvertBlockAvx512, innerProductAvx512);
  return set;
}

} // namespace cerium::kernels::cpu
