//===- Partition.cpp - One schedule over several processes ----------------===//
//
// Splits a schedule's work among P ranks in one of two ways per group of
// dependent ops (a weakly connected component of the dataflow, not counting
// the function's inputs and the encoded constants, which every rank has):
//
//  - limb-wise: every rank computes, for each op, the limbs whose primes it
//    owns (prime id mod P). Everything except base conversion is limb by
//    limb; a base conversion's outputs are split too, but each needs every
//    input limb, so its input is all-gathered first;
//  - ciphertext-wise: the whole component runs on one rank; nothing moves
//    until its results are returned.
//
// A component costs its compute plus its results' trip to the other ranks
// when whole on one rank, and compute / P plus the words it gathers when
// split. Of three plans (all split; all whole, largest first on the least
// loaded rank; per component, largest first, whichever keeps the maximum
// load lower so far) the one with the smallest maximum load is taken.
// Costs are in modular products; `word-cost` and `message-cost` price the
// link.
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace cerium::rns {

namespace {

int64_t limbsOf(Value v) {
  return int64_t(cast<LimbsType>(v.getType()).getNumLimbs());
}

/// Modular-product equivalents of one op over all its limbs (n the ring
/// degree); the proportions follow the CPU backend's measured costs.
double computeCost(Operation *op, double n) {
  const double logN = std::log2(n);
  return llvm::TypeSwitch<Operation *, double>(op)
      .Case<KernelOp>([&](KernelOp k) {
        double muls = 0, adds = 0;
        k.getBody().walk([&](Operation *inner) {
          if (isa<MulOp, MulIntOp, MulInvOp, MulProdOp>(inner))
            ++muls;
          else if (isa<AddOp, SubOp, NegateOp>(inner))
            ++adds;
        });
        double arrays = double(k.getInputs().size() + k.getOutputs().size());
        return double(limbsOf(k.getOutputs()[0])) * n *
               (muls + 0.5 * adds + 0.5 * arrays);
      })
      .Case<NttOp, InttOp>([&](Operation *o) {
        return double(limbsOf(o->getResult(0))) * n / 2 * logN;
      })
      .Case<BaseConvertOp>([&](BaseConvertOp b) {
        double in = double(limbsOf(b.getInput()));
        return (in + in * double(limbsOf(b.getResult()))) * n;
      })
      .Case<AutomorphOp>([&](AutomorphOp a) {
        return 0.5 * double(limbsOf(a.getResult())) * n;
      })
      .Case<KeySwitchOp>([&](KeySwitchOp k) {
        return 2.0 * double(k.getDigits().size() * limbsOf(k.getB())) * n;
      })
      .Case<ConcatOp>(
          [&](ConcatOp c) { return 0.25 * double(limbsOf(c.getResult())) * n; })
      .Case<EncodeOp>(
          [&](EncodeOp e) { return double(limbsOf(e.getResult())) * n * logN; })
      .Default([](Operation *) { return 0.0; });
}

/// Where a value's limbs are known: on every rank, limb-wise (each rank
/// its own primes), or on one rank.
constexpr int64_t kEverywhere = -2, kLimbWise = -1;

class PartitionPass
    : public PassWrapper<PartitionPass, OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PartitionPass)

  PartitionPass() = default;
  PartitionPass(const PartitionPass &other) : PassWrapper(other) {}
  explicit PartitionPass(const PartitionOptions &options) {
    ranks = options.ranks;
    wordCost = options.wordCost;
    messageCost = options.messageCost;
    mode = options.mode;
  }

  StringRef getArgument() const final { return "rns-partition"; }
  StringRef getDescription() const final {
    return "Split a schedule over several ranks, limb-wise or by ciphertext";
  }

  void runOnOperation() override;

  Option<int64_t> ranks{*this, "ranks", llvm::cl::desc("Number of processes"),
                        llvm::cl::init(1)};
  Option<double> wordCost{
      *this, "word-cost",
      llvm::cl::desc("Cost of moving one word, in modular products"),
      llvm::cl::init(PartitionOptions().wordCost)};
  Option<double> messageCost{
      *this, "message-cost",
      llvm::cl::desc("Cost of one collective, in modular products"),
      llvm::cl::init(PartitionOptions().messageCost)};
  Option<std::string> mode{
      *this, "mode",
      llvm::cl::desc("auto (by cost), limbs or ciphertexts (every component "
                     "one way, for tests and measurements)"),
      llvm::cl::init("auto")};
};

void PartitionPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (ranks < 1) {
    func.emitError("rns-partition needs at least one rank");
    return signalPassFailure();
  }
  if (ranks == 1)
    return;
  if (mode != "auto" && mode != "limbs" && mode != "ciphertexts") {
    func.emitError("rns-partition mode is auto, limbs or ciphertexts, not '")
        << mode << "'";
    return signalPassFailure();
  }
  if (func->hasAttr("rns.ranks")) {
    func.emitError("the schedule is already partitioned");
    return signalPassFailure();
  }
  double n = 1 << 12;
  if (auto layout =
          func->getParentOfType<ModuleOp>()->getAttrOfType<DictionaryAttr>(
              "ckks.rns"))
    if (auto logN = layout.getAs<IntegerAttr>("log_n"))
      n = std::ldexp(1.0, int(logN.getInt()));
  const double p = double(ranks);
  Block &block = func.getBody().front();

  // Components: ops joined through the values they pass (inputs and
  // encoded constants are everywhere and join nothing).
  auto joins = [](Value v) {
    Operation *def = v.getDefiningOp();
    return def && !isa<EncodeOp>(def);
  };
  llvm::EquivalenceClasses<Operation *> classes;
  for (Operation &op : block.without_terminator()) {
    if (isa<EncodeOp>(op))
      continue;
    classes.insert(&op);
    for (Value v : op.getOperands())
      if (joins(v))
        classes.unionSets(&op, v.getDefiningOp());
  }
  struct Component {
    Operation *leader;
    // Compute (modular products, its own encodes included); words each
    // rank receives when split; words its results take from one rank to
    // all; collectives either way.
    double compute = 0, gathered = 0, returned = 0;
    double splitMessages = 0, returnMessages = 0;
  };
  llvm::DenseMap<Operation *, unsigned> componentOf;
  std::vector<Component> components;
  auto component = [&](Operation *op) -> Component & {
    Operation *leader = classes.getLeaderValue(op);
    auto [it, inserted] = componentOf.try_emplace(leader, components.size());
    if (inserted)
      components.push_back({leader});
    return components[it->second];
  };
  // An encode used by one component belongs to it; one used by several is
  // made on every rank, or limb-wise if they all run limb-wise.
  llvm::DenseMap<Operation *, Operation *> encodeOwner;
  for (Operation &op : block.without_terminator()) {
    if (auto e = dyn_cast<EncodeOp>(op)) {
      Operation *owner = nullptr;
      bool shared = false;
      for (Operation *user : e->getUsers()) {
        Operation *leader =
            isa<func::ReturnOp>(user) ? nullptr : classes.getLeaderValue(user);
        if (!leader || (owner && owner != leader))
          shared = true;
        owner = leader;
      }
      if (!shared && owner)
        encodeOwner[&op] = owner;
      continue;
    }
    Component &c = component(&op);
    c.compute += computeCost(&op, n);
    if (auto b = dyn_cast<BaseConvertOp>(op)) {
      c.gathered += double(limbsOf(b.getInput())) * n * (p - 1) / p;
      c.splitMessages += 1;
    }
    for (Value v : op.getOperands())
      if (auto e = v.getDefiningOp<EncodeOp>())
        if (encodeOwner.lookup(e) == classes.getLeaderValue(&op))
          c.compute += computeCost(e, n) /
                       double(std::distance(e->user_begin(), e->user_end()));
  }
  for (Value v : block.getTerminator()->getOperands())
    if (joins(v)) {
      Component &c = component(v.getDefiningOp());
      c.gathered += double(limbsOf(v)) * n * (p - 1) / p;
      c.splitMessages += 1;
      c.returned += double(limbsOf(v)) * n;
      c.returnMessages += 1;
    }

  // Three candidate plans, the one with the smallest maximum load wins:
  // every component split; every component whole on the least loaded rank
  // (largest first); and per component (largest first) whichever of the
  // two keeps the maximum lower so far.
  auto alone = [&](const Component &c) {
    return c.compute + c.returned * wordCost + c.returnMessages * messageCost;
  };
  auto split = [&](const Component &c) {
    return c.compute / p + c.gathered * wordCost +
           c.splitMessages * messageCost;
  };
  std::vector<unsigned> order(components.size());
  for (unsigned i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
    return alone(components[a]) > alone(components[b]);
  });
  enum class Way { Split, Alone, Greedy };
  auto plan = [&](Way way, std::vector<int64_t> &where) {
    std::vector<double> load(size_t(ranks), 0.0);
    where.assign(components.size(), kLimbWise);
    for (unsigned i : order) {
      const Component &c = components[i];
      auto least = std::min_element(load.begin(), load.end());
      double maxLoad = *std::max_element(load.begin(), load.end());
      bool whole = way == Way::Alone ||
                   (way == Way::Greedy &&
                    std::max(maxLoad, *least + alone(c)) <= maxLoad + split(c));
      if (whole) {
        *least += alone(c);
        where[i] = int64_t(least - load.begin());
      } else {
        for (double &l : load)
          l += split(c);
      }
    }
    return *std::max_element(load.begin(), load.end());
  };
  std::vector<int64_t> where, candidate;
  if (mode == "limbs") {
    plan(Way::Split, where);
  } else if (mode == "ciphertexts") {
    plan(Way::Alone, where);
  } else {
    double best = plan(Way::Alone, where);
    for (Way way : {Way::Greedy, Way::Split}) {
      double cost = plan(way, candidate);
      if (cost < best) {
        best = cost;
        where.swap(candidate);
      }
    }
  }
  llvm::DenseMap<Operation *, int64_t> placement; // leader -> rank or -1
  for (auto [i, c] : llvm::enumerate(components))
    placement[c.leader] = where[i];

  // Mark every op, then make arrays whole where an op or the return needs
  // them whole.
  OpBuilder b(func.getContext());
  const bool planned = func->hasAttr("rns.arena_limbs");
  llvm::DenseMap<Value, int64_t> known;
  for (BlockArgument a : block.getArguments())
    known[a] = kEverywhere;
  auto gather = [&](Operation *before, Value v) {
    b.setInsertionPoint(before);
    auto g = AllGatherOp::create(b, before->getLoc(), v,
                                 b.getI64IntegerAttr(known.lookup(v)));
    if (planned)
      g->setAttr("rns.offsets", b.getDenseI64ArrayAttr({}));
    known[v] = kEverywhere;
  };
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands())
        if (known.lookup(v) != kEverywhere)
          gather(ret, v);
      break;
    }
    int64_t where = kEverywhere;
    if (auto e = dyn_cast<EncodeOp>(op)) {
      if (Operation *owner = encodeOwner.lookup(&op))
        where = placement.lookup(owner);
      // Constants of limb-wise ops only are encoded limb-wise too (each
      // process transforms the slots once and reduces and transforms its
      // primes' limbs); others whole where they are needed.
      else if (!e->use_empty() &&
               llvm::all_of(e->getUsers(), [&](Operation *user) {
                 return !isa<func::ReturnOp>(user) &&
                        placement.lookup(classes.getLeaderValue(user)) ==
                            kLimbWise;
               }))
        where = kLimbWise;
    } else {
      where = placement.lookup(classes.getLeaderValue(&op));
    }
    if (where == kLimbWise)
      op.setAttr("rns.on", b.getStringAttr("limbs"));
    else if (where >= 0)
      op.setAttr("rns.on", b.getI64IntegerAttr(where));
    if (auto bc = dyn_cast<BaseConvertOp>(op);
        bc && where == kLimbWise && known.lookup(bc.getInput()) != kEverywhere)
      gather(&op, bc.getInput());
    int64_t result = where;
    if (isa<SliceOp>(op)) {
      result = known.lookup(op.getOperand(0));
    } else if (isa<ConcatOp>(op) && where == kLimbWise &&
               llvm::all_of(op.getOperands(), [&](Value v) {
                 return known.lookup(v) == kEverywhere;
               })) {
      result = kEverywhere; // a limb-wise concat copies whole operands
    }
    for (Value r : op.getResults())
      known[r] = result;
  }
  func->setAttr("rns.ranks", b.getI64IntegerAttr(ranks));
}

} // namespace

std::unique_ptr<Pass> createPartitionPass(const PartitionOptions &options) {
  return std::make_unique<PartitionPass>(options);
}

} // namespace cerium::rns
