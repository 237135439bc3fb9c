//===- Compiler.cpp - The compilation pipeline ----------------------------===//

#include "cerium/Compiler/Compiler.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Compiler/Estimate.h"
#include "cerium/Conversion/CKKSToPoly.h"
#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/Conversion/PolyToRNS.h"
#include "cerium/DSL/Parser.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/Transforms/Bootstrap.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/FHE/Transforms/Passes.h"
#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "cerium/Dialect/Poly/Transforms/Passes.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include "mlir/Transforms/Passes.h"
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <limits>

namespace cerium {

/// The ephemeral sparse secret's Hamming weight in programs that bootstrap
/// (sparse-secret encapsulation; the computation secret stays dense).
constexpr unsigned kEncapsulationWeight = 32;

void loadCompilerDialects(mlir::MLIRContext &context) {
  context.loadDialect<fhe::FHEDialect, ckks::CKKSDialect, poly::PolyDialect,
                      rns::RNSDialect, mlir::func::FuncDialect>();
}

RnsLayout layoutOf(const ckks::Params &p) {
  RnsLayout l;
  l.logN = p.logN();
  l.base = unsigned(p.baseCount());
  l.perLevel = unsigned(p.primesPerLevel());
  l.special = unsigned(p.numP());
  l.digitSize = unsigned(p.digitSize());
  for (uint32_t id = 0; id < p.numQ() + p.numP(); ++id)
    l.moduli.push_back(p.prime(id));
  for (unsigned level = 0; level <= p.maxLevel(); ++level)
    l.scales.push_back(p.levelScale(level));
  return l;
}

void lowerToSchedule(mlir::ModuleOp module, const ckks::Params &params,
                     Stage stopAfter) {
  mlir::MLIRContext &context = *module.getContext();
  module->setAttr(RnsLayout::kAttrName, layoutOf(params).toAttr(&context));
  mlir::PassManager pm(&context);
  pm.addPass(ckks::createExpandBootstrapPass());
  pm.addNestedPass<mlir::func::FuncOp>(ckks::createLazyRelinearizePass());
  pm.addPass(createCkksToPolyPass());
  // Rotations of one ciphertext raise it once (see ckks-to-poly).
  pm.addPass(mlir::createCSEPass());
  pm.addNestedPass<mlir::func::FuncOp>(poly::createMergeModDownRescalePass());
  if (stopAfter == Stage::Rns) {
    pm.addPass(createPolyToRnsPass());
    pm.addNestedPass<mlir::func::FuncOp>(rns::createRematerializeEncodesPass());
    pm.addNestedPass<mlir::func::FuncOp>(rns::createFoldDigitAutomorphPass());
    pm.addNestedPass<mlir::func::FuncOp>(rns::createFuseElementwisePass());
    pm.addNestedPass<mlir::func::FuncOp>(rns::createPlanMemoryPass());
  }
  if (mlir::failed(pm.run(module)))
    throw Error("compilation failed");
}

/// The segment (most levels between bootstraps) of least estimated work,
/// among the few longest from `longest` down. The longest is not always
/// the cheapest: its chain takes more key-switching digits and wider
/// special primes, and the cuts it allows may refresh more values. Each is
/// priced by placement's model (ckks::estimatePlacement, per prime) times
/// the key-switch work per prime of the parameters its chain gets: at the
/// top, every digit's ModUp over Q and P and the ModDown, (dnum + 2) (|Q| +
/// |P|) / |Q|.
static unsigned
cheapestSegment(Compilation &c, unsigned longest,
                const ckks::BootstrapConfig &config,
                const std::function<ckks::ParamsPtr(unsigned)> &chainOf) {
  constexpr unsigned kCandidates = 6;
  mlir::ModuleOp module = *c.program.module;
  // A segment no placement fits is skipped; the longest one's reason is
  // reported by the pass itself.
  mlir::ScopedDiagnosticHandler quiet(
      module.getContext(), [](mlir::Diagnostic &) { return mlir::success(); });
  unsigned best = longest;
  double bestWork = std::numeric_limits<double>::infinity();
  for (unsigned segment = longest;
       segment >= 1 && segment + kCandidates > longest &&
       2 * segment >= longest;
       --segment) {
    mlir::FailureOr<ckks::PlacementEstimate> e =
        ckks::estimatePlacement(module, segment);
    if (mlir::failed(e))
      continue;
    ckks::ParamsPtr params;
    try {
      params = chainOf(e->levels + config.depth());
    } catch (const Error &) {
      continue;
    }
    const double perPrime = double(params->dnum() + 2) *
                            double(params->numQ() + params->numP()) /
                            double(params->numQ());
    if (e->cost * perPrime < bestWork) {
      bestWork = e->cost * perPrime;
      best = segment;
    }
  }
  return best;
}

Compilation compile(std::shared_ptr<const dsl::SourceFile> source,
                    mlir::MLIRContext &context, const CompileOptions &options) {
  loadCompilerDialects(context);
  Compilation c;
  dsl::Program ast = dsl::parse(source);
  c.program = dsl::buildFhe(ast, context, options.overrides, options.insecure);
  if (options.stopAfter == Stage::Fhe)
    return c;
  c.fheModule = c.program.module->clone();
  {
    // Each approximation's share of the precision (fhe.precision), from
    // the inputs' declared ranges on: the lowering and --plain --approx
    // read it.
    auto main = c.fheModule->lookupSymbol<mlir::func::FuncOp>("main");
    mlir::Builder b(&context);
    for (auto [i, in] : llvm::enumerate(c.program.inputs))
      if (in.range && i < main.getNumArguments())
        main.setArgAttr(
            unsigned(i), "fhe.range",
            b.getDenseF64ArrayAttr({in.range->first, in.range->second}));
    mlir::PassManager pm(&context);
    pm.addPass(fhe::createAssignPrecisionPass(c.program.options.precision));
    if (mlir::failed(pm.run(*c.fheModule)))
      throw Error(source->path() + ": compilation failed");
  }
  const bool insecure = options.insecure || c.program.options.security == 0;
  unsigned logN = 0;
  if (int64_t ring = c.program.options.ringDim)
    while ((int64_t(1) << logN) < ring)
      ++logN;
  // main's depth and the options decide the parameters: errors point at
  // main.
  auto atMain = [&](const std::string &what) {
    dsl::SourceLoc at{1, 1};
    auto main = c.fheModule->lookupSymbol<mlir::func::FuncOp>("main");
    if (auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(main.getLoc()))
      at = {fl.getLine(), fl.getColumn()};
    return dsl::SourceError(*source, at, what);
  };
  {
    c.program.module = c.fheModule->clone();
    mlir::PassManager pm(&context);
    // On the lowered copy only: the reference program keeps the program's
    // operations as written.
    pm.addPass(fhe::createFoldBatchNormPass());
    // A ring asked for caps the slots: larger tensors span ciphertexts.
    const int64_t ring = c.program.options.ringDim;
    pm.addPass(createFheToCkksPass(
        c.program.options.slots,
        ring ? std::min(ring / 2, kMaxAutomaticSlots) : kMaxAutomaticSlots,
        c.program.options.precision, c.program.options.layoutSearch));
    if (mlir::failed(pm.run(*c.program.module)))
      throw Error(source->path() + ": compilation failed");
    // The slot layouts the lowering chose for main's inputs and outputs:
    // the client encodes and decodes by them.
    auto main = c.program.module->lookupSymbol<mlir::func::FuncOp>("main");
    auto layoutOfAttr = [](mlir::DictionaryAttr attrs) {
      auto a = attrs ? attrs.getAs<mlir::DenseI64ArrayAttr>("fhe.layout")
                     : mlir::DenseI64ArrayAttr();
      return a ? std::vector<int64_t>(a.asArrayRef().begin(),
                                      a.asArrayRef().end())
               : std::vector<int64_t>();
    };
    // Each ciphertext i of main's arguments or results with the tensor it
    // is part of: a tensor may span several ciphertexts, its first one
    // (without fhe.part, or part 0) starts it.
    auto forEachPart = [&](std::vector<dsl::TensorInfo> &tensors,
                           unsigned count, auto attrsOf, auto f) {
      size_t tensor = 0;
      for (unsigned i = 0; i < count; ++i) {
        mlir::DictionaryAttr attrs = attrsOf(i);
        auto part = attrs ? attrs.getAs<mlir::IntegerAttr>("fhe.part")
                          : mlir::IntegerAttr();
        const bool first = !part || part.getInt() == 0;
        if (first) {
          // main's plain inputs have no ciphertexts.
          while (!tensors.at(tensor).cipher)
            ++tensor;
          ++tensor;
        }
        f(i, attrs, tensors.at(tensor - 1), first);
      }
    };
    auto readLayout = [&](unsigned, mlir::DictionaryAttr attrs,
                          dsl::TensorInfo &tensor, bool first) {
      if (first)
        tensor.layout = layoutOfAttr(attrs);
    };
    forEachPart(
        c.program.inputs, main.getNumArguments(),
        [&](unsigned i) { return main.getArgAttrDict(i); }, readLayout);
    forEachPart(
        c.program.outputs, main.getNumResults(),
        [&](unsigned i) { return main.getResultAttrDict(i); }, readLayout);
    // main's inputs carry their `assume` (the lowering keeps only their
    // layouts): each part of an input tensor gets its bound for the
    // bootstraps' walk (ckks::boundOf), removed after it.
    mlir::Builder b(&context);
    forEachPart(
        c.program.inputs, main.getNumArguments(),
        [&](unsigned i) { return main.getArgAttrDict(i); },
        [&](unsigned i, mlir::DictionaryAttr, dsl::TensorInfo &tensor, bool) {
          if (auto &range = tensor.range)
            main.setArgAttr(
                i, ckks::kBoundAttr,
                b.getF64FloatAttr(std::max(std::fabs(range->first),
                                           std::fabs(range->second))));
        });
  }
  auto intAttr = [&](const char *name) {
    mlir::ModuleOp m = *c.program.module;
    return m->getAttrOfType<mlir::IntegerAttr>(name).getInt();
  };
  auto hasBootstrap = [&] {
    bool found = false;
    mlir::ModuleOp m = *c.program.module;
    m.walk([&](ckks::BootstrapOp) { found = true; });
    return found;
  };
  // Bootstraps need their own depth on top of the deepest segment, and the
  // keys of sparse-secret encapsulation.
  auto config =
      ckks::BootstrapConfig::forHammingWeight(kEncapsulationWeight, true);
  config.forPrecision(c.program.options.precision);
  config.setNominalBound(c.program.options.precision);
  // Values at level 0 lie under q_0 alone: the largest magnitude the range
  // analysis gives one there (main's arguments too, in a program without
  // depth) sizes the base: a chain without bootstraps takes its bits
  // (levelZeroBits), a bootstrapping chain widens its base to hold them
  // where its refreshes did not (below).
  auto levelZeroBound = [&] {
    double bound = 1;
    auto visit = [&](mlir::Value v) {
      auto t = mlir::dyn_cast<ckks::CiphertextType>(v.getType());
      if (t && t.getLevel() == 0)
        bound = std::max(bound, ckks::boundOf(v));
    };
    mlir::ModuleOp m = *c.program.module;
    m.walk([&](mlir::Operation *op) {
      for (mlir::Value r : op->getResults())
        visit(r);
    });
    for (mlir::BlockArgument a :
         m.lookupSymbol<mlir::func::FuncOp>("main").getArguments())
      visit(a);
    return bound;
  };
  double zeroBound = levelZeroBound();
  // The bits above the scale that hold x Delta_0 below q_0 / 2 for |x| up
  // to `bound`: its own, a sign bit, and 1/16 of it for noise and rounding.
  auto bitsOf = [](double bound) {
    return unsigned(std::ceil(std::log2(std::max(bound, 1.0) * 1.0625))) + 1;
  };
  // A chain of `levels` on `ring` (0: the smallest that fits), with the
  // encapsulation keys when the program bootstraps.
  auto chain = [&](unsigned levels, unsigned ring, bool bootstraps) {
    return ckks::chooseParams(
        intAttr("ckks.slots"), levels, c.program.options.precision, insecure,
        ring, 0, bootstraps ? kEncapsulationWeight : 0, config.widerBase,
        bootstraps ? 0 : bitsOf(zeroBound));
  };
  // Before placement a bootstrap's input may sit at level 0; after it, at
  // its input level (SlotToCoeff's when that comes first), which the
  // program's levels then include.
  auto chainFor = [&](unsigned depth, bool bootstraps, bool placed) {
    const unsigned above = placed ? config.raisedDepth() : config.depth();
    return chain(depth + (bootstraps ? above : 0), logN, bootstraps);
  };
  // Too deep for the chain cap (max_levels) or for any chain the ring
  // allows: bootstraps are placed with at most `segment` levels between
  // them.
  const unsigned cap = unsigned(c.program.options.maxLevels);
  bool place = false;
  std::string unfit; // why the chain without placement did not fit
  unsigned depth = unsigned(intAttr("ckks.levels"));
  bool bootstraps = hasBootstrap();
  unsigned segment = 0;
  if (cap) {
    place = depth + (bootstraps ? config.depth() : 0) > cap;
  } else {
    try {
      c.params = chainFor(depth, bootstraps, false);
    } catch (const Error &e) {
      place = true;
      unfit = e.what();
    }
  }
  // SlotToCoeff first for full slots (BootstrapConfig::slotsToCoeffsFirst),
  // on the ring the chain is expected on: the ring asked for, else the one
  // the program's chain got, else the one a chain of max_levels gets (the
  // placed program's fits it), else the largest (placement's). That ring is
  // then kept: the order needs n = N/2 on the final one.
  if (place || bootstraps) {
    unsigned ring = logN       ? logN
                    : c.params ? c.params->logN()
                    : insecure ? 17u
                               : 16u;
    if (!logN && !c.params && cap) {
      try {
        ring = chain(cap, 0, true)->logN();
      } catch (const Error &) {
        // No ring holds the cap: placement reports it.
      }
    }
    config.slotsToCoeffsFirst =
        2 * intAttr("ckks.slots") == (int64_t(1) << ring);
    if (config.slotsToCoeffsFirst)
      logN = ring;
  }
  // Placement and the segment search read the bootstrap's depth from its
  // config.
  if (place || bootstraps)
    c.program.module->getOperation()->setAttr(ckks::BootstrapConfig::kAttrName,
                                              config.toAttr(&context));
  if (place) {
    // The longest chains are on the largest ring.
    const unsigned ring = logN ? logN : (insecure ? 17u : 16u);
    unsigned longest = cap;
    if (!cap) {
      // The longest bootstrapping chain, by bisection at the largest ring
      // (one ring per probe keeps this to a few parameter constructions).
      // A secure chain cannot exceed the 128-bit log2(PQ) bound over the
      // smallest bootstrapping scale.
      unsigned hi = insecure ? 256u : ckks::maxLogQP128(ring) / 50 + 1;
      for (unsigned lo = 0; lo < hi;) {
        unsigned mid = (lo + hi + 1) / 2;
        try {
          chain(mid, ring, true);
          lo = longest = mid;
        } catch (const Error &) {
          hi = mid - 1;
        }
      }
    }
    if (!cap && longest == 0) // no chain at all: not a matter of depth
      throw atMain(unfit);
    if (longest <= config.depth())
      throw atMain(fmt::format(
          "the program needs {} levels and a bootstrap takes {}: a chain of "
          "{} levels leaves none between bootstraps",
          depth, config.depth(), longest));
    segment = longest - config.depth();
    if (!cap)
      segment = cheapestSegment(c, segment, config, [&](unsigned levels) {
        return chain(levels, ring, true);
      });
  }
  auto module = *c.program.module;
  {
    mlir::PassManager pm(&context);
    // The bootstraps' levels (and with `segment`, their places) by cost.
    if (place || bootstraps)
      pm.addPass(ckks::createPlaceBootstrapsPass(segment));
    pm.addNestedPass<mlir::func::FuncOp>(ckks::createLazyRelinearizePass());
    if (mlir::failed(pm.run(module)))
      throw Error(source->path() + ": compilation failed");
    depth = unsigned(intAttr("ckks.levels"));
    bootstraps = hasBootstrap();
  }
  // Bootstraps of values beyond [-1, 1] (by the range analysis: inputs'
  // `assume`, approximations' declared ranges and what follows from them)
  // widen the base above the scale, by as many of the largest one's bits
  // as the precision needs. A refresh that an exact product follows (placed
  // before a ReLU's x 8) errs that many times more in the program's units.
  double errorGain = 1;
  zeroBound = levelZeroBound();
  module.walk([&](ckks::BootstrapOp op) {
    double bound = ckks::boundOf(op.getInput());
    if (auto own = op->getAttrOfType<mlir::FloatAttr>(ckks::kBoundAttr))
      bound = std::max(bound, own.getValueAsDouble());
    config.valueBound = std::max(config.valueBound, bound);
    for (mlir::Operation *user : op->getUsers())
      if (auto product = mlir::dyn_cast<ckks::MulIntOp>(user))
        errorGain =
            std::max(errorGain, std::fabs(double(int64_t(product.getValue()))));
  });
  module.walk([](mlir::Operation *op) { op->removeAttr(ckks::kBoundAttr); });
  {
    auto main = module.lookupSymbol<mlir::func::FuncOp>("main");
    for (unsigned i = 0; i < main.getNumArguments(); ++i)
      main.removeArgAttr(i, ckks::kBoundAttr);
  }
  // The base holds at most 120 bits (ckks::ParamSpec).
  for (auto [bound, what] :
       {std::pair{config.valueBound, "bootstraps refresh values up to"},
        std::pair{zeroBound, "values at the last level reach"}})
    if (bound > 0x1p40)
      throw atMain(fmt::format(
          "{} {:g} by the ranges the program declares and derives, beyond "
          "the 2^40 a chain's base can hold: declare tighter ranges",
          what, bound));
  config.widenBaseFor(c.program.options.precision);
  // What stays at level 0 (results, say) needs only x Delta_0 below q_0 / 2
  // (bitsOf): the base widens for it where refreshes did not.
  if (bootstraps && bitsOf(zeroBound) > 8 + config.widerBase)
    config.widerBase = bitsOf(zeroBound) - 8;
  if (bootstraps)
    module->setAttr(ckks::BootstrapConfig::kAttrName, config.toAttr(&context));
  // Placement may have lowered the levels the program needs.
  if (!c.params || place || bootstraps) {
    try {
      c.params = chainFor(depth, bootstraps, place || bootstraps);
    } catch (const Error &e) {
      // The segments were cut for a base of [-1, 1]; the values refreshed
      // may have widened it past what the ring holds.
      if (config.widerBase)
        throw atMain(fmt::format(
            "{} (bootstraps refresh values up to {:g} by their ranges, which "
            "widens the chain's base by {} bits: declare tighter ranges or "
            "lower max_levels)",
            e.what(), config.valueBound, config.widerBase));
      if (!bootstraps && bitsOf(zeroBound) > 16)
        throw atMain(fmt::format(
            "{} (values at the last level reach {:g} by their ranges, which "
            "takes a base of {} bits above the scale: declare tighter "
            "ranges)",
            e.what(), zeroBound, bitsOf(zeroBound)));
      throw atMain(e.what());
    }
  }
  if (bootstraps) {
    // A second iteration when one bootstrap's error bound at these
    // parameters is coarser than the precision asked for (the same depth:
    // the parameters stand).
    const RnsLayout layout = layoutOf(*c.params);
    ckks::BootstrapErrors bounds =
        config.errorBounds(layout, intAttr("ckks.slots"));
    bounds.once *= errorGain;
    bounds.twice *= errorGain;
    const double precision = c.program.options.precision;
    if (bounds.twice > precision)
      throw atMain(fmt::format(
          "precision {:g} is finer than bootstrapping reaches at these "
          "parameters: 2^{:.1f} with two iterations (2^{:.1f} with one)",
          precision, std::log2(bounds.twice), std::log2(bounds.once)));
    const unsigned iterations = bounds.once > precision ? 2 : 1;
    // Expanded here, so that the kept ckks module (statistics) holds it.
    module.walk([&](ckks::BootstrapOp op) {
      if (iterations > 1)
        op.setIterations(iterations);
      auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(op.getLoc());
      c.bootstraps.push_back(
          {fl ? fl.getLine() : 0,
           mlir::cast<ckks::CiphertextType>(op.getType()).getLevel(),
           iterations});
    });
    c.bootstrapInputLevel = config.inputLevel();
    module->setAttr(RnsLayout::kAttrName, layout.toAttr(&context));
    mlir::PassManager expand(&context);
    expand.addPass(ckks::createExpandBootstrapPass());
    if (mlir::failed(expand.run(module)))
      throw Error(source->path() + ": compilation failed");
  }
  const int64_t budget = c.program.options.maxRotationKeys;
  uint64_t byteBudget = 0;
  if (int64_t mib = c.program.options.maxKeyMemory) {
    // The rotation keys get what the keys that stay leave (counted as if
    // present, each over [P, Q_L]: relinearization and conjugation, and the
    // encapsulation pair when the program bootstraps, the one to the sparse
    // secret over [P, Q_0]).
    runtime::KeyRequirements others;
    others.relinearization = true;
    others.encapsulation = bootstraps;
    others.galois.emplace(ckks::galoisForConjugation(*c.params),
                          c.params->maxLevel());
    const double othersBytes = evalKeyBytes(*c.params, others);
    const double left = double(mib) * 1048576.0 - othersBytes;
    if (left < 1)
      throw atMain(fmt::format(
          "the key memory budget (max_key_memory = {} MiB) cannot be met: "
          "the relinearization, conjugation{} keys take {:.1f} MiB at these "
          "parameters",
          mib, bootstraps ? " and encapsulation" : "",
          othersBytes / 1048576.0));
    byteBudget = uint64_t(left);
    // The pass prices each key by its level.
    module->setAttr(RnsLayout::kAttrName, layoutOf(*c.params).toAttr(&context));
  }
  if (budget || byteBudget) {
    // The pass's reason becomes the one error line, with the option's name.
    std::string why;
    mlir::ScopedDiagnosticHandler capture(&context, [&](mlir::Diagnostic &d) {
      why = d.str();
      return mlir::success();
    });
    mlir::PassManager limit(&context);
    limit.addPass(
        ckks::createLimitRotationKeysPass(unsigned(budget), byteBudget));
    if (mlir::failed(limit.run(module)))
      throw atMain(
          (byteBudget && why.find(" MiB ") != std::string::npos
               ? fmt::format("the key memory budget (max_key_memory = {} "
                             "MiB, {:.1f} MiB for rotation keys) cannot be "
                             "met",
                             c.program.options.maxKeyMemory,
                             double(byteBudget) / 1048576.0)
               : std::string("the rotation-key budget (max_rotation_keys) "
                             "cannot be met")) +
          (why.empty() ? "" : ": " + why));
  }
  if (options.stopAfter == Stage::Ckks)
    return c;

  c.ckksModule = module.clone();
  try {
    lowerToSchedule(module, *c.params, options.stopAfter);
  } catch (const Error &) {
    throw Error(source->path() + ": compilation failed");
  }
  return c;
}

} // namespace cerium
