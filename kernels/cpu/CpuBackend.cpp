//===- CpuBackend.cpp - CPU implementation of the RNS kernels -------------===//

#include "cerium/kernels/CpuBackend.h"

#include "CpuKernels.h"
#include "cerium/Support/Error.h"
#include "cerium/kernels/HostMemory.h"

#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cerium::kernels {

using namespace modarith;
using cpu::Reduce64Constants;

bool cpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

bool cpuHasAvx512() {
  // The AVX-512 path is compiled for x86-64-v4 (F, BW, CD, DQ, VL).
  static const bool has =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return has;
}

bool cpuSupports(CpuPath path) {
  switch (path) {
  case CpuPath::Avx512:
    return cpuHasAvx2() && cpuHasAvx512();
  case CpuPath::Avx2:
    return cpuHasAvx2();
  default:
    return true;
  }
}

const char *cpuPathName(CpuPath path) {
  switch (path) {
  case CpuPath::Portable:
    return "portable";
  case CpuPath::Avx2:
    return "avx2";
  case CpuPath::Avx512:
    return "avx512";
  default:
    return "auto";
  }
}

namespace {

std::string supportedPaths() {
  std::string s = "portable";
  for (CpuPath p : {CpuPath::Avx2, CpuPath::Avx512})
    if (cpuSupports(p))
      s += std::string(", ") + cpuPathName(p);
  return s;
}

} // namespace

CpuPath bestCpuPath() {
  return cpuSupports(CpuPath::Avx512) ? CpuPath::Avx512
         : cpuSupports(CpuPath::Avx2) ? CpuPath::Avx2
                                      : CpuPath::Portable;
}

CpuPath resolveCpuPath(CpuPath requested) {
  std::string source = "the CPU path";
  if (requested == CpuPath::Auto) {
    const char *env = std::getenv("CERIUM_CPU");
    if (!env || !*env || std::string_view(env) == "auto")
      return bestCpuPath();
    std::string_view name(env);
    if (name == "portable")
      requested = CpuPath::Portable;
    else if (name == "avx2")
      requested = CpuPath::Avx2;
    else if (name == "avx512")
      requested = CpuPath::Avx512;
    else
      throw Error("CERIUM_CPU=" + std::string(name) +
                  ": expected portable, avx2 or avx512 (this CPU runs " +
                  supportedPaths() + ")");
    source = "CERIUM_CPU=" + std::string(name);
  }
  if (!cpuSupports(requested))
    throw Error(source + ": this CPU has no " +
                (requested == CpuPath::Avx2 ? "AVX2" : "AVX-512 (x86-64-v4)") +
                "; it runs " + supportedPaths());
  return requested;
}

namespace {

const cpu::KernelSet &kernelsFor(CpuPath path) {
  switch (path) {
  case CpuPath::Avx512:
    return cpu::avx512Kernels();
  case CpuPath::Avx2:
    return cpu::avx2Kernels();
  default:
    return cpu::portableKernels();
  }
}

class CpuBackend final : public RnsBackend {
public:
  CpuBackend(const RnsContext &ctx, CpuBackendOptions options)
      : ctx(ctx),
        threads(options.threads > 0 ? options.threads : omp_get_max_threads()),
        k(kernelsFor(resolveCpuPath(options.path))) {}

  CpuPath path() const { return k.path; }

  const RnsContext &context() const override { return ctx; }

  uint32_t *allocate(size_t words) override { return allocateHostWords(words); }
  void deallocate(uint32_t *words) override { freeHostWords(words); }
  void copyFromHost(uint32_t *dst, const uint32_t *src, size_t words) override {
    std::memcpy(dst, src, words * sizeof(uint32_t));
  }
  void copyToHost(uint32_t *dst, const uint32_t *src, size_t words) override {
    std::memcpy(dst, src, words * sizeof(uint32_t));
  }
  void copy(uint32_t *dst, const uint32_t *src, size_t words) override {
    // Schedules copy whole limb arrays (rns.concat, in-place operands):
    // megabytes, worth both cores' load/store bandwidth. Overlapping ranges
    // keep memmove's order.
    constexpr size_t kPiece = 1 << 14;
    if (words < 2 * kPiece || threads == 1 ||
        (dst < src + words && src < dst + words)) {
      std::memmove(dst, src, words * sizeof(uint32_t));
      return;
    }
    parallelLimbs((words + kPiece - 1) / kPiece, [&](size_t i) {
      const size_t begin = i * kPiece;
      std::memcpy(dst + begin, src + begin,
                  std::min(kPiece, words - begin) * sizeof(uint32_t));
    });
  }
  void synchronize() override {}
  bool hostAccessible() const override { return true; }
  int hostThreads() const override { return threads; }

  void elementwise(const ElementwiseProgram &program,
                   std::span<const Limbs> outputs,
                   std::span<const ConstLimbs> inputs) override {
    runElementwise(program, outputs, inputs, nullptr);
  }

  void elementwiseRepeated(const ElementwiseProgram &program,
                           std::span<const Limbs> outputs,
                           std::span<const ConstLimbs> inputs,
                           std::span<const uint32_t> repeats) override {
    checkRepeatedInputs(inputs, repeats);
    runElementwise(program, outputs, inputs, repeats.data());
  }

  void nttForward(Limbs x) override {
    parallelLimbs(x.numLimbs(), [&](size_t i) {
      k.nttForward(x.limb(i), ctx.prime(x.primes[i]), ctx.logDegree());
    });
  }

  void nttInverse(Limbs x) override {
    parallelLimbs(x.numLimbs(), [&](size_t i) {
      k.nttInverse(x.limb(i), ctx.prime(x.primes[i]), ctx.logDegree());
    });
  }

  void nttForwardSigned(Limbs out,
                        std::span<const int64_t> coefficients) override {
    checkSignedCoefficients(out, coefficients.size());
    // A polynomial in Y = X^gap (M = N / gap coefficients) has, at
    // psi^(2 brev(j) + 1), the value of its size-M transform over
    // psi' = psi^gap at j / gap: the size-M NTT, whose twiddles psi'^brev(i)
    // are the first M of the table, each value then repeated gap times (the
    // order is bit-reversed, so the copies are adjacent). Each limb is
    // transformed right after its reduction, while it is in cache; the
    // limbs in parallel (the encoder's reduction was one thread). The
    // vector paths take transforms of 16 words or more.
    transformSigned(out, coefficients, true);
  }

  void nttForwardSignedCompact(Limbs out,
                               std::span<const int64_t> coefficients) override {
    checkCompactCoefficients(out, coefficients.size());
    transformSigned(out, coefficients, false);
  }

  /// nttForwardSigned's size-M transforms, each word then repeated over
  /// the N/M words it stands for if `spread`.
  void transformSigned(Limbs out, std::span<const int64_t> coefficients,
                       bool spread) {
    const size_t m = coefficients.size(), gap = spread ? out.degree / m : 1;
    const unsigned logM = unsigned(std::countr_zero(m));
    const cpu::KernelSet &path = m >= 16 ? k : cpu::portableKernels();
    parallelLimbs(out.numLimbs(), [&](size_t i) {
      uint32_t *limb = out.limb(i);
      path.fromSigned(limb, coefficients.data(), reduceConstants(out.primes[i]),
                      m);
      path.nttForward(limb, ctx.prime(out.primes[i]), logM);
      for (size_t j = m; gap > 1 && j-- > 0;)
        std::fill_n(limb + j * gap, gap, limb[j]);
    });
  }

  void add(Limbs out, ConstLimbs a, ConstLimbs b) override {
    check(out, a);
    check(out, b);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    k.add(out.limb(i) + c0, a.limb(i) + c0, b.limb(i) + c0,
                          ctx.modulus(out.primes[i]), len);
                  });
  }

  void sub(Limbs out, ConstLimbs a, ConstLimbs b) override {
    check(out, a);
    check(out, b);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    k.sub(out.limb(i) + c0, a.limb(i) + c0, b.limb(i) + c0,
                          ctx.modulus(out.primes[i]), len);
                  });
  }

  void negate(Limbs out, ConstLimbs a) override {
    check(out, a);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    k.negate(out.limb(i) + c0, a.limb(i) + c0,
                             ctx.modulus(out.primes[i]), len);
                  });
  }

  void mul(Limbs out, ConstLimbs a, ConstLimbs b) override {
    check(out, a);
    check(out, b);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    k.mul(out.limb(i) + c0, a.limb(i) + c0, b.limb(i) + c0,
                          makeProductBarrett(ctx.modulus(out.primes[i])), len);
                  });
  }

  void mulAdd(Limbs out, ConstLimbs a, ConstLimbs b) override {
    check(out, a);
    check(out, b);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    k.mulAdd(out.limb(i) + c0, a.limb(i) + c0, b.limb(i) + c0,
                             makeProductBarrett(ctx.modulus(out.primes[i])),
                             len);
                  });
  }

  void mulScalar(Limbs out, ConstLimbs a,
                 std::span<const uint32_t> scalars) override {
    check(out, a);
    checkScalars(out, scalars);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    uint32_t p = ctx.modulus(out.primes[i]);
                    k.mulScalar(out.limb(i) + c0, a.limb(i) + c0, scalars[i],
                                shoupQuotient(scalars[i], p), p, len);
                  });
  }

  void addScalar(Limbs out, ConstLimbs a,
                 std::span<const uint32_t> scalars) override {
    check(out, a);
    checkScalars(out, scalars);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    k.addScalar(out.limb(i) + c0, a.limb(i) + c0, scalars[i],
                                ctx.modulus(out.primes[i]), len);
                  });
  }

  void subMulScalar(Limbs out, ConstLimbs a, ConstLimbs b,
                    std::span<const uint32_t> scalars) override {
    check(out, a);
    check(out, b);
    checkScalars(out, scalars);
    parallelWords(out.numLimbs(), out.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    uint32_t p = ctx.modulus(out.primes[i]);
                    k.subMulScalar(out.limb(i) + c0, a.limb(i) + c0,
                                   b.limb(i) + c0, scalars[i],
                                   shoupQuotient(scalars[i], p), p, len);
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
      parallelWords(out.numLimbs(), n, [&](size_t i, size_t c0, size_t len) {
        k.permute(out.limb(i) + c0, in.limb(i), perm.data() + c0, len);
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
    const size_t kIn = conv.inputs().size(), m = conv.outputs().size();
    if (in.numLimbs() != kIn || out.numLimbs() != m || in.degree != out.degree)
      throw std::invalid_argument("baseConvert: limb count mismatch");
    const size_t n = in.degree;
    std::vector<const uint32_t *> inPtr(kIn);
    std::vector<uint32_t *> outPtr(m);
    std::vector<uint32_t> inModuli(kIn), outModuli(m), minusA(m), oneShoup(m),
        pow32(m), pow32Shoup(m);
    for (size_t i = 0; i < kIn; ++i) {
      inPtr[i] = in.limb(i);
      inModuli[i] = ctx.modulus(conv.inputs()[i]);
    }
    for (size_t j = 0; j < m; ++j) {
      outPtr[j] = out.limb(j);
      const Reduce64Constants c = reduceConstants(conv.outputs()[j]);
      outModuli[j] = c.p;
      minusA[j] = c.p - conv.productModOutput()[j];
      oneShoup[j] = c.oneShoup;
      pow32[j] = c.pow32;
      pow32Shoup[j] = c.pow32Shoup;
    }
    cpu::BaseConvertArgs args;
    args.k = kIn;
    args.m = m;
    args.in = inPtr.data();
    args.out = outPtr.data();
    args.inModuli = inModuli.data();
    args.hatInverse = conv.hatInverse().data();
    args.hatInverseShoup = conv.hatInverseShoup().data();
    args.reciprocals = conv.inputReciprocals().data();
    args.outModuli = outModuli.data();
    args.hatMod = conv.hatModOutput().data();
    args.minusA = minusA.data();
    args.oneShoup = oneShoup.data();
    args.pow32 = pow32.data();
    args.pow32Shoup = pow32Shoup.data();
    // Blocks of coefficients: each one converts independently (all k inputs
    // to all m outputs), and a block's k input rows stay in cache.
    const size_t block = std::min<size_t>(n, 2048);
    parallelLimbs(n / block, [&](size_t blk) {
      k.baseConvertBlock(args, blk * block, block);
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
      k.nttInverse(t.data(), ctx.prime(in.primes[keep]), ctx.logDegree());
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
        k.nttForward(ri, pt, ctx.logDegree());
      uint32_t s = modarith::inverse(ql % qi.value, qi);
      uint32_t sq = shoupQuotient(s, qi.value);
      k.sub(ri, in.limb(i), ri, qi.value, n);
      k.mulScalar(out.limb(i), ri, s, sq, qi.value, n);
    });
  }

  void keySwitchInnerProduct(Limbs out0, Limbs out1,
                             std::span<const ConstLimbs> digits,
                             std::span<const ConstLimbs> keyB,
                             std::span<const ConstLimbs> keyA) override {
    const size_t beta = digits.size();
    checkKeySwitch(out0, out1, digits, keyB, keyA);
    // Limb i of every digit and key, as one pointer table per limb.
    const size_t limbs = out0.numLimbs();
    std::vector<const uint32_t *> ptr(limbs * 3 * beta);
    for (size_t i = 0; i < limbs; ++i)
      for (size_t d = 0; d < beta; ++d) {
        ptr[(3 * i) * beta + d] = digits[d].limb(i);
        ptr[(3 * i + 1) * beta + d] = keyB[d].limb(i);
        ptr[(3 * i + 2) * beta + d] = keyA[d].limb(i);
      }
    parallelWords(limbs, out0.degree, [&](size_t i, size_t c0, size_t len) {
      const uint32_t *const *p = ptr.data() + 3 * i * beta;
      k.innerProduct(out0.limb(i), out1.limb(i), p, p + beta, p + 2 * beta,
                     beta, reduceConstants(out0.primes[i]), c0, len);
    });
  }

  void keySwitchInnerProduct(Limbs out0, Limbs out1,
                             std::span<const ConstLimbs> digits,
                             std::span<const ConstLimbs> keyB,
                             const UniformLimbSource &keyA,
                             size_t firstKeyLimb) override {
    const size_t beta = digits.size(), n = out0.degree;
    checkKeySwitch(out0, out1, digits, keyB);
    // Whole limbs per thread (a limb's keystream is sequential), its digits'
    // uniform limbs made into the thread's own buffer (beta N words, cache
    // resident) right before the products that read them.
    checkDigitCount(beta);
    parallelLimbs(out0.numLimbs(), [&](size_t i) {
      thread_local std::vector<uint32_t> buffer;
      buffer.resize(beta * n);
      const uint32_t *x[kMaxDigits], *kb[kMaxDigits], *ka[kMaxDigits];
      for (size_t d = 0; d < beta; ++d) {
        keyA(d, firstKeyLimb + i, std::span(buffer).subspan(d * n, n));
        x[d] = digits[d].limb(i);
        kb[d] = keyB[d].limb(i);
        ka[d] = buffer.data() + d * n;
      }
      k.innerProduct(out0.limb(i), out1.limb(i), x, kb, ka, beta,
                     reduceConstants(out0.primes[i]), 0, n);
    });
  }

  void keySwitchInnerProductRotated(Limbs out0, Limbs out1,
                                    std::span<const ConstLimbs> digits,
                                    std::span<const ConstLimbs> keyB,
                                    std::span<const ConstLimbs> keyA,
                                    uint32_t galois) override {
    const size_t beta = digits.size();
    checkKeySwitch(out0, out1, digits, keyB, keyA);
    checkDigitCount(beta);
    const std::vector<uint32_t> &perm = nttPermutation(oddGalois(galois));
    // A piece of each limb at a time: its digit words gathered through the
    // permutation into the thread's buffer (cache resident) right before
    // the products read them, instead of a rotated copy through memory.
    parallelWords(out0.numLimbs(), out0.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    thread_local std::vector<uint32_t> rotated;
                    rotated.resize(beta * len);
                    const uint32_t *ka[kMaxDigits];
                    for (size_t d = 0; d < beta; ++d)
                      ka[d] = keyA[d].limb(i);
                    rotatedPiece(out0, out1, digits, keyB, ka, perm, i, c0, len,
                                 rotated.data());
                  });
  }

  void keySwitchInnerProductRotated(Limbs out0, Limbs out1,
                                    std::span<const ConstLimbs> digits,
                                    std::span<const ConstLimbs> keyB,
                                    const UniformLimbSource &keyA,
                                    size_t firstKeyLimb,
                                    uint32_t galois) override {
    const size_t beta = digits.size(), n = out0.degree;
    checkKeySwitch(out0, out1, digits, keyB);
    checkDigitCount(beta);
    const std::vector<uint32_t> &perm = nttPermutation(oddGalois(galois));
    // As the unrotated form: whole limbs per thread, the uniform limbs made
    // into the thread's buffer; the rotated digit words gathered a piece at
    // a time beside it.
    constexpr size_t kPiece = 8192;
    parallelLimbs(out0.numLimbs(), [&](size_t i) {
      thread_local std::vector<uint32_t> made, rotated;
      made.resize(beta * n);
      rotated.resize(beta * std::min(n, kPiece));
      for (size_t d = 0; d < beta; ++d)
        keyA(d, firstKeyLimb + i, std::span(made).subspan(d * n, n));
      const uint32_t *ka[kMaxDigits];
      for (size_t d = 0; d < beta; ++d)
        ka[d] = made.data() + d * n;
      for (size_t c0 = 0; c0 < n; c0 += kPiece)
        rotatedPiece(out0, out1, digits, keyB, ka, perm, i, c0,
                     std::min(kPiece, n - c0), rotated.data());
    });
  }

private:
  /// `program` on limb-shaped operands, input r given compactly where
  /// repeats (optional) has repeats[r] > 1 (already checked against the
  /// degree).
  void runElementwise(const ElementwiseProgram &program,
                      std::span<const Limbs> outputs,
                      std::span<const ConstLimbs> inputs,
                      const uint32_t *repeats) {
    program.checkOperands(outputs.size(), inputs.size(),
                          outputs.empty() ? 0 : outputs[0].numLimbs());
    const Limbs &first = outputs[0];
    for (size_t r = 0; r < inputs.size(); ++r) {
      if (!repeats || repeats[r] <= 1)
        check(first, inputs[r]);
      if (repeats && !std::ranges::equal(inputs[r].primes, first.primes))
        throw std::invalid_argument("elementwiseRepeated: an input's limbs "
                                    "do not match the outputs'");
    }
    for (const Limbs &out : outputs)
      check(first, out);
    const cpu::ProgramSums sums = cpu::planSums(program);
    parallelWords(first.numLimbs(), first.degree,
                  [&](size_t i, size_t c0, size_t len) {
                    k.runProgram(program, sums, outputs, inputs, repeats, i,
                                 ctx.modulus(first.primes[i]), c0, len);
                  });
  }

  static constexpr size_t kMaxDigits = 64;
  /// Words [c0, c0 + len) of limb i of both rotated inner products: each
  /// digit's words gathered through `perm` into `rotated` (beta len words)
  /// right before the products read them; keyA[d] is limb i of digit d's a
  /// half.
  void rotatedPiece(Limbs out0, Limbs out1, std::span<const ConstLimbs> digits,
                    std::span<const ConstLimbs> keyB,
                    const uint32_t *const *keyA,
                    const std::vector<uint32_t> &perm, size_t i, size_t c0,
                    size_t len, uint32_t *rotated) const {
    const size_t beta = digits.size();
    const uint32_t *x[kMaxDigits], *kb[kMaxDigits], *ka[kMaxDigits];
    for (size_t d = 0; d < beta; ++d) {
      k.permute(rotated + d * len, digits[d].limb(i), perm.data() + c0, len);
      x[d] = rotated + d * len;
      kb[d] = keyB[d].limb(i) + c0;
      ka[d] = keyA[d] + c0;
    }
    k.innerProduct(out0.limb(i) + c0, out1.limb(i) + c0, x, kb, ka, beta,
                   reduceConstants(out0.primes[i]), 0, len);
  }
  static void checkDigitCount(size_t beta) {
    if (beta > kMaxDigits)
      throw std::invalid_argument("key-switch: more than 64 digits");
  }
  uint32_t oddGalois(uint32_t galois) const {
    if ((galois & 1) == 0)
      throw std::invalid_argument("Galois element must be odd");
    return galois & static_cast<uint32_t>(2 * ctx.degree() - 1);
  }

  /// The operands both inner products share: the digits and the b halves
  /// over out0's primes, one b per digit, out1 like out0.
  static void checkKeySwitch(Limbs out0, Limbs out1,
                             std::span<const ConstLimbs> digits,
                             std::span<const ConstLimbs> keyB) {
    if (keyB.size() != digits.size())
      throw std::invalid_argument("key-switch: digit count mismatch");
    for (size_t d = 0; d < digits.size(); ++d) {
      check(out0, digits[d]);
      check(out0, keyB[d]);
    }
    check(out0, out1);
  }
  /// ... and the uniform halves, held whole.
  static void checkKeySwitch(Limbs out0, Limbs out1,
                             std::span<const ConstLimbs> digits,
                             std::span<const ConstLimbs> keyB,
                             std::span<const ConstLimbs> keyA) {
    checkKeySwitch(out0, out1, digits, keyB);
    if (keyA.size() != digits.size())
      throw std::invalid_argument("key-switch: digit count mismatch");
    for (const ConstLimbs &a : keyA)
      check(out0, a);
  }

  /// body(i) for i < count, one parallel region. Dynamic scheduling, one
  /// item at a time: items are limbs or blocks (tens of microseconds or
  /// more), so handing them out costs nothing measurable, and a thread that
  /// the OS deschedules (a busy or shared machine) delays the call by one
  /// item, not by the static half of the work the other thread then waits
  /// for at the barrier.
  template <class F> void parallelLimbs(size_t count, F &&body) {
    if (count == 1 || threads == 1) {
      for (size_t i = 0; i < count; ++i)
        body(i);
      return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (size_t i = 0; i < count; ++i)
      body(i);
  }

  /// body(i, c0, len) over words [c0, c0 + len) of each of `limbs` limbs of
  /// n words, in pieces of at most kPieceWords: elementwise work splits
  /// within a limb, so odd limb counts and small batches still keep every
  /// thread busy to the end.
  template <class F> void parallelWords(size_t limbs, size_t n, F &&body) {
    constexpr size_t kPieceWords = 8192;
    const size_t pieces = threads == 1 ? 1 : std::max<size_t>(1, n / kPieceWords);
    const size_t piece = n / pieces;
    parallelLimbs(limbs * pieces, [&](size_t item) {
      const size_t i = item / pieces, c0 = (item % pieces) * piece;
      body(i, c0, piece);
    });
  }

  Reduce64Constants reduceConstants(uint32_t prime) const {
    return cpu::reduce64Constants(ctx.modulus(prime));
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
    for (size_t j = 0; j < n; ++j) {
      uint32_t e = 2 * bitReverse(static_cast<uint32_t>(j), logN) + 1;
      uint32_t src = static_cast<uint32_t>((uint64_t(e) * galois) & mask);
      perm[j] = bitReverse((src - 1) >> 1, logN);
    }
    return permutations.emplace(galois, std::move(perm)).first->second;
  }

  const RnsContext &ctx;
  int threads;
  const cpu::KernelSet &k;
  std::mutex permMutex;
  std::map<uint32_t, std::vector<uint32_t>> permutations;
};

} // namespace

CpuPath cpuPathOf(const RnsBackend &backend) {
  if (auto *cpu = dynamic_cast<const CpuBackend *>(&backend))
    return cpu->path();
  return CpuPath::Auto;
}

CpuPath hostCpuPath(const RnsBackend &backend) {
  const CpuPath own = cpuPathOf(backend);
  return own == CpuPath::Auto ? resolveCpuPath() : own;
}

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
