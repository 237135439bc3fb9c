//===- CpuBackend.cpp - CPU implementation of the RNS kernels -------------===//

#include "cerium/kernels/CpuBackend.h"

#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace cerium::kernels {

using namespace modarith;

bool cpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

bool cpuHasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

namespace {

/// acc[j] += y[j] * h: the inner loop of base conversion. Cloned for
/// AVX-512 and AVX2 (picked at load time through an ifunc), where it runs on
/// vpmuludq.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void
accumulateProducts(uint64_t *__restrict acc, const uint32_t *__restrict y,
                   uint64_t h, size_t n) {
  for (size_t j = 0; j < n; ++j)
    acc[j] += y[j] * h;
}

/// o[j] = x[perm[j]]: the NTT-domain automorphism (gathers where the clone
/// has them).
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void
permuteLimb(uint32_t *__restrict o, const uint32_t *__restrict x,
            const uint32_t *__restrict perm, size_t n) {
  for (size_t j = 0; j < n; ++j)
    o[j] = x[perm[j]];
}

/// y[j] = x[j] s mod p (Shoup) and v[j] += y[j] / p: the first step of
/// base conversion for one input limb.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void
scaleAndEstimate(uint32_t *__restrict y, double *__restrict v,
                 const uint32_t *__restrict x, uint32_t s, uint32_t sq,
                 uint32_t p, double reciprocal, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    y[j] = mulShoup(x[j], s, sq, p);
    v[j] += double(y[j]) * reciprocal;
  }
}

/// acc[j] += x[j] * y[j]: the inner loop of the key-switching inner product.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void
accumulateElementwise(uint64_t *__restrict acc, const uint32_t *__restrict x,
                      const uint32_t *__restrict y, size_t n) {
  for (size_t j = 0; j < n; ++j)
    acc[j] += uint64_t(x[j]) * y[j];
}

/// x mod p for any 64-bit x and p >= 2^14 (kMinModulusBits), by a
/// double-precision quotient estimate: x / p is known to within
/// 3 * 2^11 / p < 1/2, so the truncated estimate is off by at most one and
/// one correction each way makes the remainder exact. Unlike
/// the 128-bit Barrett product (reduce64), every step has a vector form
/// (AVX-512DQ converts between 64-bit integers and doubles, and multiplies
/// 64-bit lanes), so the loops below vectorize.
inline uint64_t reduceByDouble(uint64_t x, uint64_t p, double inverse) {
  uint64_t q = static_cast<uint64_t>(static_cast<double>(x) * inverse);
  int64_t r = static_cast<int64_t>(x - q * p);
  r += r < 0 ? int64_t(p) : 0;
  r -= r >= int64_t(p) ? int64_t(p) : 0;
  return static_cast<uint64_t>(r);
}

/// acc[j] mod p, in place (between accumulations).
__attribute__((target_clones("arch=x86-64-v4", "default"))) void
reduceAccumulators(uint64_t *acc, size_t n, uint32_t p) {
  const double inverse = 1.0 / p;
  for (size_t j = 0; j < n; ++j)
    acc[j] = reduceByDouble(acc[j], p, inverse);
}

/// out[j] = acc[j] mod p.
__attribute__((target_clones("arch=x86-64-v4", "default"))) void
reduceInto(uint32_t *__restrict out, const uint64_t *__restrict acc, size_t n,
           uint32_t p) {
  const double inverse = 1.0 / p;
  for (size_t j = 0; j < n; ++j)
    out[j] = static_cast<uint32_t>(reduceByDouble(acc[j], p, inverse));
}

/// out[j] = a[j] b[j] mod p, and out[j] += a[j] b[j] mod p: cloned for AVX2
/// like accumulateProducts (the Barrett steps are 32x32-bit products). No
/// __restrict: the interface lets outputs alias inputs.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void
mulLimb(uint32_t *o, const uint32_t *x, const uint32_t *y, ProductBarrett c,
        size_t n) {
  for (size_t j = 0; j < n; ++j)
    o[j] = mulProduct(x[j], y[j], c);
}

__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void
mulAddLimb(uint32_t *o, const uint32_t *x, const uint32_t *y, ProductBarrett c,
           size_t n) {
  for (size_t j = 0; j < n; ++j)
    o[j] = modarith::add(o[j], mulProduct(x[j], y[j], c), c.value);
}

/// Runs `program` on limb i (prime p), a block of residues at a time: each
/// instruction is a loop over the block (which the compiler vectorizes),
/// inputs are read in place and results reach the outputs only after the
/// whole block is computed, so outputs may alias inputs.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void
runProgram(const ElementwiseProgram &program, std::span<const Limbs> outputs,
           std::span<const ConstLimbs> inputs, size_t i, uint32_t p) {
  constexpr size_t kBlock = 256;
  using Op = ElementwiseProgram::Opcode;
  const ProductBarrett barrett = makeProductBarrett(p);
  const size_t n = outputs[0].degree, numInputs = program.numInputs;
  thread_local std::vector<uint32_t> scratch;
  scratch.resize(program.code.size() * kBlock);
  std::vector<const uint32_t *> reg(program.numRegisters());
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t len = std::min(kBlock, n - start);
    for (size_t r = 0; r < numInputs; ++r)
      reg[r] = inputs[r].limb(i) + start;
    for (size_t k = 0; k < program.code.size(); ++k) {
      const auto &ins = program.code[k];
      uint32_t *__restrict o = scratch.data() + k * kBlock;
      const uint32_t *x = reg[ins.lhs];
      switch (ins.op) {
      case Op::Add: {
        const uint32_t *y = reg[ins.rhs];
        for (size_t j = 0; j < len; ++j)
          o[j] = modarith::add(x[j], y[j], p);
        break;
      }
      case Op::Sub: {
        const uint32_t *y = reg[ins.rhs];
        for (size_t j = 0; j < len; ++j)
          o[j] = modarith::sub(x[j], y[j], p);
        break;
      }
      case Op::Mul: {
        const uint32_t *y = reg[ins.rhs];
        for (size_t j = 0; j < len; ++j)
          o[j] = mulProduct(x[j], y[j], barrett);
        break;
      }
      case Op::Negate:
        for (size_t j = 0; j < len; ++j)
          o[j] = modarith::negate(x[j], p);
        break;
      case Op::MulConstant: {
        const size_t c = ins.rhs * program.numLimbs + i;
        const uint32_t w = program.constants[c], wq = program.constantsShoup[c];
        for (size_t j = 0; j < len; ++j)
          o[j] = mulShoup(x[j], w, wq, p);
        break;
      }
      }
      reg[numInputs + k] = o;
    }
    for (size_t k = 0; k < outputs.size(); ++k)
      std::memmove(outputs[k].limb(i) + start, reg[program.outputs[k]],
                   len * sizeof(uint32_t));
  }
}

class CpuBackend final : public RnsBackend {
public:
  CpuBackend(const RnsContext &ctx, CpuBackendOptions options)
      : ctx(ctx),
        threads(options.threads > 0 ? options.threads : omp_get_max_threads()) {
    NttPath path = options.ntt;
    if (path == NttPath::Auto)
      path = cpuHasAvx512() ? NttPath::Avx512
             : cpuHasAvx2() ? NttPath::Avx2
                            : NttPath::Portable;
    if ((path == NttPath::Avx2 || path == NttPath::Avx512) && !cpuHasAvx2())
      throw std::runtime_error("this CPU has no AVX2");
    if (path == NttPath::Avx512 && !cpuHasAvx512())
      throw std::runtime_error("this CPU has no AVX-512");
    switch (path) {
    case NttPath::Avx512:
      forward = cpu::nttForwardAvx512;
      inverse = cpu::nttInverseAvx512;
      break;
    case NttPath::Avx2:
      forward = cpu::nttForwardAvx2;
      inverse = cpu::nttInverseAvx2;
      break;
    default:
      forward = cpu::nttForwardPortable;
      inverse = cpu::nttInversePortable;
    }
  }

  const RnsContext &context() const override { return ctx; }

  uint32_t *allocate(size_t words) override { return new uint32_t[words]; }
  void deallocate(uint32_t *words) override { delete[] words; }
  void copyFromHost(uint32_t *dst, const uint32_t *src, size_t words) override {
    std::memcpy(dst, src, words * sizeof(uint32_t));
  }
  void copyToHost(uint32_t *dst, const uint32_t *src, size_t words) override {
    std::memcpy(dst, src, words * sizeof(uint32_t));
  }
  void copy(uint32_t *dst, const uint32_t *src, size_t words) override {
    std::memmove(dst, src, words * sizeof(uint32_t));
  }
  void synchronize() override {}
  bool hostAccessible() const override { return true; }

  void elementwise(const ElementwiseProgram &program,
                   std::span<const Limbs> outputs,
                   std::span<const ConstLimbs> inputs) override {
    program.checkOperands(outputs.size(), inputs.size(),
                          outputs.empty() ? 0 : outputs[0].numLimbs());
    const Limbs &first = outputs[0];
    for (const ConstLimbs &in : inputs)
      check(first, in);
    for (const Limbs &out : outputs)
      check(first, out);
    parallelLimbs(first.numLimbs(), [&](size_t i) {
      runProgram(program, outputs, inputs, i, ctx.modulus(first.primes[i]));
    });
  }

  void nttForward(Limbs x) override {
    parallelLimbs(x.numLimbs(), [&](size_t i) {
      forward(x.limb(i), ctx.prime(x.primes[i]), ctx.logDegree());
    });
  }

  void nttInverse(Limbs x) override {
    parallelLimbs(x.numLimbs(), [&](size_t i) {
      inverse(x.limb(i), ctx.prime(x.primes[i]), ctx.logDegree());
    });
  }

  void add(Limbs out, ConstLimbs a, ConstLimbs b) override {
    elementwise(
        out,
        [](uint32_t p, uint32_t x, uint32_t y) {
          return modarith::add(x, y, p);
        },
        a, b);
  }

  void sub(Limbs out, ConstLimbs a, ConstLimbs b) override {
    elementwise(
        out,
        [](uint32_t p, uint32_t x, uint32_t y) {
          return modarith::sub(x, y, p);
        },
        a, b);
  }

  void negate(Limbs out, ConstLimbs a) override {
    elementwise(
        out, [](uint32_t p, uint32_t x) { return modarith::negate(x, p); }, a);
  }

  void mul(Limbs out, ConstLimbs a, ConstLimbs b) override {
    check(out, a);
    check(out, b);
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      mulLimb(out.limb(i), a.limb(i), b.limb(i),
              makeProductBarrett(ctx.modulus(out.primes[i])), out.degree);
    });
  }

  void mulAdd(Limbs out, ConstLimbs a, ConstLimbs b) override {
    check(out, a);
    check(out, b);
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      mulAddLimb(out.limb(i), a.limb(i), b.limb(i),
                 makeProductBarrett(ctx.modulus(out.primes[i])), out.degree);
    });
  }

  void mulScalar(Limbs out, ConstLimbs a,
                 std::span<const uint32_t> scalars) override {
    check(out, a);
    checkScalars(out, scalars);
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      uint32_t p = ctx.modulus(out.primes[i]);
      uint32_t s = scalars[i], sq = shoupQuotient(s, p);
      uint32_t *o = out.limb(i);
      const uint32_t *x = a.limb(i);
      for (size_t j = 0; j < out.degree; ++j)
        o[j] = mulShoup(x[j], s, sq, p);
    });
  }

  void addScalar(Limbs out, ConstLimbs a,
                 std::span<const uint32_t> scalars) override {
    check(out, a);
    checkScalars(out, scalars);
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      uint32_t p = ctx.modulus(out.primes[i]), s = scalars[i];
      uint32_t *o = out.limb(i);
      const uint32_t *x = a.limb(i);
      for (size_t j = 0; j < out.degree; ++j)
        o[j] = modarith::add(x[j], s, p);
    });
  }

  void subMulScalar(Limbs out, ConstLimbs a, ConstLimbs b,
                    std::span<const uint32_t> scalars) override {
    check(out, a);
    check(out, b);
    checkScalars(out, scalars);
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      uint32_t p = ctx.modulus(out.primes[i]);
      uint32_t s = scalars[i], sq = shoupQuotient(s, p);
      uint32_t *o = out.limb(i);
      const uint32_t *x = a.limb(i), *y = b.limb(i);
      for (size_t j = 0; j < out.degree; ++j)
        o[j] = mulShoup(x[j] + p - y[j], s, sq, p);
    });
  }

  void automorphism(Limbs out, ConstLimbs in, uint32_t galois,
                    Domain domain) override {
    check(out, in);
    if ((galois & 1) == 0)
      throw std::invalid_argument("Galois element must be odd");
    const size_t n = out.degree;
    const uint32_t twoNMask = static_cast<uint32_t>(2 * n - 1);
    galois &= twoNMask;
    if (domain == Domain::Ntt) {
      const std::vector<uint32_t> &perm = nttPermutation(galois);
      parallelLimbs(out.numLimbs(), [&](size_t i) {
        permuteLimb(out.limb(i), in.limb(i), perm.data(), n);
      });
      return;
    }
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      uint32_t p = ctx.modulus(out.primes[i]);
      uint32_t *o = out.limb(i);
      const uint32_t *x = in.limb(i);
      for (size_t j = 0; j < n; ++j) {
        // X^j -> X^(j g mod 2N) = -X^(j g mod N) when j g mod 2N >= N.
        uint32_t e = static_cast<uint32_t>(j * galois) & twoNMask;
        if (e < n)
          o[e] = x[j];
        else
          o[e - n] = modarith::negate(x[j], p);
      }
    });
  }

  void baseConvert(const BaseConverter &conv, Limbs out,
                   ConstLimbs in) override {
    const size_t k = conv.inputs().size(), m = conv.outputs().size();
    if (in.numLimbs() != k || out.numLimbs() != m || in.degree != out.degree)
      throw std::invalid_argument("baseConvert: limb count mismatch");
    const size_t n = in.degree;
    // Blocks of coefficients keep the k input rows of a block in cache while
    // all m outputs are formed from them (the product is k x m per word).
    const size_t block = std::min<size_t>(n, 2048);
    const size_t numBlocks = n / block;
    parallelLimbs(numBlocks, [&](size_t blk) {
      const size_t c0 = blk * block;
      // y_i = x_i (A/a_i)^-1 mod a_i, and v = round(sum_i y_i / a_i): the
      // multiple of A to subtract so the result is centered.
      std::vector<uint32_t> y(k * block), wraps(block);
      std::vector<double> v(block, 0.5);
      for (size_t i = 0; i < k; ++i) {
        uint32_t p = ctx.modulus(conv.inputs()[i]);
        uint32_t s = conv.hatInverse()[i], sq = conv.hatInverseShoup()[i];
        const double r = conv.inputReciprocals()[i];
        scaleAndEstimate(y.data() + i * block, v.data(), in.limb(i) + c0, s, sq,
                         p, r, block);
      }
      for (size_t j = 0; j < block; ++j)
        wraps[j] = static_cast<uint32_t>(v[j]);
      // out_j = sum_i y_i (A/a_i) - round(v) A mod b_j, accumulated in 64
      // bits and reduced every kLazyAccumulateTerms - 1 terms.
      std::vector<uint64_t> acc(block);
      for (size_t jOut = 0; jOut < m; ++jOut) {
        Modulus b = ctx.prime(conv.outputs()[jOut]).modulus;
        const uint32_t *row = conv.hatModOutput().data() + jOut * k;
        const uint64_t minusA = b.value - conv.productModOutput()[jOut];
        for (size_t j = 0; j < block; ++j)
          acc[j] = wraps[j] * minusA; // < 2^36
        for (size_t i = 0; i < k; ++i) {
          accumulateProducts(acc.data(), y.data() + i * block, row[i], block);
          if ((i + 2) % (kLazyAccumulateTerms - 1) == 0)
            reduceAccumulators(acc.data(), block, b.value);
        }
        reduceInto(out.limb(jOut) + c0, acc.data(), block, b.value);
      }
    });
  }

  void rescaleByLastPrime(Limbs out, ConstLimbs in, Domain domain) override {
    const size_t keep = in.numLimbs() - 1, n = in.degree;
    if (in.numLimbs() < 2 || out.numLimbs() != keep)
      throw std::invalid_argument("rescale: needs one limb fewer out than in");
    const uint32_t ql = ctx.modulus(in.primes[keep]);
    const uint32_t halfQl = ql >> 1;
    // t = [x + floor(ql/2)]_ql in coefficient form.
    std::vector<uint32_t> t(in.limb(keep), in.limb(keep) + n);
    if (domain == Domain::Ntt)
      inverse(t.data(), ctx.prime(in.primes[keep]), ctx.logDegree());
    for (auto &v : t)
      v = modarith::add(v, halfQl, ql);
    // out_i = (x_i - (t - floor(ql/2))) * ql^-1 mod q_i = round(x / ql).
    std::vector<uint32_t> r(keep * n);
    parallelLimbs(keep, [&](size_t i) {
      const PrimeTables &pt = ctx.prime(out.primes[i]);
      Modulus qi = pt.modulus;
      uint32_t halfMod = halfQl % qi.value;
      // t mod q_i as a Shoup product by 1: 32-bit multiplies only.
      const uint32_t oneShoup = shoupQuotient(1, qi.value);
      uint32_t *ri = r.data() + i * n;
      for (size_t j = 0; j < n; ++j)
        ri[j] = modarith::sub(mulShoup(t[j], 1, oneShoup, qi.value), halfMod,
                              qi.value);
      if (domain == Domain::Ntt)
        forward(ri, pt, ctx.logDegree());
      uint32_t s = modarith::inverse(ql % qi.value, qi);
      uint32_t sq = shoupQuotient(s, qi.value);
      const uint32_t *x = in.limb(i);
      uint32_t *o = out.limb(i);
      for (size_t j = 0; j < n; ++j)
        o[j] = mulShoup(modarith::sub(x[j], ri[j], qi.value), s, sq, qi.value);
    });
  }

  void keySwitchInnerProduct(Limbs out0, Limbs out1,
                             std::span<const ConstLimbs> digits,
                             std::span<const ConstLimbs> keyB,
                             std::span<const ConstLimbs> keyA) override {
    const size_t beta = digits.size();
    if (keyB.size() != beta || keyA.size() != beta)
      throw std::invalid_argument("key-switch: digit count mismatch");
    for (size_t d = 0; d < beta; ++d) {
      check(out0, digits[d]);
      check(out0, keyB[d]);
      check(out0, keyA[d]);
    }
    check(out0, out1);
    // Blocks of a limb: accumulate d_j * key_j in 64-bit lanes, reduce once
    // per kLazyAccumulateTerms - 1 digits and at the end.
    constexpr size_t kBlock = 2048;
    parallelLimbs(out0.numLimbs(), [&](size_t i) {
      const uint32_t p = ctx.modulus(out0.primes[i]);
      std::vector<uint64_t> acc0(kBlock), acc1(kBlock);
      for (size_t c0 = 0; c0 < out0.degree; c0 += kBlock) {
        const size_t len = std::min(kBlock, out0.degree - c0);
        std::fill_n(acc0.begin(), len, 0);
        std::fill_n(acc1.begin(), len, 0);
        for (size_t d = 0; d < beta; ++d) {
          const uint32_t *x = digits[d].limb(i) + c0;
          accumulateElementwise(acc0.data(), x, keyB[d].limb(i) + c0, len);
          accumulateElementwise(acc1.data(), x, keyA[d].limb(i) + c0, len);
          if ((d + 1) % (kLazyAccumulateTerms - 1) == 0) {
            reduceAccumulators(acc0.data(), len, p);
            reduceAccumulators(acc1.data(), len, p);
          }
        }
        reduceInto(out0.limb(i) + c0, acc0.data(), len, p);
        reduceInto(out1.limb(i) + c0, acc1.data(), len, p);
      }
    });
  }

private:
  template <class F> void parallelLimbs(size_t count, F &&body) {
    if (count == 1 || threads == 1) {
      for (size_t i = 0; i < count; ++i)
        body(i);
      return;
    }
#pragma omp parallel for schedule(static) num_threads(threads)
    for (size_t i = 0; i < count; ++i)
      body(i);
  }

  template <class F, class... In> void elementwise(Limbs out, F op, In... in) {
    (check(out, in), ...);
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      uint32_t p = ctx.modulus(out.primes[i]);
      uint32_t *o = out.limb(i);
      for (size_t j = 0; j < out.degree; ++j)
        o[j] = op(p, in.limb(i)[j]...);
    });
  }

  static void check(ConstLimbs a, ConstLimbs b) {
    if (a.numLimbs() != b.numLimbs() || a.degree != b.degree)
      throw std::invalid_argument("limb views of different shapes");
    assert(std::equal(a.primes.begin(), a.primes.end(), b.primes.begin()));
  }
  static void checkScalars(ConstLimbs a, std::span<const uint32_t> s) {
    if (s.size() != a.numLimbs())
      throw std::invalid_argument("one scalar per limb expected");
  }

  /// Index map of an automorphism in the NTT domain: slot k holds the
  /// evaluation at psi^(2 brev(k) + 1); sigma_g moves the evaluation at
  /// psi^(e g) there.
  const std::vector<uint32_t> &nttPermutation(uint32_t galois) {
    std::lock_guard<std::mutex> lock(permMutex);
    auto it = permutations.find(galois);
    if (it != permutations.end())
      return it->second;
    const unsigned logN = ctx.logDegree();
    const size_t n = ctx.degree();
    const uint32_t mask = static_cast<uint32_t>(2 * n - 1);
    std::vector<uint32_t> perm(n);
    for (size_t k = 0; k < n; ++k) {
      uint32_t e = 2 * bitReverse(static_cast<uint32_t>(k), logN) + 1;
      uint32_t src = static_cast<uint32_t>((uint64_t(e) * galois) & mask);
      perm[k] = bitReverse((src - 1) >> 1, logN);
    }
    return permutations.emplace(galois, std::move(perm)).first->second;
  }

  const RnsContext &ctx;
  int threads;
  void (*forward)(uint32_t *, const PrimeTables &, unsigned);
  void (*inverse)(uint32_t *, const PrimeTables &, unsigned);
  std::mutex permMutex;
  std::map<uint32_t, std::vector<uint32_t>> permutations;
};

} // namespace

std::unique_ptr<RnsBackend> createCpuBackend(const RnsContext &ctx,
                                             CpuBackendOptions options) {
  // Ciphertext-sized scratch (megabytes) is allocated and freed on every
  // operation. glibc serves such blocks with mmap and unmaps them on free,
  // so each operation page-faulted all its scratch afresh: 40% of HMult at
  // N = 2^16 (177 -> 105 ms when freed blocks stay in the heap). Schedules
  // keep their arrays in one planned arena, but kernels' own scratch and
  // the client library still allocate per call: keep freed blocks.
  static std::once_flag configured;
  std::call_once(configured, [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
  return std::make_unique<CpuBackend>(ctx, options);
}

} // namespace cerium::kernels
