//===- Estimate.cpp - Cost model of planned schedules ---------------------===//

#include "cerium/Compiler/Estimate.h"
#include "cerium/CKKS/Encoder.h"
#include "cerium/Compiler/Compiler.h"
#include "cerium/Compiler/Stats.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/SlotValues.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/Support/Error.h"
#include "cerium/Support/Random.h"
#include "cerium/kernels/CpuBackend.h"
#include "cerium/kernels/ElementwiseProgram.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

#include <unistd.h>

namespace cerium {

namespace {

constexpr double kWord = 4; // bytes per residue

// Datasheet figures of the SXM parts: memory bandwidth, 32-bit integer
// throughput (half the FP32 rate), memory, NVLink bandwidth per direction,
// and the cost of one kernel node in a replayed CUDA graph.
const GpuModel kGpuModels[] = {
    {"A100", 2.039e12, 19.5e12, 80e9, 300e9, 1.5e-6},
    {"H100", 3.35e12, 33.5e12, 80e9, 450e9, 1.5e-6},
    {"H200", 4.8e12, 33.5e12, 141e9, 450e9, 1.5e-6},
    {"B200", 8.0e12, 40.0e12, 180e9, 900e9, 1.5e-6},
};

// Integer operations per element-level step on a GPU: a Shoup/Barrett
// modular product is about four multiply-adds, a modular addition two, a
// butterfly one product and two additions.
constexpr double kOpsPerModmul = 4, kOpsPerModadd = 2, kOpsPerButterfly = 8;

/// The work of one kernel call, independent of the target.
struct Work {
  std::string kind;
  double limbs = 0; // limbs of the result (or of each digit)
  double bytes = 0, modmuls = 0, modadds = 0, butterflies = 0;
  // Terms the CPU model times by its measured unit costs.
  double ioLimbs = 0;      // limbs read or written by a fused kernel
  double mulLimbs = 0;     // limb-wide products inside a fused kernel
  double addLimbs = 0;     // limb-wide additions inside a fused kernel
  double convertPairs = 0; // input limbs x output limbs of a conversion
  double convertLimbs = 0; // input + output limbs of a conversion
  double convertIn = 0;    // input limbs of a conversion
  double digitLimbs = 0;   // digits x limbs of a key-switch product
  double copiedLimbs = 0;  // limbs a concat copies
  bool keyCompact = false; // a key switch's a limbs made at use (CPU)
  double encodeShare = 1;  // of a whole encode, a compact constant's (CPU)
  bool keyRotated = false; // a key switch reading its digits permuted
};

int64_t limbsOf(mlir::Value v) {
  return int64_t(mlir::cast<rns::LimbsType>(v.getType()).getNumLimbs());
}

/// The period the executor's encoder finds in a constant's slots
/// (ckks::Encoder::period over the encoder's slot count): its 2q integer
/// coefficients are what a compact constant holds and transforms.
uint64_t encoderPeriod(rns::EncodeOp enc, const ckks::Params &p) {
  if (!enc.getStoredValues().data)
    throw Error("--estimate reads a program's constants, which lie in an "
                "artifact's constant section here");
  const int64_t end = slotValueEnd(enc.getStoredValues(), enc.getOffset(),
                                   enc.getCount(), enc.getComplex());
  return ckks::Encoder::period(
      expandEncodeSlotValues(enc.getStoredValues(), enc.getOffset(),
                             enc.getCount(), enc.getComplex()),
      encoderSlots(end, p.slots()));
}

/// The planned arena offset (in limbs) of a value.
int64_t offsetOf(mlir::func::FuncOp main, mlir::Value v) {
  if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(v))
    return main->getAttrOfType<mlir::DenseI64ArrayAttr>("rns.arg_offsets")
        .asArrayRef()[arg.getArgNumber()];
  auto result = mlir::cast<mlir::OpResult>(v);
  return result.getOwner()
      ->getAttrOfType<mlir::DenseI64ArrayAttr>("rns.offsets")
      .asArrayRef()[result.getResultNumber()];
}

/// The work of `op` over all its limbs (no kind: an op that does none, as a
/// slice, or one timed apart, as an all-gather).
Work describe(mlir::Operation *op, mlir::func::FuncOp main,
              const ckks::Params &p) {
  const double n = double(p.degree()), logN = std::log2(n);
  Work w;
  llvm::TypeSwitch<mlir::Operation *>(op)
      .Case<rns::KernelOp>([&](rns::KernelOp k) {
        w.kind = "kernel";
        w.limbs = double(limbsOf(k.getOutputs()[0]));
        double arrays = 0, muls = 0, adds = 0;
        for (mlir::Value v : k.getInputs())
          arrays += mlir::isa<rns::LimbsType>(v.getType()) ? 1 : 0;
        arrays += double(k.getOutputs().size());
        k.getBody().walk([&](mlir::Operation *inner) {
          if (mlir::isa<rns::MulOp, rns::MulIntOp, rns::MulInvOp,
                        rns::MulProdOp>(inner))
            ++muls;
          else if (mlir::isa<rns::AddOp, rns::SubOp, rns::NegateOp>(inner))
            ++adds;
        });
        w.ioLimbs = arrays * w.limbs;
        w.mulLimbs = muls * w.limbs;
        w.addLimbs = adds * w.limbs;
        w.bytes = w.ioLimbs * n * kWord;
        w.modmuls = w.mulLimbs * n;
        w.modadds = w.addLimbs * n;
      })
      .Case<rns::NttOp, rns::InttOp>([&](mlir::Operation *o) {
        w.kind = mlir::isa<rns::NttOp>(o) ? "ntt" : "intt";
        w.limbs = double(limbsOf(o->getResult(0)));
        w.butterflies = w.limbs * n / 2 * logN;
        w.bytes = 2 * w.limbs * n * kWord;
      })
      .Case<rns::ConcatOp>([&](rns::ConcatOp c) {
        w.kind = "concat";
        w.limbs = double(limbsOf(c.getResult()));
        int64_t at = offsetOf(main, c.getResult());
        for (mlir::Value v : c.getInputs()) {
          // The planner computes some operands in place: no copy.
          if (offsetOf(main, v) != at)
            w.copiedLimbs += double(limbsOf(v));
          at += limbsOf(v);
        }
        w.bytes = 2 * w.copiedLimbs * n * kWord;
      })
      .Case<rns::BaseConvertOp>([&](rns::BaseConvertOp b) {
        w.kind = "base_convert";
        w.convertIn = double(limbsOf(b.getInput()));
        w.limbs = double(limbsOf(b.getResult()));
        w.convertPairs = w.convertIn * w.limbs;
        w.convertLimbs = w.convertIn + w.limbs;
        w.modmuls = (w.convertIn + w.convertPairs) * n;
        w.bytes = w.convertLimbs * n * kWord;
      })
      .Case<rns::AutomorphOp>([&](rns::AutomorphOp a) {
        w.kind = "automorph";
        w.limbs = double(limbsOf(a.getResult()));
        w.bytes = 2 * w.limbs * n * kWord;
      })
      .Case<rns::KeySwitchOp>([&](rns::KeySwitchOp k) {
        w.kind = "key_switch";
        w.keyRotated = k.getPermute().has_value();
        double digits = double(k.getDigits().size());
        w.limbs = double(limbsOf(k.getB()));
        w.digitLimbs = digits * w.limbs;
        w.modmuls = 2 * w.digitLimbs * n;
        // The digits, the key's two halves, the two results.
        w.bytes = (3 * w.digitLimbs + 2 * w.limbs) * n * kWord;
      })
      .Case<rns::EncodeOp>([&](rns::EncodeOp e) {
        w.kind = "encode";
        w.limbs = double(limbsOf(e.getResult()));
        w.bytes = 2 * w.limbs * n * kWord; // a device copies its kept one
      })
      .Default([&](mlir::Operation *) {});
  return w;
}

/// The work of `w` restricted to `count` of its result limbs, as the
/// executor runs a limb-wise op: one call per run of limbs a process owns.
/// A base conversion's share still reads every input limb.
Work part(const Work &w, double count, double n) {
  if (count == w.limbs || w.limbs == 0)
    return w;
  Work s = w;
  s.limbs = count;
  if (w.kind == "base_convert") {
    s.convertPairs = w.convertIn * count;
    s.convertLimbs = w.convertIn + count;
    s.modmuls = (w.convertIn + s.convertPairs) * n;
    s.bytes = s.convertLimbs * n * kWord;
    return s;
  }
  const double f = count / w.limbs;
  for (double *x :
       {&s.bytes, &s.modmuls, &s.modadds, &s.butterflies, &s.ioLimbs,
        &s.mulLimbs, &s.addLimbs, &s.digitLimbs, &s.copiedLimbs})
    *x *= f;
  return s;
}

//===----------------------------------------------------------------------===//
// This host: unit costs measured on the CPU backend
//===----------------------------------------------------------------------===//

/// Seconds of one call as a line in its size: a fixed part (threads woken
/// and joined, tables looked up) and a part per unit of work.
struct Line {
  double call = 0, unit = 0;
  double at(double units) const { return call + unit * units; }
};

/// The unit costs of this host's CPU backend at one ring degree: per limb,
/// except where named.
struct CpuCosts {
  Line ntt, intt, automorph, copy;
  // Per digit-limb: whole and compact keys, digits read as they are or
  // through an automorphism (a hoisted rotation's, rns-fold-digit-automorph).
  Line keySwitch, keySwitchCompact, keySwitchRotated, keySwitchRotatedCompact;
  Line encode; // per limb of the level encoded at
  // The encoder the executor makes on a run's first encode of each slot
  // count (its tables of 2N roots), per slot.
  Line encoderSetup;
  double kernelCall = 0, io = 0, mul = 0, add = 0; // a fused kernel
  // A base conversion: per call, per (input, output) pair, per input limb
  // (scaled, and its share of the overflow estimate), per output limb.
  double convertCall = 0, convertPair = 0, convertIn = 0, convertOut = 0;
  // The executor's own cost per op it runs, beyond the backend calls the
  // lines above price: looking the op up, building its views, compiling a
  // kernel's program and a conversion's tables on first use, caches cold
  // between ops. Measured as what a fresh ScheduleExecutor spends on a
  // schedule of small ops beyond the model's price of those ops.
  double dispatch = 0;
  // The permutation table of a Galois element, built on its first use in a
  // run (an automorphism's or a rotated key switch's).
  double galoisSetup = 0;
  // Per instruction by which a fused kernel's program is longer than any
  // before it in the run: each thread's scratch grown (fresh pages).
  double scratchGrowth = 0;
};

#define CERIUM_CPU_LINES(X)                                                    \
  X(ntt)                                                                       \
  X(intt)                                                                      \
  X(automorph)                                                                 \
  X(copy)                                                                      \
  X(keySwitch)                                                                 \
  X(keySwitchCompact)                                                          \
  X(keySwitchRotated) X(keySwitchRotatedCompact) X(encode) X(encoderSetup)
#define CERIUM_CPU_NUMBERS(X)                                                  \
  X(kernelCall)                                                                \
  X(io)                                                                        \
  X(mul)                                                                       \
  X(add)                                                                       \
  X(convertCall)                                                               \
  X(convertPair)                                                               \
  X(convertIn) X(convertOut) X(dispatch) X(galoisSetup) X(scratchGrowth)

/// The limbs the calibration's lines run to.
constexpr size_t kCalibrationLimbs = 32;

/// Seconds per call of `f`: the best of twenty rounds of at least 2.5 ms
/// (short rounds, many of them: on a shared machine some fall between the
/// other work, which stalls every fork and join of the threads).
double timePerCall(const std::function<void()> &f) {
  using Clock = std::chrono::steady_clock;
  f(); // warm caches and lazily built tables
  double best = 1e300;
  for (int round = 0; round < 20; ++round) {
    int calls = 0;
    auto start = Clock::now();
    double elapsed = 0;
    do {
      f();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < 0.0025);
    best = std::min(best, elapsed / calls);
  }
  return best;
}

/// Seconds one call of `f` takes, cold: a first use (a table built, pages
/// faulted in), which timePerCall's warm-up call would hide.
double secondsOnce(const std::function<void()> &f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// The line through (x1, y1) and (x2, y2), kept non-negative (timing noise
/// must not make work free).
Line fit(double x1, double y1, double x2, double y2) {
  double unit = std::max((y2 - y1) / (x2 - x1), 1e-12);
  return {std::max(y1 - unit * x1, 0.0), unit};
}

double cpuSeconds(const Work &w, const CpuCosts &c);

/// A KeySource for schedules without key switches.
class NoKeys final : public runtime::KeySource {
public:
  const ckks::SwitchingKey &key(const ckks::KeyName &) override {
    throw Error("internal error: the calibration schedule switches keys");
  }
};

/// The executor's cost per op beyond the backend calls (CpuCosts::dispatch):
/// a planned schedule of small ops as programs have them (an inverse NTT,
/// a slice, a base conversion, an NTT, a fused kernel, a concat; 2 limbs),
/// run by a fresh ScheduleExecutor on the CPU backend (kernel programs and
/// conversion tables made on first use, as in a run of cerium-run); the
/// best of ten runs, less the model's price of its ops, per op.
double measureDispatch(const ckks::ParamsPtr &params,
                       std::span<const uint32_t> ids, const CpuCosts &costs) {
  const std::string two = fmt::format("!rns.limbs<{}, {}>", ids[0], ids[1]),
                    first = fmt::format("!rns.limbs<{}>", ids[0]),
                    second = fmt::format("!rns.limbs<{}>", ids[1]);
  constexpr int kRounds = 32;
  std::string text = fmt::format("func.func @main(%x0: {0}) -> {0} {{\n", two);
  for (int r = 0; r < kRounds; ++r)
    text += fmt::format(
        "  %i{0} = rns.intt %x{0} : {1}\n"
        "  %s{0} = rns.slice %i{0} at 0 : {1} -> {2}\n"
        "  %b{0} = rns.base_convert %s{0} : {2} -> {3}\n"
        "  %n{0} = rns.ntt %b{0} : {3}\n"
        "  %t{0} = rns.slice %x{0} at 1 : {1} -> {3}\n"
        "  %k{0} = rns.kernel(%t{0}, %n{0}) : ({3}, {3}) -> {3} {{\n"
        "  ^bb0(%a: i32, %c: i32):\n"
        "    %m = rns.mul %a, %c : i32\n"
        "    %d = rns.add %m, %a : i32\n"
        "    rns.yield %d : i32\n"
        "  }}\n"
        "  %u{0} = rns.slice %x{0} at 0 : {1} -> {2}\n"
        "  %x{4} = rns.concat %u{0}, %k{0} : {2}, {3} -> {1}\n",
        r, two, first, second, r + 1);
  text += fmt::format("  return %x{} : {}\n}}\n", kRounds, two);
  mlir::MLIRContext context;
  context.loadDialect<rns::RNSDialect, mlir::func::FuncDialect>();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module)
    throw Error("internal error: the calibration schedule does not parse");
  auto main = module->lookupSymbol<mlir::func::FuncOp>("main");
  mlir::PassManager pm(&context, mlir::func::FuncOp::getOperationName());
  pm.addPass(rns::createPlanMemoryPass());
  if (mlir::failed(pm.run(main)))
    throw Error("internal error: cannot plan the calibration schedule");
  double modelled = 0;
  int ops = 0;
  for (mlir::Operation &op : main.getBody().front()) {
    Work w = describe(&op, main, *params);
    if (w.kind.empty())
      continue;
    modelled += cpuSeconds(w, costs);
    ++ops;
  }
  auto backend = kernels::createCpuBackend(params->rns());
  NoKeys keys;
  double best = 1e300;
  for (int round = 0; round < 10; ++round) {
    runtime::ScheduleExecutor executor(main, params, *backend);
    best = std::min(best, secondsOnce([&] { executor.execute(keys); }));
  }
  return std::max(best - modelled, 0.0) / double(ops);
}

CpuCosts calibrate(const ckks::ParamsPtr &params) {
  const ckks::Params &p = *params;
  const size_t n = p.degree();
  // The lines run over 32 limbs of primes of their own at this degree (the
  // largest below 2^30, as the parameter sets' are): a run's kernels cycle
  // through many primes' tables (an NTT's twiddles are 2 N words per prime,
  // 15 MiB for 30 primes at 2^16), which eight primes' had left in the
  // caches (NTTs were priced at 0.65 of the N = 2^16 bootstrap's); and
  // every program of this degree shares one calibration, whatever its
  // primes. The encoder and the executor's dispatch are timed on the
  // program's own parameter set (a Galois table depends on the degree
  // alone).
  const size_t limbs = kCalibrationLimbs;
  const double L = double(limbs);
  const kernels::RnsContext ctx(
      p.rns().logDegree(),
      kernels::generatePrimes(p.rns().logDegree(), 30, limbs));
  auto backend = kernels::createCpuBackend(ctx);
  auto paramsBackend = kernels::createCpuBackend(p.rns());
  std::vector<uint32_t> ids(limbs);
  std::iota(ids.begin(), ids.end(), 0);
  Prng prng(1);
  auto primes = [&](size_t k) {
    return std::span<const uint32_t>(ids).first(k);
  };
  // Operands rotate through a pool larger than the caches, as a run's arena
  // arrays do: cache-hot buffers would price the memory-bound kernels
  // (automorphisms, NTT passes, copies) too low. Each call takes the next
  // eight arrays (operands 0..7) of `limbs` limbs.
  const size_t slotWords = limbs * n;
  const size_t slots =
      std::max<size_t>(16, (size_t(128) << 20) / (slotWords * sizeof(uint32_t)));
  std::vector<uint32_t> pool(slots * slotWords);
  for (size_t i = 0; i < pool.size(); ++i)
    pool[i] = prng.uniformBelow(ctx.modulus(ids[(i / n) % limbs]));
  size_t turn = 0;
  auto operand = [&](size_t which) {
    return pool.data() + ((8 * turn + which) % slots) * slotWords;
  };
  auto view = [&](size_t which, size_t k) {
    return kernels::Limbs{operand(which), primes(k), n};
  };
  /// The line of `run(k)` over k = 1 and k = limbs.
  auto line = [&](const std::function<void(size_t)> &run) {
    return fit(1, timePerCall([&] {
                 ++turn;
                 run(1);
               }),
               L, timePerCall([&] {
                 ++turn;
                 run(limbs);
               }));
  };
  CpuCosts costs;
  costs.ntt = line([&](size_t k) { backend->nttForward(view(0, k)); });
  costs.intt = line([&](size_t k) { backend->nttInverse(view(0, k)); });
  costs.automorph = line([&](size_t k) {
    backend->automorphism(view(2, k), view(0, k), 5, kernels::Domain::Ntt);
  });
  costs.copy =
      line([&](size_t k) { backend->copy(operand(2), operand(0), k * n); });
  // Key switches with whole keys and with compact ones (the a limbs made
  // from a seed inside the product), as cerium-run may hold either, each
  // with digits read as they are and through an automorphism.
  const kernels::CpuPath path = kernels::cpuPathOf(*backend);
  const PrngSeed seed = prng.nextSeed();
  const uint32_t galois = 5; // a rotation's: one slot
  auto keySwitchLine = [&](bool compact, bool rotated) {
    Line l = line([&](size_t k) {
      // The key's halves are arrays of their own, read from memory as a
      // run's keys are (not the digits again, which the cache holds).
      std::vector<kernels::ConstLimbs> digits = {view(0, k), view(1, k)};
      std::vector<kernels::ConstLimbs> keyB = {view(4, k), view(5, k)};
      std::vector<kernels::ConstLimbs> keyA = {view(6, k), view(7, k)};
      kernels::RnsBackend::UniformLimbSource made =
          [&](size_t digit, size_t limb, std::span<uint32_t> out) {
            kernels::expandUniform(path, seed, 0,
                                   uint64_t(digit) << 48 | uint64_t(limb) << 32,
                                   ctx.modulus(ids[limb]), out);
          };
      if (rotated && compact)
        backend->keySwitchInnerProductRotated(view(2, k), view(3, k), digits,
                                              keyB, made, 0, galois);
      else if (rotated)
        backend->keySwitchInnerProductRotated(view(2, k), view(3, k), digits,
                                              keyB, keyA, galois);
      else if (compact)
        backend->keySwitchInnerProduct(view(2, k), view(3, k), digits, keyB,
                                       made, 0);
      else
        backend->keySwitchInnerProduct(view(2, k), view(3, k), digits, keyB,
                                       keyA);
    });
    l.unit /= 2; // two digits
    return l;
  };
  costs.keySwitch = keySwitchLine(false, false);
  costs.keySwitchCompact = keySwitchLine(true, false);
  costs.keySwitchRotated = keySwitchLine(false, true);
  costs.keySwitchRotatedCompact = keySwitchLine(true, true);

  // Fused kernels: a copy (one array in, one out) and chains of eight
  // products or sums over two inputs.
  using Opcode = kernels::ElementwiseProgram::Opcode;
  auto kernel = [&](std::optional<Opcode> op) {
    kernels::ElementwiseProgram prog;
    prog.numInputs = op ? 2 : 1;
    uint16_t last = 0;
    for (int i = 0; op && i < 8; ++i) {
      prog.code.push_back({*op, last, 1});
      last = uint16_t(prog.numRegisters() - 1);
    }
    prog.outputs = {last};
    return line([&, prog](size_t k) mutable {
      prog.numLimbs = k;
      kernels::Limbs out = view(2, k);
      std::vector<kernels::ConstLimbs> ins = {view(0, k), view(1, k)};
      ins.resize(prog.numInputs);
      backend->elementwise(prog, {&out, 1}, ins);
    });
  };
  Line copyKernel = kernel(std::nullopt), mulKernel = kernel(Opcode::Mul),
       addKernel = kernel(Opcode::Add);
  costs.kernelCall = (copyKernel.call + mulKernel.call + addKernel.call) / 3;
  costs.io = copyKernel.unit / 2;
  costs.mul = std::max(mulKernel.unit - 3 * costs.io, 1e-12) / 8;
  costs.add = std::max(addKernel.unit - 3 * costs.io, 1e-12) / 8;
  // Each instruction of a fused kernel writes a block of each thread's
  // scratch (1 KiB), which grows to the longest program run so far: a
  // run's first long program faults its pages in. Timed as the first call
  // of programs longer than any before (256 and 512 additions; the chains
  // above are 8 long) less a second call.
  {
    double grown = 0;
    int longest = 8, added = 0;
    for (int length : {256, 512}) {
      kernels::ElementwiseProgram prog;
      prog.numInputs = 2;
      prog.numLimbs = 1;
      uint16_t last = 0;
      for (int i = 0; i < length; ++i) {
        prog.code.push_back({Opcode::Add, last, 1});
        last = uint16_t(prog.numRegisters() - 1);
      }
      prog.outputs = {last};
      auto once = [&] {
        ++turn;
        kernels::Limbs out = view(2, 1);
        std::vector<kernels::ConstLimbs> ins = {view(0, 1), view(1, 1)};
        return secondsOnce([&] { backend->elementwise(prog, {&out, 1}, ins); });
      };
      const double first = once(), again = once();
      grown += std::max(first - again, 0.0);
      added += length - longest;
      longest = length;
    }
    costs.scratchGrowth = grown / added;
  }

  // Base conversion: call + pair * in * out + in * inLimb + out * outLimb,
  // through four shapes (1 -> 1, 1 -> L-1, L-1 -> 1, h -> L-h): a process
  // of a partitioned run converts every input limb to a few output limbs.
  auto convert = [&](size_t in, size_t out) {
    kernels::BaseConverter conv(ctx, primes(in), primes(in + out).subspan(in));
    return timePerCall([&] {
      ++turn;
      kernels::Limbs to{operand(3), conv.outputs(), n};
      kernels::ConstLimbs from{operand(0), conv.inputs(), n};
      backend->baseConvert(conv, to, from);
    });
  };
  const size_t half = limbs / 2;
  const double h = double(half);
  double t11 = convert(1, 1);
  // t1L - t11 = (L - 2) * (pair + out), tL1 - t11 = (L - 2) * (pair + in).
  double pairOut = 1e-12, pairIn = 1e-12;
  if (limbs > 2) {
    pairOut = std::max((convert(1, limbs - 1) - t11) / (L - 2), 1e-12);
    pairIn = std::max((convert(limbs - 1, 1) - t11) / (L - 2), 1e-12);
  }
  if (half >= 2) {
    // thh - t11 = (h h' - 1) pair + (h - 1) in + (h' - 1) out, h' = L - h:
    // (h - 1)(h' - 1) pair once pair + in and pair + out are known.
    double thh = convert(half, limbs - half), h2 = L - h;
    costs.convertPair =
        std::clamp((thh - t11 - (h - 1) * pairIn - (h2 - 1) * pairOut) /
                       ((h - 1) * (h2 - 1)),
                   1e-12, std::min(pairIn, pairOut));
  } else {
    costs.convertPair = std::min(pairIn, pairOut) / 2;
  }
  costs.convertIn = std::max(pairIn - costs.convertPair, 1e-12);
  costs.convertOut = std::max(pairOut - costs.convertPair, 1e-12);
  costs.convertCall = std::max(
      t11 - costs.convertPair - costs.convertIn - costs.convertOut, 0.0);

  // Encoding (the CPU encodes each constant where it is used).
  ckks::Encoder encoder(params);
  std::vector<double> values(p.slots());
  for (double &v : values)
    v = prng.uniformReal() - 0.5;
  auto encodeAt = [&](unsigned level) {
    return timePerCall([&] {
      encoder.encode(values, p.levelScale(level), level, *paramsBackend);
    });
  };
  costs.encode = fit(double(p.qCount(0)), encodeAt(0),
                     double(p.qCount(p.maxLevel())), encodeAt(p.maxLevel()));
  if (p.maxLevel() == 0)
    costs.encode = {encodeAt(0), 0};
  const double allSlots = double(p.degree() / 2);
  costs.encoderSetup =
      fit(1, timePerCall([&] { ckks::Encoder made(params, 1); }), allSlots,
          timePerCall([&] { ckks::Encoder made(params, size_t(allSlots)); }));

  // A Galois element's first use: its table made, then the call (the best
  // of eight elements not used before, less a call with a known one).
  {
    const uint64_t twoN = 2 * uint64_t(n);
    uint64_t g = 5;
    double best = 1e300;
    for (int i = 0; i < 8; ++i) {
      g = g * 5 % twoN; // 25, 125, ...: none timed before
      ++turn;
      kernels::Limbs out = view(2, 1);
      kernels::ConstLimbs in = view(0, 1);
      best = std::min(best, secondsOnce([&] {
                        backend->automorphism(out, in, uint32_t(g),
                                              kernels::Domain::Ntt);
                      }));
    }
    costs.galoisSetup = std::max(best - costs.automorph.at(1), 0.0);
  }
  std::vector<uint32_t> paramIds;
  for (uint32_t id : p.extendedPrimeIds(p.maxLevel()))
    paramIds.push_back(id);
  costs.dispatch = measureDispatch(params, paramIds, costs);
  return costs;
}

/// What makes calibrations comparable: the processor, the forced code path,
/// the threads and the ring degree.
std::string machineKey(size_t degree) {
  std::string model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  const char *path = std::getenv("CERIUM_CPU");
  const char *threads = std::getenv("OMP_NUM_THREADS");
  // keys=all: key switches priced with whole and compact keys, digits read
  // as they are and permuted; entries from before (keys=both, keys=whole,
  // keys=compact, or none) priced fewer forms and are measured again.
  // prg=aes256: compact keys made with AES-256-CTR (container version 8);
  // entries with prg=chacha8 or none timed ChaCha8 or ChaCha20.
  // dispatch=2: the executor's cost per op and the first uses of encoders,
  // Galois elements and kernel scratch measured (an entry without them is
  // measured again).
  // limbs=32: lines over 32 primes of their own, keys apart from the
  // digits (entries before timed up to 8 of the program's primes, with the
  // digits' arrays as the keys).
  return fmt::format(
      "{}|path={}|threads={}|hw={}|N={}|keys=all|prg=aes256|dispatch=2|"
      "limbs={}",
      model, path ? path : "auto", threads ? threads : "auto",
      std::thread::hardware_concurrency(), degree, kCalibrationLimbs);
}

std::filesystem::path cachePath() {
  if (const char *dir = std::getenv("CERIUM_CACHE_DIR"))
    return std::filesystem::path(dir) / "estimate-cpu.json";
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"))
    return std::filesystem::path(xdg) / "cerium" / "estimate-cpu.json";
  if (const char *home = std::getenv("HOME"))
    return std::filesystem::path(home) / ".cache" / "cerium" /
           "estimate-cpu.json";
  return {};
}

/// The calibration for this machine and degree: cached, else measured and
/// cached. A cache that cannot be read or written is ignored, not an error.
CpuCosts cpuCosts(const ckks::ParamsPtr &params) {
  const ckks::Params &p = *params;
  const std::string key = machineKey(p.degree());
  const std::filesystem::path path = cachePath();
  nlohmann::json cache = nlohmann::json::object();
  if (!path.empty()) {
    std::ifstream in(path);
    if (in) {
      cache = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (!cache.is_object())
        cache = nlohmann::json::object();
    }
  }
  if (cache.contains(key) && cache[key].is_object()) {
    const nlohmann::json &entry = cache[key];
    CpuCosts costs;
    bool complete = true;
    auto number = [&](const char *name, double &out) {
      if (entry.contains(name) && entry[name].is_number())
        out = entry[name].get<double>();
      else
        complete = false;
    };
#define CERIUM_READ_LINE(name)                                                 \
  number(#name ".call", costs.name.call);                                      \
  number(#name ".unit", costs.name.unit);
#define CERIUM_READ_NUMBER(name) number(#name, costs.name);
    CERIUM_CPU_LINES(CERIUM_READ_LINE)
    CERIUM_CPU_NUMBERS(CERIUM_READ_NUMBER)
#undef CERIUM_READ_LINE
#undef CERIUM_READ_NUMBER
    if (complete)
      return costs;
  }
  CpuCosts costs = calibrate(params);
  nlohmann::json entry;
#define CERIUM_WRITE_LINE(name)                                                \
  entry[#name ".call"] = costs.name.call;                                      \
  entry[#name ".unit"] = costs.name.unit;
#define CERIUM_WRITE_NUMBER(name) entry[#name] = costs.name;
  CERIUM_CPU_LINES(CERIUM_WRITE_LINE)
  CERIUM_CPU_NUMBERS(CERIUM_WRITE_NUMBER)
#undef CERIUM_WRITE_LINE
#undef CERIUM_WRITE_NUMBER
  cache[key] = entry;
  if (!path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    // Temporary file + rename: concurrent estimates never read half a file.
    std::filesystem::path tmp =
        path.string() + ".tmp" + std::to_string(::getpid());
    {
      std::ofstream out(tmp);
      out << cache.dump(1) << "\n";
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec)
      std::filesystem::remove(tmp, ec);
  }
  return costs;
}

double cpuSeconds(const Work &w, const CpuCosts &c) {
  if (w.kind == "kernel")
    return c.kernelCall + w.ioLimbs * c.io + w.mulLimbs * c.mul +
           w.addLimbs * c.add;
  if (w.kind == "ntt")
    return c.ntt.at(w.limbs);
  if (w.kind == "intt")
    return c.intt.at(w.limbs);
  if (w.kind == "concat")
    return w.copiedLimbs > 0 ? c.copy.at(w.copiedLimbs) : 0;
  if (w.kind == "base_convert")
    return c.convertCall + w.convertPairs * c.convertPair +
           w.convertIn * c.convertIn + w.limbs * c.convertOut;
  if (w.kind == "automorph")
    return c.automorph.at(w.limbs);
  if (w.kind == "key_switch") {
    const Line &l =
        w.keyRotated
            ? (w.keyCompact ? c.keySwitchRotatedCompact : c.keySwitchRotated)
            : (w.keyCompact ? c.keySwitchCompact : c.keySwitch);
    return l.at(w.digitLimbs);
  }
  if (w.kind == "encode")
    return c.encode.at(w.limbs) * w.encodeShare;
  return 0;
}

/// A roofline per kernel call on one GPU; NTTs make two passes over memory
/// (shared-memory radix stages).
double gpuSeconds(const Work &w, const GpuModel &g) {
  double bytes = w.bytes * (w.kind == "ntt" || w.kind == "intt" ? 2 : 1);
  double ops = w.modmuls * kOpsPerModmul + w.modadds * kOpsPerModadd +
               w.butterflies * kOpsPerButterfly;
  return std::max(bytes / g.memoryBandwidth, ops / g.int32Throughput) +
         g.launchSeconds;
}

// The link between processes. GPUs: the model's NVLink bandwidth and about
// 10 us per NCCL collective (a small all-gather's latency over NVLink).
// Processes on this host: MPI over shared memory, per byte a process
// receives and per collective, staging copies included. Fitted to
// cerium-run's own all-gathers (2 processes, N = 2^12, the fastest of each
// size, on a 2-core EPYC): 16 KiB received in 21 us, 104 KiB in 84 us, and
// a 1 MiB array (half of it received) in about 0.3 ms; the faster figures
// of a quiet machine (several GB/s) would make a split look cheaper than
// what runs on a loaded one.
constexpr double kNvlinkLatency = 10e-6;
constexpr double kSharedMemoryBandwidth = 1.5e9, kSharedMemoryLatency = 10e-6;

struct Link {
  double bandwidth = 0, latency = 0; // bytes/s per process, s per collective
  double seconds(double bytes) const { return bytes / bandwidth + latency; }
};

Link linkOf(const EstimateTarget &t) {
  if (t.gpu)
    return {t.gpu->linkBandwidth, kNvlinkLatency};
  return {kSharedMemoryBandwidth, kSharedMemoryLatency};
}

/// Seconds of one 32-bit modular product on the target: rns-partition's
/// unit of cost. A GPU's from its integer throughput; the CPU's is the
/// calibrated product inside a fused kernel.
double modmulSeconds(const EstimateTarget &t, const CpuCosts *cpu,
                     double degree) {
  if (t.gpu)
    return kOpsPerModmul / t.gpu->int32Throughput;
  return cpu->mul / degree;
}

rns::PartitionOptions partitionOptionsFor(const EstimateTarget &t,
                                          const CpuCosts *cpu, double degree) {
  rns::PartitionOptions o;
  o.ranks = t.devices;
  o.mode = "auto";
  const double modmul = modmulSeconds(t, cpu, degree);
  const Link link = linkOf(t);
  o.wordCost = kWord / link.bandwidth / modmul;
  o.messageCost = link.latency / modmul;
  return o;
}

/// The runs of consecutive limbs of `type` that `rank` of `ranks` owns:
/// the executor's calls.
std::vector<std::pair<size_t, size_t>> ownedRuns(mlir::Type type, int64_t rank,
                                                 int64_t ranks) {
  return kernels::ownedRuns(mlir::cast<rns::LimbsType>(type).getPrimes(),
                            int(rank), int(ranks));
}

std::string formatSeconds(double s) {
  if (s >= 1)
    return fmt::format("{:.2f} s", s);
  if (s >= 1e-3)
    return fmt::format("{:.2f} ms", s * 1e3);
  return fmt::format("{:.1f} us", s * 1e6);
}

} // namespace

std::string EstimateTarget::name() const {
  std::string model = gpu ? gpu->name : "cpu";
  return devices == 1 ? model : fmt::format("{}x{}", model, devices);
}

EstimateTarget parseEstimateTarget(const std::string &text) {
  EstimateTarget t;
  std::string upper = text;
  for (char &ch : upper)
    ch = char(std::toupper(static_cast<unsigned char>(ch)));
  size_t x = upper.find('X', 1);
  std::string model = upper.substr(0, x);
  if (x != std::string::npos) {
    std::string count = upper.substr(x + 1);
    if (count.empty() || count.size() > 4 ||
        !std::all_of(count.begin(), count.end(), ::isdigit) ||
        std::stoi(count) < 1)
      throw Error("--estimate " + text +
                  ": expected MODEL or MODELxCOUNT (e.g. H100x8, cpux2)");
    t.devices = std::stoi(count);
  }
  if (model == "CPU")
    return t;
  for (const GpuModel &g : kGpuModels)
    if (model == g.name) {
      t.gpu = &g;
      return t;
    }
  std::string known = "cpu";
  for (const GpuModel &g : kGpuModels)
    known += std::string(", ") + g.name;
  throw Error("--estimate " + text + ": unknown target (known: " + known +
              "; each may take xN)");
}

rns::PartitionOptions partitionOptions(const EstimateTarget &target,
                                       const ckks::ParamsPtr &params) {
  std::optional<CpuCosts> costs;
  if (!target.gpu)
    costs = cpuCosts(params);
  return partitionOptionsFor(target, costs ? &*costs : nullptr,
                             double(params->degree()));
}

Estimate estimate(mlir::func::FuncOp main, const ckks::ParamsPtr &params,
                  const EstimateTarget &target) {
  const ckks::Params &p = *params;
  const double n = double(p.degree());
  Estimate e;
  e.target = target;
  std::optional<CpuCosts> costs;
  if (!target.gpu)
    costs = cpuCosts(params);
  auto secondsOf = [&](const Work &w) {
    return target.gpu ? gpuSeconds(w, *target.gpu) : cpuSeconds(w, *costs);
  };

  // Several devices: the schedule as the runtime splits it, on a copy.
  mlir::func::FuncOp schedule = main;
  mlir::OwningOpRef<mlir::ModuleOp> copy;
  int64_t ranks = 1;
  if (auto attr = main->getAttrOfType<mlir::IntegerAttr>("rns.ranks"))
    ranks = attr.getInt();
  if (ranks > 1 && ranks != target.devices)
    throw Error(fmt::format("--estimate {}: the schedule is partitioned for "
                            "{} processes",
                            target.name(), ranks));
  if (target.devices > 1 && ranks == 1) {
    auto module = main->getParentOfType<mlir::ModuleOp>();
    if (!module)
      throw Error("--estimate: the schedule is not in a module");
    copy = mlir::OwningOpRef<mlir::ModuleOp>(module.clone());
    schedule = copy->lookupSymbol<mlir::func::FuncOp>(main.getSymName());
    mlir::PassManager pm(main.getContext(),
                         mlir::func::FuncOp::getOperationName());
    pm.addPass(rns::createPartitionPass(
        partitionOptionsFor(target, costs ? &*costs : nullptr, n)));
    if (mlir::failed(pm.run(schedule)))
      throw Error(fmt::format("--estimate {}: cannot partition the schedule "
                              "over {} processes",
                              target.name(), target.devices));
    ranks = target.devices;
  }
  // Each process's plan as cerium-run makes it (the arrays of its limb-wise
  // work hold its primes' limbs only): the largest arena, and per process
  // the limb-wise ops it runs as one call — those whose arrays are all held
  // owned-only (elsewhere one call per run of owned limbs).
  auto heldOwned = [](mlir::Value v) {
    auto r = mlir::dyn_cast<mlir::OpResult>(v);
    if (!r)
      return false;
    auto held =
        r.getOwner()->getAttrOfType<mlir::DenseI64ArrayAttr>("rns.held");
    return held && held[r.getResultNumber()] == 1;
  };
  auto oneCall = [&](mlir::Operation &op) {
    if (mlir::isa<rns::BaseConvertOp>(op))
      return heldOwned(op.getResult(0));
    return llvm::all_of(op.getResults(), heldOwned) &&
           llvm::all_of(op.getOperands(), heldOwned);
  };
  std::vector<llvm::DenseSet<mlir::Operation *>> merged(
      static_cast<size_t>(ranks));
  // The limbs each concat copies under each process's plan, as the executor
  // copies them: every operand not computed in place, or in a limb-wise
  // concat the process's own limbs of it (whole or held owned-only on
  // either side), read while that process's plan is on the schedule.
  llvm::DenseMap<mlir::Operation *, std::vector<double>> concatCopies;
  auto recordConcatCopies = [&](int64_t r) {
    llvm::DenseMap<mlir::Type, std::vector<std::pair<size_t, size_t>>> runs;
    schedule.walk([&](rns::ConcatOp c) {
      auto on = c->getAttrOfType<mlir::StringAttr>("rns.on");
      const bool limbWise = on && on.getValue() == "limbs";
      const int64_t out = offsetOf(schedule, c.getResult());
      double copied = 0;
      runtime::forEachConcatCopy(
          c, [&](mlir::Value v) { return limbWise && heldOwned(v); },
          [&](mlir::Type type) -> llvm::ArrayRef<std::pair<size_t, size_t>> {
            auto [it, fresh] = runs.try_emplace(type);
            if (fresh)
              it->second = ownedRuns(type, r, ranks);
            return it->second;
          },
          [&](mlir::Value v, size_t from, size_t to, size_t count) {
            if (offsetOf(schedule, v) + int64_t(from) != out + int64_t(to))
              copied += double(count);
          });
      std::vector<double> &copies = concatCopies[c];
      copies.resize(size_t(ranks));
      copies[size_t(r)] = copied;
    });
  };
  auto collectOneCalls = [&](llvm::DenseSet<mlir::Operation *> &set) {
    for (mlir::Operation &op : schedule.getBody().front())
      if (op.getNumResults() && oneCall(op))
        set.insert(&op);
  };
  double arenaLimbs = double(runtime::arenaBytes(schedule)) / (n * kWord);
  if (copy) {
    arenaLimbs = 0;
    // Last rank first: rank 0's plan stays on the schedule, whose offsets
    // describe() reads for the copies concats make.
    for (int64_t r = ranks - 1; r >= 0; --r) {
      mlir::PassManager pm(main.getContext(),
                           mlir::func::FuncOp::getOperationName());
      pm.addPass(rns::createPlanMemoryPass(r));
      if (mlir::failed(pm.run(schedule)))
        throw Error(fmt::format("--estimate {}: cannot plan the memory of "
                                "process {}",
                                target.name(), r));
      arenaLimbs = std::max(
          arenaLimbs,
          double(schedule->getAttrOfType<mlir::IntegerAttr>("rns.arena_limbs")
                     .getInt()));
      collectOneCalls(merged[size_t(r)]);
      recordConcatCopies(r);
    }
  } else {
    // Partitioned (and planned) by the caller: its one plan for all.
    for (auto &set : merged)
      collectOneCalls(set);
  }

  // A device keeps the constants as cerium-run's --plaintexts auto does:
  // whole while they fit beside the arena and the keys (less a 1 GiB
  // margin; here in program order, over every constant of the program),
  // the others compact — the integer coefficients of one period, 16 bytes
  // per slot of it (bounded from the stored values) — and made into limbs
  // at each use (a spread and the limbs' NTTs).
  // Keys per device, split by the devices; this host's CPU holds them as
  // cerium-run's --keys auto does: compact, except the keys the schedule
  // reuses most (runtime::reusedKeys).
  ckks::KeySelection held;
  held.uniformAtUse = !target.gpu;
  held.keepWhole = runtime::reusedKeys(main);
  e.keyBytes = 0;
  for (const auto &[name, bytes] :
       evalKeyBytesByName(p, runtime::requiredKeys(main)))
    e.keyBytes += bytes / target.devices / (held.compact(name) ? 2 : 1);
  llvm::DenseSet<mlir::Operation *> compactConstants;
  if (target.gpu) {
    const double budget =
        target.gpu->memoryBytes - arenaLimbs * n * kWord - e.keyBytes - 0x1p30;
    double whole = 0, compact = 0;
    schedule.walk([&](rns::EncodeOp enc) {
      const double bytes = double(limbsOf(enc.getResult())) * n * kWord;
      if (whole + compact + bytes <= budget) {
        whole += bytes;
        return;
      }
      compactConstants.insert(enc);
      compact += 16.0 * double(encoderPeriod(enc, p));
    });
    e.plaintextBytes = (whole + compact) / target.devices;
  }

  // One timeline per process. A limb-wise op costs each process the calls
  // on its runs of owned limbs; an op on one process costs that process; an
  // unmarked op costs every process. An all-gather waits for every process
  // (a collective) and then costs each its transfer.
  const Link link = linkOf(target);
  std::vector<double> clock(size_t(ranks), 0), idle(size_t(ranks), 0);
  std::vector<int> waits(size_t(ranks), 0);
  std::vector<std::map<std::string, double>> spent(static_cast<size_t>(ranks));
  // The CPU executor's own cost of the op now priced (CpuCosts::dispatch,
  // and the encoder or Galois table it makes on its first use in a run),
  // once per process that runs it, in the op's kind.
  mlir::Operation *current = nullptr;
  std::optional<uint64_t> currentGalois, currentSlots;
  std::vector<mlir::Operation *> paid(size_t(ranks), nullptr);
  std::vector<std::set<uint64_t>> galoisSeen(static_cast<size_t>(ranks)),
      slotsSeen(static_cast<size_t>(ranks));
  double currentSteps = 0; // a kernel's instructions
  std::vector<double> longest(static_cast<size_t>(ranks), 0);
  auto overhead = [&](int64_t rank) {
    if (target.gpu || paid[size_t(rank)] == current)
      return 0.0;
    paid[size_t(rank)] = current;
    double s = costs->dispatch;
    if (currentGalois && galoisSeen[size_t(rank)].insert(*currentGalois).second)
      s += costs->galoisSetup;
    if (currentSlots && slotsSeen[size_t(rank)].insert(*currentSlots).second)
      s += costs->encoderSetup.at(double(*currentSlots));
    if (currentSteps > longest[size_t(rank)]) {
      s += (currentSteps - longest[size_t(rank)]) * costs->scratchGrowth;
      longest[size_t(rank)] = currentSteps;
    }
    return s;
  };
  auto charge = [&](int64_t rank, const Work &w, double seconds) {
    seconds += overhead(rank);
    clock[size_t(rank)] += seconds;
    spent[size_t(rank)][w.kind] += seconds;
    KindCost &k = e.byKind[w.kind];
    k.bytes += w.bytes;
    k.modmuls += w.modmuls;
    k.butterflies += w.butterflies;
    e.bytesMoved += w.bytes;
  };
  for (mlir::Operation &op : schedule.getBody().front()) {
    if (auto g = mlir::dyn_cast<rns::AllGatherOp>(op)) {
      const double array = double(limbsOf(g.getInput())) * n * kWord;
      const int64_t source = g.getSourceAttr().getInt();
      // Limb-wise: each process receives the limbs it lacks; from one
      // process: the whole array (a broadcast).
      const double received =
          source < 0 ? array * double(ranks - 1) / double(ranks) : array;
      const double seconds = link.seconds(received);
      const double start = *std::max_element(clock.begin(), clock.end());
      for (size_t r = 0; r < clock.size(); ++r) {
        if (start > clock[r]) {
          idle[r] += start - clock[r];
          ++waits[r];
        }
        clock[r] = start + seconds;
        spent[r]["all_gather"] += seconds;
      }
      KindCost &k = e.byKind["all_gather"];
      ++k.calls;
      k.linkBytes += array * double(ranks - 1); // received, all processes
      e.linkBytes += array * double(ranks - 1);
      ++e.gathers;
      continue;
    }
    Work w = describe(&op, schedule, p);
    if (w.kind.empty())
      continue;
    current = &op;
    currentGalois.reset();
    currentSlots.reset();
    currentSteps = w.kind == "kernel" && w.limbs > 0
                       ? (w.mulLimbs + w.addLimbs) / w.limbs
                       : 0;
    if (auto a = mlir::dyn_cast<rns::AutomorphOp>(op))
      currentGalois = uint64_t(a.getGalois());
    if (auto k = mlir::dyn_cast<rns::KeySwitchOp>(op); k && k.getPermute())
      currentGalois = uint64_t(*k.getPermute());
    if (auto enc = mlir::dyn_cast<rns::EncodeOp>(op))
      currentSlots =
          encoderSlots(slotValueEnd(enc.getStoredValues(), enc.getOffset(),
                                    enc.getCount(), enc.getComplex()),
                       p.slots());
    if (w.kind == "key_switch")
      w.keyCompact = held.compact(runtime::keyName(&op));
    // The CPU keeps a constant whose one use is a kernel's operand compact
    // (one process): its 2q of the N coefficients are transformed, not N.
    if (auto enc = mlir::dyn_cast<rns::EncodeOp>(op);
        enc && !target.gpu && ranks == 1 &&
        runtime::constantMayStayCompact(enc.getResult())) {
      w.encodeShare = std::min(1.0, 2.0 * double(encoderPeriod(enc, p)) / n);
      w.bytes *= w.encodeShare;
    }
    ++e.byKind[w.kind].calls;
    if (compactConstants.count(&op)) {
      // Spread, then an NTT of every limb (two passes over them).
      w.butterflies = w.limbs * n / 2 * std::log2(n);
      w.modmuls = w.butterflies;
      w.bytes = 5 * w.limbs * n * kWord;
    }
    // A concat's copies under process r's plan (describe() read the plan
    // left on the schedule, rank 0's).
    auto onRank = [&](int64_t r) {
      auto it = concatCopies.find(&op);
      if (it == concatCopies.end())
        return w;
      Work mine = w;
      mine.copiedLimbs = it->second[size_t(r)];
      mine.bytes = 2 * mine.copiedLimbs * n * kWord;
      return mine;
    };
    mlir::Attribute on = op.getAttr("rns.on");
    if (auto one = mlir::dyn_cast_or_null<mlir::IntegerAttr>(on)) {
      if (one.getInt() < 0 || one.getInt() >= ranks)
        throw Error("--estimate: the schedule places an op on no process");
      ++e.placedOps;
      const Work mine = onRank(one.getInt());
      charge(one.getInt(), mine, secondsOf(mine));
      continue;
    }
    auto limbs = mlir::dyn_cast_or_null<mlir::StringAttr>(on);
    if (limbs && limbs.getValue() == "limbs") {
      ++e.limbWiseOps;
      if (mlir::isa<rns::EncodeOp>(op)) {
        // One call for this process's limbs: the CPU transforms the slots
        // once, then reduces and transforms the limbs of each run; a GPU
        // copies or makes those limbs of its kept constant.
        for (int64_t r = 0; r < ranks; ++r) {
          auto runs = ownedRuns(op.getResult(0).getType(), r, ranks);
          double owned = 0;
          for (auto [first, count] : runs)
            owned += double(count);
          if (owned == 0)
            continue;
          Work share = part(w, owned, n);
          charge(r, share,
                 target.gpu ? secondsOf(share)
                            : cpuSeconds(share, *costs) +
                                  double(runs.size() - 1) * costs->ntt.call);
        }
        continue;
      }
      // A limb-wise concat copies its operands' limbs of this process
      // (onRank, below).
      if (!mlir::isa<rns::ConcatOp>(op)) {
        for (int64_t r = 0; r < ranks; ++r) {
          const bool oneCallHere = merged[size_t(r)].count(&op);
          double all = 0;
          for (auto [first, count] :
               ownedRuns(op.getResult(0).getType(), r, ranks)) {
            all += double(count);
            if (oneCallHere)
              continue;
            Work share = part(w, double(count), n);
            charge(r, share, secondsOf(share));
          }
          if (oneCallHere && all > 0) {
            Work share = part(w, all, n);
            charge(r, share, secondsOf(share));
          }
        }
        continue;
      }
    }
    for (int64_t r = 0; r < ranks; ++r) {
      const Work mine = onRank(r);
      charge(r, mine, secondsOf(mine));
    }
  }
  const size_t slowest =
      size_t(std::max_element(clock.begin(), clock.end()) - clock.begin());
  e.seconds = clock[slowest];
  for (auto &[kind, k] : e.byKind) {
    auto it = spent[slowest].find(kind);
    k.seconds = it == spent[slowest].end() ? 0 : it->second;
  }
  if (idle[slowest] > 0) {
    KindCost &k = e.byKind["wait"];
    k.calls = waits[slowest];
    k.seconds = idle[slowest];
  }
  e.arenaBytes = arenaLimbs * n * kWord;
  return e;
}

std::map<ckks::KeyName, double>
evalKeyBytesByName(const ckks::Params &p,
                   const runtime::KeyRequirements &keys) {
  using Kind = ckks::KeyName::Kind;
  const RnsLayout layout = layoutOf(p);
  // The key back to the dense secret is a full key; the one to the sparse
  // secret covers [P, Q_0] only, a Galois key [P, Q_level] for its level.
  std::map<ckks::KeyName, double> bytes;
  if (keys.relinearization)
    bytes[{Kind::Relin}] = double(layout.keyBytes(p.maxLevel()));
  if (keys.encapsulation) {
    bytes[{Kind::ToDense}] = double(layout.keyBytes(p.maxLevel()));
    bytes[{Kind::ToSparse}] = double(layout.keyBytes(0));
  }
  for (auto [g, level] : keys.galois)
    bytes[{Kind::Galois, g}] = double(layout.keyBytes(level));
  return bytes;
}

double evalKeyBytes(const ckks::Params &p,
                    const runtime::KeyRequirements &keys) {
  double sum = 0;
  for (const auto &[name, bytes] : evalKeyBytesByName(p, keys))
    sum += bytes;
  return sum;
}

std::string estimateReport(const Estimate &e) {
  std::string out = fmt::format(
      "estimate for {} (cost model{}; not a measurement)\n", e.target.name(),
      e.target.gpu ? ": datasheet roofline" : ": this host, calibrated");
  out += fmt::format("latency           {}\n", formatSeconds(e.seconds));
  out += fmt::format("peak memory       {} per device (arena {}, keys {}, "
                     "plaintexts {})\n",
                     formatBytes(e.peakBytesPerDevice()),
                     formatBytes(e.arenaBytes), formatBytes(e.keyBytes),
                     formatBytes(e.plaintextBytes));
  const bool several = e.target.devices > 1;
  if (several)
    out += fmt::format("held today        {} per process (a device keeps "
                       "every plaintext it uses)\n",
                       formatBytes(e.heldBytesPerProcess()));
  out += fmt::format("bytes moved       {} in memory, {} between devices\n",
                     formatBytes(e.bytesMoved), formatBytes(e.linkBytes));
  if (several)
    out += fmt::format("partition         {} processes: {} ops limb-wise, {} "
                       "on one process, {} all-gathers (times: the slowest "
                       "process)\n",
                       e.target.devices, e.limbWiseOps, e.placedOps, e.gathers);
  out +=
      fmt::format("{:<14}{:>7}{:>12}{:>7}{:>12}{:>11}{:>12}\n", "op kind",
                  "calls", "time", "share", "bytes", "modmul", "butterflies");
  for (const auto &[kind, k] : e.byKind)
    out += fmt::format("{:<14}{:>7}{:>12}{:>6.1f}%{:>12}{:>11.3g}{:>12.3g}\n",
                       kind, k.calls, formatSeconds(k.seconds),
                       e.seconds > 0 ? 100 * k.seconds / e.seconds : 0.0,
                       formatBytes(k.bytes), k.modmuls, k.butterflies);
  return out;
}

} // namespace cerium
