//===- CpuPathTest.cpp - Every CPU code path agrees with the portable one -===//
//
// The CPU backend runs one of three code paths (portable, AVX2, AVX-512);
// each must give the portable path's words bit for bit, for every kernel and
// every ring size. The other kernel tests check the portable path (or the
// one CERIUM_CPU picks) against exact arithmetic; ctest runs this binary
// once per path with CERIUM_CPU set, and exits 77 (skipped) where the CPU
// lacks the path asked for.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "cerium/kernels/CpuBackend.h"
// planSums: which sums the CPU backend runs lazily.
#include "../../kernels/cpu/CpuKernels.h"

#include <cstdlib>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <string>

using namespace cerium;
using namespace cerium::kernels;

namespace {

/// A CERIUM_CPU this CPU cannot run skips the whole binary (ctest's
/// SKIP_RETURN_CODE), rather than failing every backend-creating test.
class RequestedPathEnvironment : public ::testing::Environment {
public:
  void SetUp() override {
    try {
      resolveCpuPath();
    } catch (const std::exception &e) {
      std::printf("skipped: %s\n", e.what());
      std::fflush(stdout);
      std::_Exit(77);
    }
  }
};
const auto *const requestedPath =
    ::testing::AddGlobalTestEnvironment(new RequestedPathEnvironment);

std::vector<CpuPath> vectorPaths() {
  std::vector<CpuPath> paths;
  for (CpuPath p : {CpuPath::Avx2, CpuPath::Avx512})
    if (cpuSupports(p))
      paths.push_back(p);
    else
      std::printf("note: this CPU has no %s path; not compared\n",
                  cpuPathName(p));
  return paths;
}

/// The portable path, then every vector path this CPU has.
std::vector<CpuPath> everyPath() {
  std::vector<CpuPath> paths = vectorPaths();
  paths.insert(paths.begin(), CpuPath::Portable);
  return paths;
}

/// Primes of several widths, from the narrowest the kernels accept (or the
/// narrowest p = 1 mod 2N) to 30 bits.
std::vector<uint32_t> mixedPrimes(unsigned logN) {
  std::vector<uint32_t> primes;
  const unsigned narrow = std::max(modarith::kMinModulusBits, logN + 8);
  for (auto [bits, count] : {std::pair{30u, 7u}, std::pair{28u, 6u},
                             std::pair{24u, 6u}, std::pair{narrow, 3u}}) {
    auto some = generatePrimes(logN, bits, count, primes);
    primes.insert(primes.end(), some.begin(), some.end());
  }
  return primes;
}

struct Data {
  const RnsContext &ctx;
  Prng &prng;
  std::vector<uint32_t> random(std::span<const uint32_t> ids,
                               bool extreme = false) {
    std::vector<uint32_t> v(ids.size() * ctx.degree());
    for (size_t i = 0; i < v.size(); ++i) {
      uint32_t p = ctx.modulus(ids[i / ctx.degree()]);
      v[i] = extreme ? p - 1 - uint32_t(i % 2) : prng.uniformBelow(p);
    }
    return v;
  }
};

TEST(CpuPaths, EveryKernelMatchesThePortablePathAtEverySize) {
  CERIUM_SEEDED_PRNG(prng);
  const auto paths = vectorPaths();
  for (unsigned logN = 4; logN <= 16; ++logN) {
    RnsContext ctx(logN, mixedPrimes(logN));
    const size_t n = ctx.degree(), total = ctx.numPrimes();
    std::vector<uint32_t> all(total);
    std::iota(all.begin(), all.end(), 0);
    // Fewer limbs at the large rings keep the test quick.
    const size_t limbs = logN >= 14 ? 6 : total;
    std::span<const uint32_t> ids = std::span(all).first(limbs);
    Data data{ctx, prng};
    auto a = data.random(ids), b = data.random(ids);
    // Signed coefficients of every magnitude, the extremes first.
    std::vector<int64_t> coefficients(n);
    for (size_t j = 0; j < n; ++j)
      coefficients[j] = j == 0 ? std::numeric_limits<int64_t>::min()
                        : j == 1
                            ? std::numeric_limits<int64_t>::max()
                            : static_cast<int64_t>(prng.next64()) >> (j % 64);
    std::vector<uint32_t> scalars(limbs);
    for (size_t i = 0; i < limbs; ++i)
      scalars[i] = prng.uniformBelow(ctx.modulus(ids[i]));
    // A fused program: (x * y + c0 x) - (-y), two outputs.
    ElementwiseProgram program;
    using Op = ElementwiseProgram::Opcode;
    program.numInputs = 2;
    program.code = {{Op::Mul, 0, 1},  {Op::MulConstant, 0, 0},
                    {Op::Add, 2, 3},  {Op::Negate, 1, 0},
                    {Op::Sub, 4, 5}};
    program.outputs = {6, 2};
    program.numLimbs = limbs;
    for (size_t i = 0; i < limbs; ++i) {
      uint32_t p = ctx.modulus(ids[i]);
      program.constants.push_back(scalars[i]);
      program.constantsShoup.push_back(modarith::shoupQuotient(scalars[i], p));
    }

    /// Every kernel's outputs on one backend, concatenated.
    auto runAll = [&](RnsBackend &be) {
      std::vector<std::vector<uint32_t>> results;
      auto out = [&] { return std::vector<uint32_t>(limbs * n); };
      auto view = [&](std::vector<uint32_t> &v) { return Limbs{v.data(), ids, n}; };
      auto cview = [&](const std::vector<uint32_t> &v) {
        return ConstLimbs{v.data(), ids, n};
      };
      auto x = a;
      be.nttForward(view(x));
      results.push_back(x);
      be.nttInverse(view(x));
      results.push_back(x);
      be.nttForwardSigned(view(x), coefficients);
      results.push_back(x);
      for (int op = 0; op < 8; ++op) {
        auto o = out();
        switch (op) {
        case 0: be.add(view(o), cview(a), cview(b)); break;
        case 1: be.sub(view(o), cview(a), cview(b)); break;
        case 2: be.negate(view(o), cview(a)); break;
        case 3: be.mul(view(o), cview(a), cview(b)); break;
        case 4: o = a; be.mulAdd(view(o), cview(a), cview(b)); break;
        case 5: be.mulScalar(view(o), cview(a), scalars); break;
        case 6: be.addScalar(view(o), cview(a), scalars); break;
        case 7: be.subMulScalar(view(o), cview(a), cview(b), scalars); break;
        }
        results.push_back(o);
      }
      {
        auto o0 = out(), o1 = out();
        Limbs outs[] = {view(o0), view(o1)};
        ConstLimbs ins[] = {cview(a), cview(b)};
        be.elementwise(program, outs, ins);
        results.push_back(o0);
        results.push_back(o1);
      }
      for (uint32_t g : {5u, uint32_t(2 * n - 1), 3u}) {
        for (Domain d : {Domain::Coefficient, Domain::Ntt}) {
          auto o = out();
          be.automorphism(view(o), cview(a), g, d);
          results.push_back(o);
        }
      }
      for (Domain d : {Domain::Coefficient, Domain::Ntt}) {
        std::vector<uint32_t> o((limbs - 1) * n);
        be.rescaleByLastPrime({o.data(), ids.first(limbs - 1), n}, cview(a),
                              d);
        results.push_back(o);
      }
      return results;
    };

    // Base conversions over the whole table: 17 inputs (past the 15-term
    // accumulation), one input, and output counts that leave every tile
    // remainder.
    auto convertAll = [&](RnsBackend &be, Prng &inputs) {
      std::vector<std::vector<uint32_t>> results;
      for (size_t kIn : {size_t(17), size_t(1), size_t(3), size_t(6)}) {
        for (size_t m : {total - kIn, size_t(1), size_t(2)}) {
          auto from = std::span<const uint32_t>(all).first(kIn);
          auto to = std::span<const uint32_t>(all).subspan(kIn, m);
          BaseConverter conv(ctx, from, to);
          Data d{ctx, inputs};
          auto in = d.random(from, m == 2);
          std::vector<uint32_t> o(m * n);
          be.baseConvert(conv, {o.data(), to, n}, {in.data(), from, n});
          results.push_back(o);
        }
      }
      return results;
    };

    // Inner products of 1, 3, 16 and 31 digits; the last with the largest
    // residues (every accumulation at its bound).
    auto innerAll = [&](RnsBackend &be, Prng &inputs) {
      std::vector<std::vector<uint32_t>> results;
      for (size_t beta : {size_t(1), size_t(3), size_t(16), size_t(31)}) {
        Data d{ctx, inputs};
        std::vector<std::vector<uint32_t>> store;
        for (size_t s = 0; s < 3 * beta; ++s)
          store.push_back(d.random(ids, beta == 31));
        std::vector<ConstLimbs> dg, kb, ka;
        for (size_t j = 0; j < beta; ++j) {
          dg.push_back({store[3 * j].data(), ids, n});
          kb.push_back({store[3 * j + 1].data(), ids, n});
          ka.push_back({store[3 * j + 2].data(), ids, n});
        }
        std::vector<uint32_t> o0(limbs * n), o1(limbs * n);
        be.keySwitchInnerProduct({o0.data(), ids, n}, {o1.data(), ids, n}, dg,
                                 kb, ka);
        results.push_back(o0);
        results.push_back(o1);
      }
      return results;
    };

    auto portable = createCpuBackend(ctx, {0, CpuPath::Portable});
    ASSERT_EQ(cpuPathOf(*portable), CpuPath::Portable);
    const uint64_t seed = prng.next64();
    Prng p1(seed), p2(seed);
    const auto want = runAll(*portable);
    const auto wantConv = convertAll(*portable, p1);
    const auto wantInner = innerAll(*portable, p2);
    for (CpuPath path : paths) {
      SCOPED_TRACE(std::string(cpuPathName(path)) +
                   " logN=" + std::to_string(logN));
      auto be = createCpuBackend(ctx, {0, path});
      ASSERT_EQ(cpuPathOf(*be), path);
      Prng q1(seed), q2(seed);
      const auto got = runAll(*be);
      for (size_t r = 0; r < want.size(); ++r)
        ASSERT_EQ(got[r], want[r]) << "kernel result " << r;
      const auto gotConv = convertAll(*be, q1);
      for (size_t r = 0; r < wantConv.size(); ++r)
        ASSERT_EQ(gotConv[r], wantConv[r]) << "base conversion " << r;
      const auto gotInner = innerAll(*be, q2);
      for (size_t r = 0; r < wantInner.size(); ++r)
        ASSERT_EQ(gotInner[r], wantInner[r]) << "inner product " << r;
    }
  }
}

TEST(CpuPaths, Reduce64ShoupLazyIsExact) {
  CERIUM_SEEDED_PRNG(prng);
  for (unsigned bits = modarith::kMinModulusBits;
       bits <= modarith::kMaxModulusBits; ++bits) {
    const uint32_t p = generatePrimes(4, bits, 1)[0];
    const uint32_t pow32 = uint32_t((uint64_t(1) << 32) % p);
    const uint32_t oneShoup = modarith::shoupQuotient(1, p),
                   pow32Shoup = modarith::shoupQuotient(pow32, p);
    for (int t = 0; t < 20000; ++t) {
      uint64_t x = t < 4 ? ~uint64_t(0) - uint64_t(t) : prng.next64();
      uint32_t r =
          modarith::reduce64ShoupLazy(x, p, oneShoup, pow32, pow32Shoup);
      ASSERT_LT(r, 4 * uint64_t(p));
      ASSERT_EQ(r % p, x % p) << "x = " << x << ", p = " << p;
    }
  }
}

/// Restores an environment variable when the test ends.
struct ScopedEnv {
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      saved = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (saved)
      setenv(name, saved->c_str(), 1);
    else
      unsetenv(name);
  }
  const char *name;
  std::optional<std::string> saved;
};

// The vector samplers of key halves draw the reference's values word for
// word on every AES unit this CPU has: lengths around the vector widths
// and a pass's 32 blocks (the tails), bounds from 2 to 2^32 - 1 (primes of
// every width the chain uses among them), counters across a carry of the
// low word.
TEST(CpuPaths, UniformSamplerMatchesTheReference) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Prng prng(seed);
  std::vector<uint32_t> bounds = {2u,          3u,          1000u,
                                  2752513u,    536903681u,  1062469633u,
                                  0x7fffffffu, 0x80000000u, 0x80000001u,
                                  0xfffffffbu, 0xffffffffu};
  for (int i = 0; i < 8; ++i)
    bounds.push_back(2 + prng.uniformBelow(0xfffffffdu));
  std::vector<kernels::AesUnit> units;
  for (kernels::AesUnit unit :
       {kernels::AesUnit::AesNi, kernels::AesUnit::Vaes256,
        kernels::AesUnit::Vaes512})
    if (kernels::cpuSupports(unit))
      units.push_back(unit);
    else
      std::printf("this CPU has no %s: not tested\n",
                  kernels::aesUnitName(unit));
  for (kernels::AesUnit unit : units)
    for (uint32_t bound : bounds)
      for (size_t n : {1, 7, 8, 15, 16, 17, 100, 127, 129, 257, 4096})
        for (uint64_t counter :
             {uint64_t(0), uint64_t(0xfffffffa) | uint64_t(7) << 48}) {
          const PrngSeed key = prng.nextSeed();
          std::vector<uint32_t> want(n), got(n + 1, 0xdeadbeef);
          expandUniform(key, 9, counter, bound, want);
          kernels::expandUniform(unit, key, 9, counter, bound,
                                 std::span(got).first(n));
          ASSERT_TRUE(std::equal(want.begin(), want.end(), got.begin()))
              << kernels::aesUnitName(unit) << " bound " << bound << " n " << n
              << " counter " << counter;
          ASSERT_EQ(got[n], 0xdeadbeef) << "wrote past the end";
        }
}

// The transform of a polynomial in X^gap from its N / gap coefficients is
// the transform of the whole polynomial, on every path and in the default
// (host) form, from 1 coefficient to N.
TEST(CpuPaths, SparseSignedTransformMatchesTheWholeOne) {
  CERIUM_SEEDED_PRNG(prng);
  const unsigned logN = 10;
  RnsContext ctx(logN, mixedPrimes(logN));
  const size_t n = ctx.degree(), limbs = 5;
  std::vector<uint32_t> ids(limbs);
  std::iota(ids.begin(), ids.end(), 0);
  const std::vector<CpuPath> paths = everyPath();
  for (size_t m = 1; m <= n; m *= 2) {
    std::vector<int64_t> some(m), whole(n, 0);
    for (size_t k = 0; k < m; ++k) {
      some[k] = static_cast<int64_t>(prng.next64()) >> (k % 40);
      whole[k * (n / m)] = some[k];
    }
    for (CpuPath path : paths) {
      auto backend = createCpuBackend(ctx, {2, path});
      std::vector<uint32_t> want(limbs * n), got(limbs * n), host(limbs * n);
      backend->nttForwardSigned({want.data(), ids, n}, whole);
      backend->nttForwardSigned({got.data(), ids, n}, some);
      backend->RnsBackend::nttForwardSigned({host.data(), ids, n}, some);
      EXPECT_TRUE(got == want) << cpuPathName(path) << " M " << m;
      EXPECT_TRUE(host == want) << cpuPathName(path) << " M " << m;
    }
  }
}

// A periodic constant's compact limbs (its size-M transforms) are the
// words the whole transform repeats, and a kernel reading them compactly
// (elementwiseRepeated) gives the words it gives on the spread limbs, on
// every path and in the default implementation, at every repeat from one
// word per block of the interpreter to several blocks per word.
TEST(CpuPaths, CompactConstantsReadInKernelsMatchSpreadOnes) {
  CERIUM_SEEDED_PRNG(prng);
  const unsigned logN = 12;
  RnsContext ctx(logN, mixedPrimes(logN));
  const size_t n = ctx.degree(), limbs = 3;
  std::vector<uint32_t> ids(limbs);
  std::iota(ids.begin(), ids.end(), 0);
  Data data{ctx, prng};
  // (x * c + y) and c - x, with c the constant: two outputs.
  ElementwiseProgram program;
  using Op = ElementwiseProgram::Opcode;
  program.numInputs = 3;
  program.code = {{Op::Mul, 0, 2}, {Op::Add, 3, 1}, {Op::Sub, 2, 0}};
  program.outputs = {4, 5};
  program.numLimbs = limbs;
  auto x = data.random(ids), y = data.random(ids);
  for (size_t m : {size_t(16), size_t(64), size_t(1024), n}) {
    std::vector<int64_t> coefficients(m);
    for (auto &c : coefficients)
      c = static_cast<int64_t>(prng.next64()) >> 20;
    for (CpuPath path : everyPath()) {
      SCOPED_TRACE(std::string(cpuPathName(path)) + " M " + std::to_string(m));
      auto backend = createCpuBackend(ctx, {2, path});
      std::vector<uint32_t> spread(limbs * n), compact(limbs * m),
          viaDefault(limbs * m);
      backend->nttForwardSigned({spread.data(), ids, n}, coefficients);
      backend->nttForwardSignedCompact({compact.data(), ids, m}, coefficients);
      backend->RnsBackend::nttForwardSignedCompact({viaDefault.data(), ids, m},
                                                   coefficients);
      for (size_t j = 0; j < limbs * n; ++j)
        ASSERT_EQ(spread[j], compact[j / (n / m)]) << "word " << j;
      EXPECT_TRUE(viaDefault == compact);

      std::vector<uint32_t> want(2 * limbs * n), got(2 * limbs * n),
          gotDefault(2 * limbs * n);
      auto outs = [&](std::vector<uint32_t> &v) {
        return std::vector<Limbs>{{v.data(), ids, n},
                                  {v.data() + limbs * n, ids, n}};
      };
      std::vector<ConstLimbs> whole = {
          {x.data(), ids, n}, {y.data(), ids, n}, {spread.data(), ids, n}};
      std::vector<ConstLimbs> repeated = {
          {x.data(), ids, n}, {y.data(), ids, n}, {compact.data(), ids, m}};
      const std::vector<uint32_t> repeats = {1, 1, uint32_t(n / m)};
      backend->elementwise(program, outs(want), whole);
      backend->elementwiseRepeated(program, outs(got), repeated, repeats);
      backend->RnsBackend::elementwiseRepeated(program, outs(gotDefault),
                                               repeated, repeats);
      EXPECT_TRUE(got == want);
      EXPECT_TRUE(gotDefault == want);
    }
  }
}

// Kernels that sum products (a baby-step giant-step sum: 8 products per
// output; a ModDown's sum of Shoup products and inputs; one of 40 products,
// past the 15 terms a 64-bit sum holds between reductions) run them as
// lazily reduced sums (CpuKernels.h's ProgramSums). On every path, with
// whole and compact (repeated) operands, they give the residues exact
// 64-bit arithmetic gives, element by element, also where a sum's inner
// value is an output or a product is used twice (neither is folded).
TEST(CpuPaths, SumsOfProductsMatchExactArithmetic) {
  CERIUM_SEEDED_PRNG(prng);
  // Rings of 4 and 8 words too: the vector forms' tails (fewer words than
  // a vector's lanes).
  for (unsigned logN : {2u, 3u, 11u}) {
    SCOPED_TRACE("logN " + std::to_string(logN));
    RnsContext ctx(logN, mixedPrimes(logN));
    const size_t n = ctx.degree(), limbs = ctx.numPrimes();
    std::vector<uint32_t> ids(limbs);
    std::iota(ids.begin(), ids.end(), 0);
    Data data{ctx, prng};
    using Op = ElementwiseProgram::Opcode;
    const uint16_t inputs = 12;
    ElementwiseProgram program;
    program.numInputs = inputs;
    program.numLimbs = limbs;
    for (int c = 0; c < 2; ++c)
      for (size_t i = 0; i < limbs; ++i) {
        const uint32_t p = ctx.modulus(ids[i]);
        program.constants.push_back(prng.uniformBelow(p));
        program.constantsShoup.push_back(
            modarith::shoupQuotient(program.constants.back(), p));
      }
    auto emit = [&](Op op, uint16_t lhs, uint16_t rhs) {
      program.code.push_back({op, lhs, rhs});
      return uint16_t(inputs + program.code.size() - 1);
    };
    // Input 0 holds p - 1 and p - 2: products near 2^60, so a sum that
    // missed a reduction would pass 2^64.
    bool extreme = false;
    auto input = [&] {
      return extreme ? uint16_t(0) : uint16_t(prng.uniformBelow(inputs));
    };
    // A sum of `products` products of random inputs, the first few terms
    // inputs and Shoup products instead; returns its register and the
    // register of its partial sum after `tap` terms.
    auto sum = [&](size_t products, size_t plains, size_t tap,
                   uint16_t *tapped) {
      uint16_t acc = emit(Op::Mul, input(), input());
      for (size_t t = 1; t < products + plains; ++t) {
        const uint16_t term =
            t <= plains
                ? (t % 2 ? input()
                         : emit(Op::MulConstant, input(), uint16_t(t / 2 % 2)))
                : emit(Op::Mul, input(), input());
        acc = emit(Op::Add, term, acc);
        if (t == tap && tapped)
          *tapped = acc;
      }
      return acc;
    };
    std::vector<uint16_t> outputs;
    for (int g = 0; g < 3; ++g)
      outputs.push_back(sum(8, 0, 0, nullptr));
    outputs.push_back(sum(8, 14, 0, nullptr));
    outputs.push_back(sum(40, 3, 0, nullptr));
    extreme = true;
    outputs.push_back(sum(40, 3, 0, nullptr));
    extreme = false;
    uint16_t partial = 0;
    outputs.push_back(sum(17, 0, 6, &partial));
    outputs.push_back(partial);
    // A product used twice: a term of two sums, reduced on its own.
    const uint16_t shared = emit(Op::Mul, input(), input());
    outputs.push_back(emit(Op::Add, emit(Op::Add, shared, emit(Op::Mul, 0, 1)),
                           emit(Op::Mul, 2, 3)));
    outputs.push_back(emit(Op::Sub, emit(Op::Add, shared, emit(Op::Mul, 4, 5)),
                           emit(Op::Negate, 6, 0)));
    // A product read by a negation, then by a sum: not folded (the
    // negation reads it).
    const uint16_t readTwice = emit(Op::Mul, input(), input());
    outputs.push_back(emit(Op::Negate, readTwice, 0));
    outputs.push_back(emit(Op::Add,
                           emit(Op::Add, readTwice, emit(Op::Mul, 7, 8)),
                           emit(Op::Mul, 9, 10)));
    program.outputs = outputs;
    // The sums the CPU runs lazily: three of 8 products, one of 8 and 14
    // other terms, two of 40 and 3, the 17-product one cut in two at its
    // tapped partial sum (an output), and the two with a product read twice
    // as a plain term; not the sum under the subtraction (one product).
    EXPECT_EQ(kernels::cpu::planSums(program).sums.size(), 10u);

    std::vector<std::vector<uint32_t>> in;
    for (size_t r = 0; r < inputs; ++r)
      in.push_back(data.random(ids, r == 0));
    // Exact arithmetic, element by element.
    std::vector<uint32_t> want(outputs.size() * limbs * n);
    std::vector<uint64_t> reg(program.numRegisters());
    for (size_t i = 0; i < limbs; ++i) {
      const uint64_t p = ctx.modulus(ids[i]);
      for (size_t j = 0; j < n; ++j) {
        for (size_t r = 0; r < inputs; ++r)
          reg[r] = in[r][i * n + j];
        for (size_t k = 0; k < program.code.size(); ++k) {
          const auto &ins = program.code[k];
          const uint64_t x = reg[ins.lhs], y = reg[ins.rhs];
          uint64_t &o = reg[inputs + k];
          switch (ins.op) {
          case Op::Add:
            o = (x + y) % p;
            break;
          case Op::Sub:
            o = (x + p - y) % p;
            break;
          case Op::Mul:
            o = x * y % p;
            break;
          case Op::Negate:
            o = (p - x) % p;
            break;
          case Op::MulConstant:
            o = x * program.constants[ins.rhs * limbs + i] % p;
            break;
          }
        }
        for (size_t k = 0; k < outputs.size(); ++k)
          want[(k * limbs + i) * n + j] = uint32_t(reg[outputs[k]]);
      }
    }
    // The same inputs with input 1 compact: its words repeated 4 times.
    const uint32_t repeat = 4;
    std::vector<uint32_t> compact(limbs * n / repeat);
    for (size_t w = 0; w < compact.size(); ++w)
      compact[w] = in[1][w * repeat];
    std::vector<uint32_t> spread(limbs * n);
    for (size_t w = 0; w < spread.size(); ++w)
      spread[w] = compact[w / repeat];
    std::vector<ConstLimbs> whole, repeated;
    for (size_t r = 0; r < inputs; ++r)
      whole.push_back({in[r].data(), ids, n});
    repeated = whole;
    repeated[1] = {compact.data(), ids, n / repeat};
    std::vector<uint32_t> repeats(inputs, 1);
    repeats[1] = repeat;
    auto outs = [&](std::vector<uint32_t> &v) {
      std::vector<Limbs> views;
      for (size_t k = 0; k < outputs.size(); ++k)
        views.push_back({v.data() + k * limbs * n, ids, n});
      return views;
    };
    for (CpuPath path : everyPath()) {
      SCOPED_TRACE(cpuPathName(path));
      for (int threads : {1, 2}) {
        auto backend = createCpuBackend(ctx, {threads, path});
        std::vector<uint32_t> got(want.size());
        backend->elementwise(program, outs(got), whole);
        ASSERT_TRUE(got == want) << threads << " threads";
      }
      // Input 1 compact against input 1 spread (its words then differ from
      // the random ones above).
      auto backend = createCpuBackend(ctx, {2, path});
      std::vector<uint32_t> viaSpread(want.size()), viaCompact(want.size());
      std::vector<ConstLimbs> spreadInputs = whole;
      spreadInputs[1] = {spread.data(), ids, n};
      backend->elementwise(program, outs(viaSpread), spreadInputs);
      backend->elementwiseRepeated(program, outs(viaCompact), repeated,
                                   repeats);
      EXPECT_TRUE(viaCompact == viaSpread);
    }
  }
}

// A key held with its uniform halves as seeds switches to the words the
// whole key gives, on every path: the halves made limb by limb (limb i of
// the call is limb firstKeyLimb + i of the key) inside the inner product.
/// Random key-switch operands over `limbs` primes: beta digits, the b halves,
/// and the a halves made by `source` (as a key held as seeds makes them),
/// its limb numbers starting at firstKeyLimb.
struct KeySwitchOperands {
  KeySwitchOperands(unsigned logN, size_t limbs, size_t beta,
                    size_t firstKeyLimb, Prng &prng)
      : ctx(logN, mixedPrimes(logN)), n(ctx.degree()), limbs(limbs),
        firstKeyLimb(firstKeyLimb), ids(limbs), seed(prng.nextSeed()) {
    std::iota(ids.begin(), ids.end(), 0);
    Data data{ctx, prng};
    for (size_t d = 0; d < beta; ++d) {
      digits.push_back(data.random(ids));
      keyB.push_back(data.random(ids));
      keyA.emplace_back(limbs * n);
      for (size_t i = 0; i < limbs; ++i)
        source(d, firstKeyLimb + i, std::span(keyA[d]).subspan(i * n, n));
    }
  }
  void source(size_t digit, size_t limb, std::span<uint32_t> out) const {
    expandUniform(seed, 5, uint64_t(digit) << 48 | uint64_t(limb) << 32,
                  ctx.modulus(ids[limb - firstKeyLimb]), out);
  }
  RnsBackend::UniformLimbSource uniformSource() const {
    return [this](size_t digit, size_t limb, std::span<uint32_t> out) {
      source(digit, limb, out);
    };
  }
  std::vector<ConstLimbs>
  views(const std::vector<std::vector<uint32_t>> &v) const {
    std::vector<ConstLimbs> out;
    for (const auto &x : v)
      out.push_back({x.data(), ids, n});
    return out;
  }
  /// Two outputs of limbs x N words, as views.
  Limbs first(std::vector<uint32_t> &out) const { return {out.data(), ids, n}; }
  Limbs second(std::vector<uint32_t> &out) const {
    return {out.data() + limbs * n, ids, n};
  }

  RnsContext ctx;
  size_t n, limbs, firstKeyLimb;
  std::vector<uint32_t> ids;
  PrngSeed seed;
  std::vector<std::vector<uint32_t>> digits, keyB, keyA;
};

TEST(CpuPaths, KeySwitchWithHalvesMadeAtUseMatchesTheWholeKey) {
  CERIUM_SEEDED_PRNG(prng);
  KeySwitchOperands k(12, 9, 3, 4, prng);
  for (CpuPath path : everyPath()) {
    auto backend = createCpuBackend(k.ctx, {2, path});
    std::vector<uint32_t> want(2 * k.limbs * k.n), got(2 * k.limbs * k.n);
    backend->keySwitchInnerProduct(k.first(want), k.second(want),
                                   k.views(k.digits), k.views(k.keyB),
                                   k.views(k.keyA));
    backend->keySwitchInnerProduct(k.first(got), k.second(got),
                                   k.views(k.digits), k.views(k.keyB),
                                   k.uniformSource(), k.firstKeyLimb);
    EXPECT_TRUE(got == want) << cpuPathName(path);
  }
}

// A hoisted rotation's key switch reading its digits through the
// automorphism (rns.key_switch permute) equals rotating them first, with
// whole keys and with uniform halves made at use, on every path; N = 2^14
// takes two pieces of each limb.
TEST(CpuPaths, KeySwitchOfRotatedDigitsMatchesRotatingThemFirst) {
  CERIUM_SEEDED_PRNG(prng);
  KeySwitchOperands k(14, 5, 3, 2, prng);
  const size_t words = k.limbs * k.n;
  const uint32_t twoN = uint32_t(2 * k.n);
  for (uint32_t g : {5u, 25u, twoN - 1, 2 * prng.uniformBelow(twoN / 2) + 1})
    for (CpuPath path : everyPath()) {
      auto backend = createCpuBackend(k.ctx, {2, path});
      std::vector<std::vector<uint32_t>> rotated(k.digits.size(),
                                                 std::vector<uint32_t>(words));
      for (size_t d = 0; d < k.digits.size(); ++d)
        backend->automorphism({rotated[d].data(), k.ids, k.n},
                              k.views(k.digits)[d], g, Domain::Ntt);
      std::vector<uint32_t> want(2 * words), whole(2 * words), atUse(2 * words);
      backend->keySwitchInnerProduct(k.first(want), k.second(want),
                                     k.views(rotated), k.views(k.keyB),
                                     k.views(k.keyA));
      backend->keySwitchInnerProductRotated(k.first(whole), k.second(whole),
                                            k.views(k.digits), k.views(k.keyB),
                                            k.views(k.keyA), g);
      backend->keySwitchInnerProductRotated(
          k.first(atUse), k.second(atUse), k.views(k.digits), k.views(k.keyB),
          k.uniformSource(), k.firstKeyLimb, g);
      EXPECT_TRUE(whole == want) << cpuPathName(path) << ", galois " << g;
      EXPECT_TRUE(atUse == want) << cpuPathName(path) << ", galois " << g;
    }
}

TEST(CpuPaths, CeriumCpuSelectsOrRefusesAPath) {
  {
    ScopedEnv env("CERIUM_CPU", "portable");
    EXPECT_EQ(resolveCpuPath(), CpuPath::Portable);
    // An explicit option wins over the variable.
    if (cpuSupports(CpuPath::Avx2)) {
      EXPECT_EQ(resolveCpuPath(CpuPath::Avx2), CpuPath::Avx2);
    }
  }
  {
    ScopedEnv env("CERIUM_CPU", "sse9");
    try {
      resolveCpuPath();
      FAIL() << "an unknown path was accepted";
    } catch (const std::exception &e) {
      EXPECT_NE(std::string(e.what()).find("CERIUM_CPU=sse9"),
                std::string::npos);
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
  {
    ScopedEnv env("CERIUM_CPU", nullptr);
    CpuPath best = resolveCpuPath();
    EXPECT_TRUE(cpuSupports(best));
    EXPECT_EQ(best == CpuPath::Avx512, cpuSupports(CpuPath::Avx512));
  }
  for (CpuPath p : {CpuPath::Avx2, CpuPath::Avx512}) {
    ScopedEnv env("CERIUM_CPU", cpuPathName(p));
    if (cpuSupports(p)) {
      EXPECT_EQ(resolveCpuPath(), p);
    } else {
      EXPECT_THROW(resolveCpuPath(), std::runtime_error);
      RnsContext ctx(4, generatePrimes(4, 28, 1));
      EXPECT_THROW(createCpuBackend(ctx), std::runtime_error);
    }
  }
}

} // namespace
