//===- PlaceBootstraps.cpp - Cost-based bootstrap placement ---------------===//
//
// The fhe -> ckks lowering gives a program as many levels as it needs. This
// pass cuts it into segments that fit the chain, bootstraps the values live
// across each cut, and gives every bootstrap (placed here or written in the
// source) the lowest result level its uses need; docs/bootstrapping.md
// ("Where bootstraps come from") has the algorithm and the cost model.
//
// A ciphertext's depth is the highest level as lowered less its own: the
// levels used since the inputs or a bootstrap of the program (operands are
// aligned to the deeper one). A product is half a level below its operands
// until it is rescaled: its key is 2 depth + 1, any other value's 2 depth.
// A cut at depth c separates keys <= 2c from keys > 2c, so the products of
// operands at depth c fall after it and their operands, rescaled and
// relinearized, are what gets bootstrapped.
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/IR/CKKSEmitter.h"
#include "cerium/Dialect/CKKS/Transforms/Bootstrap.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

using namespace mlir;

namespace cerium::ckks {
namespace {

// The cost model: an op costs its weight times the primes it runs on
// (level + 1), in units of an elementwise op on one prime. Only ratios
// matter; they follow the kernels each op lowers to.
/// Key switching (relinearize, rotate, conjugate): the digits' base
/// conversions and NTTs and the products with the key.
constexpr double kKeySwitch = 40;
/// Rescale and level_down: an inverse NTT and an NTT.
constexpr double kRescale = 8;
/// The tensor product of two ciphertexts: four polynomial products.
constexpr double kTensor = 4;
/// Key switches in one bootstrap (the DFTs' rotations, EvalMod's products
/// on two ciphertexts, the conjugation), by its slot count: 54 counted at
/// 8 slots, 158 in the traces of ResNet-20's bootstraps of 16,384 slots
/// (the DFTs' baby and giant steps grow with log2 n). They are spread over
/// its depth B above its target t, so a bootstrap costs about
/// bootstrapWeight(n) (t + 1 + B / 2).
double bootstrapWeight(int64_t slots) {
  return (30 + 9 * std::log2(double(std::max<int64_t>(slots, 2)))) *
         kKeySwitch;
}

double weightOf(Operation *op, double bootstrap) {
  if (isa<RelinearizeOp, RotateOp, ConjugateOp>(op))
    return kKeySwitch;
  if (isa<RescaleOp, LevelDownOp>(op))
    return kRescale;
  if (isa<MulOp>(op))
    return kTensor;
  if (isa<BootstrapOp>(op))
    return bootstrap;
  return 1;
}

/// What a bootstrap can take and give: rescaled and relinearized.
bool isFresh(Value v) {
  CiphertextType t = Emitter::typeOf(v);
  return t.getDegree() == 1 && t.getSize() == 2;
}

/// The bound of what a refresh of `v` refreshes: an exact integer product
/// (a ReLU's closing x 8) is refreshed before it and redone after, so its
/// operand's (the product's bound over its factor: a ReLU on [-16, 16]
/// refreshes u (1 + p(u)), within 2).
double refreshedBound(Value v) {
  auto m = v.getDefiningOp<MulIntOp>();
  if (!m)
    return boundOf(v);
  const double k = std::fabs(double(int64_t(m.getValue())));
  return std::max(boundOf(m.getInput()), k > 0 ? boundOf(v) / k : 1.0);
}

class Placement {
public:
  Placement(func::FuncOp fn, unsigned segmentLimit, double bootstrapCost)
      : fn(fn), block(fn.getBody().front()), segmentLimit(segmentLimit),
        bootstrapCost(bootstrapCost) {
    const BootstrapConfig config =
        BootstrapConfig::of(fn->getParentOfType<ModuleOp>())
            .value_or(BootstrapConfig{});
    bootstrapDepth = config.depth();
    inputLevel = config.inputLevel();
    nominalBound = config.nominalBound;
  }

  /// The model's cost of the cheapest cuts, and the most levels a segment
  /// spans, without rewriting.
  FailureOr<PlacementEstimate> estimate() {
    if (failed(measure()) || failed(chooseCuts()))
      return failure();
    PlacementEstimate e;
    e.cost = cost;
    unsigned from = 0;
    for (unsigned c : cuts) {
      e.levels = std::max(e.levels, c - from);
      from = c;
    }
    // The last segment has the input level's levels besides.
    if (maxDepth - from > inputLevel)
      e.levels = std::max(e.levels, maxDepth - from - inputLevel);
    return e;
  }

  /// The highest level of the placed program.
  FailureOr<unsigned> run() {
    if (failed(measure()) || (segmentLimit && failed(chooseCuts())))
      return failure();
    assignLevels();
    // Every segment, the last one's S + s levels included, fits the chain.
    assert((!segmentLimit || highestAssigned() <= segmentLimit + inputLevel) &&
           "placement assigned levels above its segments");
    if (failed(rewrite()))
      return failure();
    unsigned highest = 0;
    auto visit = [&](Type t) {
      if (auto ct = dyn_cast<CiphertextType>(t))
        highest = std::max(highest, ct.getLevel());
      if (auto pt = dyn_cast<PlaintextType>(t))
        highest = std::max(highest, pt.getLevel());
    };
    for (Type t : block.getArgumentTypes())
      visit(t);
    for (Operation &op : block)
      for (Type t : op.getResultTypes())
        visit(t);
    return highest;
  }

private:
  using Key = unsigned;

  template <typename F> void forEachCiphertext(F f) {
    for (Value a : block.getArguments())
      f(a);
    for (Operation &op : block)
      for (Value r : op.getResults())
        if (isa<CiphertextType>(r.getType()))
          f(r);
  }

  /// Keys of every ciphertext, from their levels as lowered.
  LogicalResult measure() {
    for (BlockArgument a : block.getArguments())
      if (!isa<CiphertextType>(a.getType()) || !isFresh(a))
        return emitError(a.getLoc(), "bootstrap placement expects fresh "
                                     "ciphertext arguments (degree 1, size 2)");
    for (Operation &op : block)
      if (!isa<AddOp, SubOp, MulOp, NegateOp, AddPlainOp, MulPlainOp,
               MulConstOp, MulIntOp, EncodeOp, RotateOp, ConjugateOp,
               RelinearizeOp, RescaleOp, LevelDownOp, BootstrapOp,
               func::ReturnOp>(op))
        return op.emitOpError("is not ckks arithmetic: bootstraps are placed "
                              "before they are expanded");
    unsigned top = 0;
    forEachCiphertext(
        [&](Value v) { top = std::max(top, Emitter::levelOf(v)); });
    forEachCiphertext([&](Value v) {
      Key k = 2 * (top - Emitter::levelOf(v)) +
              (Emitter::typeOf(v).getDegree() > 1);
      keys[v] = k;
      maxKey = std::max(maxKey, k);
    });
    maxDepth = maxKey / 2;
    for (Operation &op : block)
      if (auto written = dyn_cast<BootstrapOp>(op))
        lastWritten =
            std::max(lastWritten, (keyOf(written.getInput()) + 1) / 2);
    return success();
  }

  Key keyOf(Value v) const { return keys.at(v); }

  /// Where `use` consumes its value: at its op's result, except that the
  /// return and a bootstrap take the value where it is (never across a
  /// cut).
  std::optional<Key> consumedAt(OpOperand &use) const {
    Operation *user = use.getOwner();
    if (isa<BootstrapOp, func::ReturnOp>(user))
      return std::nullopt;
    return keyOf(user->getResult(0));
  }

  /// The segment of a key: how many cuts lie below it.
  unsigned segmentOf(Key k) const {
    return unsigned(std::lower_bound(cuts.begin(), cuts.end(), (k + 1) / 2) -
                    cuts.begin());
  }

  /// The dynamic program over cut depths. A placement is a set of depths
  /// 0 < c_1 < ... < c_m < D with every segment at most `segmentLimit` deep,
  /// the last (to the return) at most that plus the input level s; its cost
  /// is the sum over segments (a, b] of the ops with keys in it, each at
  /// level b - depth (+ s where a bootstrap follows, whose input sits at s),
  /// plus a bootstrap at a to level ~ b - a (+ s) for every value live
  /// across a with a use in (a, b]. best[b] is the cheapest placement of the
  /// depths up to a cut at b.
  LogicalResult chooseCuts() {
    const unsigned depth = maxDepth;
    if (depth == 0)
      return success();
    const unsigned span = std::min(segmentLimit, depth);
    // The last segment ends at level 0 instead of s: s levels longer, up
    // to its last written bootstrap, whose input sits at s.
    const unsigned lastSpan = std::min(segmentLimit + inputLevel, depth);
    const unsigned lastFrom =
        std::max(depth - lastSpan, lastWritten > span ? lastWritten - span : 0);
    // The levels a segment ending at b keeps below its ops.
    auto below = [&](unsigned b) { return b == depth ? 0u : inputLevel; };
    // Op weights by key, and weight times depth, as prefix sums.
    std::vector<double> weight(maxKey + 2, 0), weightDepth(maxKey + 2, 0);
    for (Operation &op : block)
      if (op.getNumResults() == 1 &&
          isa<CiphertextType>(op.getResultTypes()[0])) {
        Key k = keyOf(op.getResult(0));
        weight[k + 1] += weightOf(&op, bootstrapCost);
        weightDepth[k + 1] += weightOf(&op, bootstrapCost) * double(k / 2);
      }
    for (Key k = 1; k < weight.size(); ++k) {
      weight[k] += weight[k - 1];
      weightDepth[k] += weightDepth[k - 1];
    }
    auto lastKey = [&](unsigned b) { return b == depth ? maxKey : 2 * b; };
    auto opCost = [&](unsigned a, unsigned b) {
      Key lo = a == 0 ? 0 : 2 * a + 1, hi = lastKey(b);
      return double(b + 1 + below(b)) * (weight[hi + 1] - weight[lo]) -
             (weightDepth[hi + 1] - weightDepth[lo]);
    };
    // live[a][s]: values that a cut at a refreshes for a segment (a, b] of
    // s = b - a levels or more (running sums over s). A value live across a
    // is refreshed for (a, b] if its first use after a lies in it and fewer
    // levels below the value than the segment is long: one further below
    // still sits high enough there and only moves down (a skip connection,
    // a ReLU's scaled input that its last product reads). A cut is
    // possible where every value live across it can be bootstrapped.
    // liveLast[a]: those a cut at a refreshes for the last segment, (a, D],
    // where a value needs s more levels between it and its use to stay
    // unrefreshed: it sits s above the segment's end, the use does not.
    std::vector<std::vector<unsigned>> live(depth,
                                            std::vector<unsigned>(span + 1, 0));
    std::vector<unsigned> liveLast(depth, 0), wideLast(depth, 0);
    // wide[a][s]: those of them whose bound (the range analysis') exceeds
    // what the nominal base serves at the program's precision (at least 1).
    // One such refresh widens the chain's base for every bootstrap (its
    // precision or its digits, docs/bootstrapping.md): a cut a level away,
    // at a normalized value (a ReLU's x / 16 rather than x), is worth more
    // than the few ops it moves.
    std::vector<std::vector<unsigned>> wide(depth,
                                            std::vector<unsigned>(span + 1, 0));
    std::vector<bool> possible(depth, true);
    forEachCiphertext([&](Value v) {
      std::vector<Key> uses;
      for (OpOperand &use : v.getUses())
        if (std::optional<Key> k = consumedAt(use))
          uses.push_back(*k);
      if (uses.empty())
        return;
      std::sort(uses.begin(), uses.end());
      const Key own = keyOf(v);
      const bool large = refreshedBound(v) > nominalBound;
      for (unsigned a = std::max(1u, (own + 1) / 2);
           a < depth && 2 * a < uses.back(); ++a) {
        if (!isFresh(v))
          possible[a] = false;
        Key first = *std::upper_bound(uses.begin(), uses.end(), 2 * a);
        // The segment reaches the use from b = ceil(first / 2) (the last
        // segment holds every key), and needs a bootstrap from b - a >
        // the levels between value and use. That assumes the value sits
        // at a - own / 2, true when its own segment ends at a; one made
        // more than a segment before a has crossed another cut and sits
        // lower (or only a copy does), so it is counted as the rewrite
        // will most likely treat it: bootstrapped.
        const unsigned reach = std::min((first + 1) / 2, depth) - a;
        const bool near = own / 2 + span >= a;
        const unsigned from =
            near ? std::max(reach, (first - own) / 2 + 1) : reach;
        if (from <= span) {
          ++live[a][from];
          if (large)
            ++wide[a][from];
        }
        if ((near ? std::max(reach, (first - own) / 2 + 1 + inputLevel)
                  : reach) <= depth - a) {
          ++liveLast[a];
          if (large)
            ++wideLast[a];
        }
      }
    });
    for (auto *rows : {&live, &wide})
      for (std::vector<unsigned> &row : *rows)
        for (size_t s = 1; s < row.size(); ++s)
          row[s] += row[s - 1];
    // A wide refresh costs as much again as the dearest refresh there is.
    const double widePenalty =
        bootstrapCost * (double(span) + 1 + bootstrapDepth / 2.0);
    auto refreshCost = [&](unsigned a, unsigned b) {
      const bool last = b == depth;
      return (last ? liveLast[a] : live[a][b - a]) * bootstrapCost *
                 (double(b - a + below(b)) + 1 + bootstrapDepth / 2.0) +
             (last ? wideLast[a] : wide[a][b - a]) * widePenalty;
    };
    const double none = std::numeric_limits<double>::infinity();
    std::vector<double> best(depth + 1, none);
    std::vector<unsigned> previous(depth + 1, 0);
    best[0] = 0;
    for (unsigned b = 1; b <= depth; ++b) {
      if (b < depth && !possible[b])
        continue;
      for (unsigned a = b == depth ? lastFrom
                        : b > span ? b - span
                                   : 0;
           a < b; ++a) {
        if (best[a] == none)
          continue;
        double cost = best[a] + opCost(a, b) + (a ? refreshCost(a, b) : 0);
        if (cost < best[b]) {
          best[b] = cost;
          previous[b] = a;
        }
      }
    }
    if (best[depth] == none) {
      // Some `span` consecutive depths have no possible cut.
      unsigned from = 0;
      for (unsigned c = 1; c <= depth && c - from <= span; ++c)
        if (c == depth || possible[c])
          from = c;
      return fn.emitError("cannot place bootstraps at most ")
             << segmentLimit << " levels apart: at each depth from " << from + 1
             << " to " << from + span
             << " a value that is not rescaled and relinearized (degree 1, "
                "size 2) is live, and a bootstrap cannot take it";
    }
    cost = best[depth];
    for (unsigned b = previous[depth]; b; b = previous[b])
      cuts.push_back(b);
    std::reverse(cuts.begin(), cuts.end());
    return success();
  }

  /// Whether `use` is in a later segment than its value (then a copy
  /// refreshed for that segment serves it).
  bool crosses(OpOperand &use) const {
    std::optional<Key> at = consumedAt(use);
    return at && segmentOf(*at) != segmentOf(keyOf(use.get()));
  }

  /// The level `use` needs its value at: its op's result's (one more for
  /// a rescale); anything for the return, and a bootstrap's input level
  /// (SlotToCoeff's levels when it comes first).
  unsigned demandOf(OpOperand &use) const {
    Operation *user = use.getOwner();
    if (isa<func::ReturnOp>(user))
      return 0;
    if (isa<BootstrapOp>(user))
      return inputLevel;
    unsigned level = levels.lookup(user->getResult(0));
    return isa<RescaleOp>(user) ? level + 1 : level;
  }

  /// Levels as low as the code after each value allows, segment by
  /// segment: a value's level is the most any of its uses in its segment
  /// needs, a copy refreshed for a later segment is raised to the most its
  /// uses there need (the level the code after that bootstrap needs), and
  /// the deepest values end at level 0 (or at a bootstrap's input level).
  void assignLevels() {
    for (Operation &op : llvm::reverse(block))
      for (OpOperand &use : op.getOpOperands()) {
        Value v = use.get();
        if (!isa<CiphertextType>(v.getType()))
          continue;
        const bool refreshed = crosses(use);
        unsigned &level = refreshed
                              ? refreshLevels[{v, segmentOf(*consumedAt(use))}]
                              : levels[v];
        level = std::max(level, demandOf(use));
        // A value refreshed for a later segment is a bootstrap's input.
        if (refreshed)
          levels[v] = std::max(levels[v], inputLevel);
      }
  }

  unsigned highestAssigned() const {
    unsigned highest = 0;
    for (const auto &entry : levels)
      highest = std::max(highest, entry.second);
    for (const auto &entry : refreshLevels)
      highest = std::max(highest, entry.second);
    return highest;
  }

  /// The program at the levels assigned, with the refreshes the cuts make.
  LogicalResult rewrite() {
    MLIRContext *ctx = fn.getContext();
    // The inputs are encrypted at one level.
    unsigned argumentLevel = 0;
    for (BlockArgument a : block.getArguments())
      argumentLevel = std::max(argumentLevel, levels.lookup(a));
    for (BlockArgument a : block.getArguments())
      a.setType(CiphertextType::get(ctx, argumentLevel, 1, 2));
    auto fresh = [&](unsigned level) {
      return CiphertextType::get(ctx, level, 1, 2);
    };
    OpBuilder b(ctx);
    Emitter e(b, 0);
    // Copies refreshed for a segment, and values moved down to a level,
    // made once at their first use.
    llvm::DenseMap<std::pair<Value, unsigned>, Value> refreshed, lowered;
    for (Operation &op : block) {
      if (isa<EncodeOp>(op))
        continue;
      b.setInsertionPoint(&op);
      e.loc = op.getLoc();
      for (OpOperand &use : op.getOpOperands()) {
        Value v = use.get();
        if (!isa<CiphertextType>(v.getType()))
          continue;
        if (crosses(use)) {
          // A value still above the level needed there (a skip connection
          // from a shallow depth) only moves down to it.
          const unsigned segment = segmentOf(*consumedAt(use));
          Value &r = refreshed[{v, segment}];
          if (!r) {
            const unsigned level = refreshLevels.lookup({v, segment});
            // The highest of the value and its copies refreshed for earlier
            // segments (made above, so they dominate): one still high
            // enough, like a ReLU's scaled input that its first stage and
            // its last product both read, only moves down.
            Value source = v;
            for (unsigned s = 0; s < segment; ++s)
              if (Value c = refreshed.lookup({v, s});
                  c && Emitter::levelOf(c) > Emitter::levelOf(source))
                source = c;
            if (Emitter::levelOf(source) >= level) {
              r = e.levelDown(source, level);
            } else if (auto m = v.getDefiningOp<MulIntOp>()) {
              // Exact, so it commutes with the refresh, which then sees
              // the smaller operand (refreshedBound).
              auto refresh = BootstrapOp::create(b, op.getLoc(), fresh(level),
                                                 m.getInput());
              if (double bound = refreshedBound(v); bound > 1)
                refresh->setAttr(kBoundAttr, b.getF64FloatAttr(bound));
              r = e.mulInt(refresh, int64_t(m.getValue()));
            } else {
              r = BootstrapOp::create(b, op.getLoc(), fresh(level), v);
            }
          }
          v = r;
        }
        const unsigned level = demandOf(use);
        if (!isa<BootstrapOp, LevelDownOp, func::ReturnOp>(op) &&
            Emitter::levelOf(v) > level) {
          if (!isFresh(v))
            return op.emitOpError("takes a product (degree 2) that another "
                                  "use needs at a higher level");
          Value &low = lowered[{v, level}];
          if (!low)
            low = e.levelDown(v, level);
          v = low;
        }
        use.set(v);
      }
      if (isa<func::ReturnOp>(op))
        continue;
      Value result = op.getResult(0);
      const unsigned level = levels.lookup(result);
      if (isa<BootstrapOp>(op)) {
        result.setType(fresh(level));
        continue;
      }
      if (auto down = dyn_cast<LevelDownOp>(op))
        down.setLevel(level);
      if (isa<AddPlainOp, MulPlainOp>(op)) {
        // Each use of an encoding at the level of its ciphertext.
        OpOperand &plain = op.getOpOperand(1);
        auto encode = plain.get().getDefiningOp<EncodeOp>();
        auto type = cast<PlaintextType>(encode.getType());
        if (type.getLevel() != level) {
          if (!encode->hasOneUse()) {
            encode = cast<EncodeOp>(b.clone(*encode));
            plain.set(encode);
          }
          encode.getResult().setType(
              PlaintextType::get(ctx, level, type.getDegree()));
        }
      }
      SmallVector<Type, 1> types;
      if (failed(cast<InferTypeOpInterface>(op).inferReturnTypes(
              ctx, op.getLoc(), op.getOperands(), op.getAttrDictionary(),
              op.getPropertiesStorage(), op.getRegions(), types)))
        return failure();
      result.setType(types.front());
    }
    // level_downs whose source now sits at their target, encodings every
    // use of which took a copy, and products by integers every use of
    // which was refreshed (before the product), go.
    for (Operation &op : llvm::make_early_inc_range(block)) {
      auto down = dyn_cast<LevelDownOp>(op);
      if (down &&
          Emitter::levelOf(down.getInput()) == unsigned(down.getLevel())) {
        down.replaceAllUsesWith(down.getInput());
        down.erase();
      } else if (isa<EncodeOp, MulIntOp>(op) && op.use_empty()) {
        op.erase();
      }
    }
    fn.setFunctionType(
        FunctionType::get(ctx, block.getArgumentTypes(),
                          block.getTerminator()->getOperandTypes()));
    return success();
  }

  func::FuncOp fn;
  Block &block;
  unsigned segmentLimit;
  /// One bootstrap's weight (bootstrapWeight of the program's slots).
  double bootstrapCost;
  /// BootstrapConfig's depth and input level.
  unsigned bootstrapDepth, inputLevel;
  /// The largest bound a refresh may have without widening the chain's
  /// base (BootstrapConfig::nominalBound).
  double nominalBound;
  llvm::DenseMap<Value, Key> keys;
  /// The new level of each value, and of its copy refreshed for a later
  /// segment (assignLevels()).
  llvm::DenseMap<Value, unsigned> levels;
  llvm::DenseMap<std::pair<Value, unsigned>, unsigned> refreshLevels;
  /// The deepest input of a bootstrap the program writes.
  unsigned lastWritten = 0;
  Key maxKey = 0;
  unsigned maxDepth = 0;
  /// The chosen cut depths, ascending, and the model's cost of them.
  std::vector<unsigned> cuts;
  double cost = 0;
};

/// The bootstrap's weight (by `ckks.slots`) that placement prices it with.
double bootstrapPricing(ModuleOp module) {
  auto slotsAttr = module->getAttrOfType<IntegerAttr>("ckks.slots");
  return bootstrapWeight(slotsAttr ? slotsAttr.getInt() : 8);
}

/// The functions placement works on, or an error at the first with more
/// than one block.
FailureOr<SmallVector<func::FuncOp>> placedFunctions(ModuleOp module) {
  SmallVector<func::FuncOp> fns;
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal())
      continue;
    if (!fn.getBody().hasOneBlock())
      return fn.emitError("bootstrap placement expects a single block");
    fns.push_back(fn);
  }
  return fns;
}

class PlaceBootstrapsPass
    : public PassWrapper<PlaceBootstrapsPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PlaceBootstrapsPass)

  PlaceBootstrapsPass() = default;
  PlaceBootstrapsPass(const PlaceBootstrapsPass &other) : PassWrapper(other) {}
  explicit PlaceBootstrapsPass(unsigned levels) { levelsOption = levels; }

  StringRef getArgument() const final { return "ckks-place-bootstraps"; }
  StringRef getDescription() const final {
    return "Place bootstraps by cost and give each the level its uses need";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const double weight = bootstrapPricing(module);
    FailureOr<SmallVector<func::FuncOp>> fns = placedFunctions(module);
    if (failed(fns))
      return signalPassFailure();
    unsigned highest = 0;
    for (func::FuncOp fn : *fns) {
      FailureOr<unsigned> h = Placement(fn, levelsOption, weight).run();
      if (failed(h))
        return signalPassFailure();
      highest = std::max(highest, *h);
    }
    module->setAttr(
        "ckks.levels",
        IntegerAttr::get(IntegerType::get(&getContext(), 64), highest));
  }

  Option<unsigned> levelsOption{
      *this, "levels",
      llvm::cl::desc("the most levels between bootstraps (0: no limit; only "
                     "the program's own bootstraps are retargeted)"),
      llvm::cl::init(0)};
};

} // namespace

FailureOr<PlacementEstimate> estimatePlacement(ModuleOp module,
                                               unsigned levels) {
  const double weight = bootstrapPricing(module);
  FailureOr<SmallVector<func::FuncOp>> fns = placedFunctions(module);
  if (failed(fns))
    return failure();
  PlacementEstimate total;
  for (func::FuncOp fn : *fns) {
    FailureOr<PlacementEstimate> e = Placement(fn, levels, weight).estimate();
    if (failed(e))
      return failure();
    total.cost += e->cost;
    total.levels = std::max(total.levels, e->levels);
  }
  return total;
}

std::unique_ptr<Pass> createPlaceBootstrapsPass(unsigned levels) {
  return std::make_unique<PlaceBootstrapsPass>(levels);
}

void registerPlaceBootstrapsPass() { PassRegistration<PlaceBootstrapsPass>(); }

} // namespace cerium::ckks
