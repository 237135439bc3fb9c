//===- FuseElementwise.cpp - Elementwise limb arithmetic into kernels -----===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>

using namespace mlir;

namespace cerium::rns {
namespace {

bool isElementwise(Operation *op) {
  return isa<AddOp, SubOp, MulOp, NegateOp, MulIntOp, MulProdOp, MulInvOp>(
             op) &&
         isa<LimbsType>(op->getResult(0).getType());
}

/// Clones the body of `kernel` into the block at `b`'s insertion point,
/// taking each operand's residue from `residueOf`; returns the yielded
/// residues.
SmallVector<Value> inlineBody(OpBuilder &b, KernelOp kernel,
                              function_ref<Value(Value)> residueOf) {
  IRMapping map;
  Block &body = kernel.getBody().front();
  for (auto [operand, arg] : llvm::zip(kernel.getInputs(), body.getArguments()))
    map.map(arg, residueOf(operand));
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  SmallVector<Value> yielded;
  for (Value v : cast<YieldOp>(body.getTerminator()).getValues())
    yielded.push_back(map.lookup(v));
  return yielded;
}

/// One kernel computing `first` then `second` (in that order), placed at
/// `second`. Results of `first` that only `second` uses are not kept as
/// results when `dropInternal` (vertical fusion). `built` sees the fused
/// kernel while `first` and `second` still exist.
KernelOp merge(KernelOp first, KernelOp second, bool dropInternal,
               function_ref<void(KernelOp)> built = nullptr) {
  OpBuilder b(second);
  llvm::SetVector<Value> inputs;
  auto isFirstResult = [&](Value v) { return v.getDefiningOp() == first; };
  for (Value v : first.getInputs())
    inputs.insert(v);
  for (Value v : second.getInputs())
    if (!isFirstResult(v))
      inputs.insert(v);
  SmallVector<Value> keptFirst;
  for (Value r : first.getOutputs())
    if (!dropInternal ||
        !llvm::all_of(r.getUsers(), [&](Operation *u) { return u == second; }))
      keptFirst.push_back(r);

  SmallVector<Type> resultTypes;
  for (Value r : keptFirst)
    resultTypes.push_back(r.getType());
  for (Value r : second.getOutputs())
    resultTypes.push_back(r.getType());
  auto fused =
      KernelOp::create(b, second.getLoc(), resultTypes, inputs.getArrayRef());
  Block *body = new Block();
  fused.getBody().push_back(body);
  llvm::DenseMap<Value, Value> residue;
  for (Value v : inputs)
    residue[v] = body->addArgument(b.getI32Type(), v.getLoc());
  OpBuilder inner = OpBuilder::atBlockEnd(body);
  SmallVector<Value> firstYield =
      inlineBody(inner, first, [&](Value v) { return residue.lookup(v); });
  for (auto [r, y] : llvm::zip(first.getOutputs(), firstYield))
    residue[r] = y;
  SmallVector<Value> secondYield =
      inlineBody(inner, second, [&](Value v) { return residue.lookup(v); });
  SmallVector<Value> yields;
  for (Value r : keptFirst)
    yields.push_back(residue.lookup(r));
  yields.append(secondYield);
  YieldOp::create(inner, second.getLoc(), yields);
  if (built)
    built(fused);

  unsigned i = 0;
  for (Value r : keptFirst)
    r.replaceAllUsesWith(fused.getResult(i++));
  for (Value r : second.getOutputs())
    r.replaceAllUsesWith(fused.getResult(i++));
  second.erase();
  first.erase();
  return fused;
}

/// Wraps one elementwise op into a kernel of its own (one operand per
/// distinct value).
void wrap(Operation *op) {
  OpBuilder b(op);
  llvm::SetVector<Value> operands(op->operand_begin(), op->operand_end());
  auto kernel = KernelOp::create(b, op->getLoc(), op->getResultTypes(),
                                 operands.getArrayRef());
  Block *body = new Block();
  kernel.getBody().push_back(body);
  IRMapping map;
  for (Value v : operands)
    map.map(v, body->addArgument(b.getI32Type(), v.getLoc()));
  OpBuilder inner = OpBuilder::atBlockEnd(body);
  Operation *scalar = inner.clone(*op, map);
  scalar->getResult(0).setType(inner.getI32Type());
  YieldOp::create(inner, op->getLoc(), scalar->getResult(0));
  op->replaceAllUsesWith(kernel);
  op->erase();
}

/// The limbs live at each op of the block, the model vertical fusion is
/// checked against. Merging a producer into its consumer moves the
/// producer's reads to the consumer: operands that died at the producer now
/// stay live until the consumer, while the producer's results never reach
/// memory. Over a chain of sums (a giant-step accumulation, a row of
/// plaintext products) the moved operands pile up: one kernel at the end of
/// the chain reads every term, so every term stays live until it runs.
/// A merge is therefore taken only if the limbs live at every op between
/// producer and consumer stay within the peak of the unfused block: fusion
/// keeps its bandwidth win wherever memory allows, and does not raise the
/// peak the memory planner works from. Slices are views: they keep their
/// root array alive.
class LiveLimbs {
public:
  explicit LiveLimbs(Block &block) {
    int64_t n = 0;
    for (Operation &op : block)
      position[&op] = n++;
    live.assign(size_t(n) + 1, 0);
    for (BlockArgument a : block.getArguments())
      define(a, 0);
    for (Operation &op : block) {
      for (Value r : op.getResults()) {
        if (isa<SliceOp>(op))
          storage[r] = storage.lookup(op.getOperand(0));
        else
          define(r, position[&op]);
      }
      for (Value v : op.getOperands())
        if (auto it = storage.find(v); it != storage.end())
          roots[it->second].lastUse =
              std::max(roots[it->second].lastUse, position[&op]);
    }
    for (const Root &r : roots) {
      live[size_t(r.defined)] += r.size;
      live[size_t(r.lastUse) + 1] -= r.size;
    }
    for (int64_t t = 1; t <= n; ++t)
      live[size_t(t)] += live[size_t(t - 1)];
    peak = *std::max_element(live.begin(), live.end());
  }

  /// Whether merging `producer` into `consumer` keeps every point between
  /// them within the peak.
  bool fits(KernelOp producer, KernelOp consumer) const {
    int64_t from = position.lookup(producer), to = position.lookup(consumer);
    int64_t saved = 0;
    for (Value r : producer.getOutputs())
      saved += roots[storage.lookup(r)].size;
    SmallVector<unsigned> extended = extension(producer, to);
    for (int64_t t = from; t <= to; ++t) {
      int64_t at = live[size_t(t)] - saved;
      for (unsigned e : extended)
        if (roots[e].lastUse < t)
          at += roots[e].size;
      if (at > peak)
        return false;
    }
    return true;
  }

  /// Records the merge of `producer` into `consumer`, called while both
  /// still exist; `fused` replaces `consumer` and holds its results.
  void merged(KernelOp producer, KernelOp consumer, KernelOp fused) {
    int64_t from = position.lookup(producer), to = position.lookup(consumer);
    for (Value r : producer.getOutputs())
      for (int64_t t = from; t <= to; ++t)
        live[size_t(t)] -= roots[storage.lookup(r)].size;
    for (unsigned e : extension(producer, to)) {
      for (int64_t t = roots[e].lastUse + 1; t <= to; ++t)
        live[size_t(t)] += roots[e].size;
      roots[e].lastUse = to;
    }
    position[fused] = to;
    for (auto [old, now] : llvm::zip(consumer.getOutputs(), fused.getOutputs()))
      storage[now] = storage.lookup(old);
  }

private:
  struct Root {
    int64_t size, defined, lastUse;
  };
  void define(Value v, int64_t at) {
    auto limbs = dyn_cast<LimbsType>(v.getType());
    storage[v] = unsigned(roots.size());
    roots.push_back({limbs ? int64_t(limbs.getNumLimbs()) : 0, at, at});
  }
  /// The storage `producer` reads that dies before `to`: moving the reads to
  /// `to` keeps it live that long.
  SmallVector<unsigned> extension(KernelOp producer, int64_t to) const {
    SmallVector<unsigned> out;
    for (Value v : producer.getInputs()) {
      auto it = storage.find(v);
      if (it != storage.end() && roots[it->second].lastUse < to &&
          !llvm::is_contained(out, it->second))
        out.push_back(it->second);
    }
    return out;
  }

  llvm::DenseMap<Operation *, int64_t> position;
  llvm::DenseMap<Value, unsigned> storage; // value -> its root array
  std::vector<Root> roots;
  std::vector<int64_t> live; // limbs live at each position
  int64_t peak = 0;
};

/// Vertical merge, recorded in the memory model.
KernelOp mergeInto(KernelOp producer, KernelOp consumer, LiveLimbs &model) {
  return merge(producer, consumer, /*dropInternal=*/true,
               [&](KernelOp f) { model.merged(producer, consumer, f); });
}

class FuseElementwisePass
    : public PassWrapper<FuseElementwisePass, OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseElementwisePass)

  StringRef getArgument() const final { return "rns-fuse-elementwise"; }
  StringRef getDescription() const final {
    return "Fuse elementwise limb arithmetic into kernels";
  }

  void runOnOperation() override {
    Block &block = getOperation().getBody().front();
    for (Operation &op : llvm::make_early_inc_range(block))
      if (isElementwise(&op))
        wrap(&op);
    // Vertical: a kernel absorbs each producer kernel used only by it, where
    // memory allows (LiveLimbs). In block order, producers are complete
    // before their consumer is seen.
    LiveLimbs liveLimbs(block);
    for (Operation *op = &block.front(); op; op = op->getNextNode()) {
      auto consumer = dyn_cast<KernelOp>(op);
      if (!consumer)
        continue;
      for (bool merged = true; merged;) {
        merged = false;
        for (Value v : consumer.getInputs()) {
          auto producer = v.getDefiningOp<KernelOp>();
          if (!producer ||
              !llvm::all_of(producer->getUsers(),
                            [&](Operation *u) { return u == consumer; }) ||
              !liveLimbs.fits(producer, consumer))
            continue;
          consumer = mergeInto(producer, consumer, liveLimbs);
          merged = true;
          break;
        }
      }
      op = consumer;
    }
    // Horizontal: adjacent independent kernels over the same limbs.
    for (Operation &op : llvm::make_early_inc_range(block)) {
      auto second = dyn_cast<KernelOp>(op);
      auto first =
          second ? dyn_cast_or_null<KernelOp>(op.getPrevNode()) : KernelOp();
      if (!first ||
          first.getResult(0).getType() != second.getResult(0).getType())
        continue;
      if (llvm::any_of(second.getInputs(),
                       [&](Value v) { return v.getDefiningOp() == first; }))
        continue;
      merge(first, second, /*dropInternal=*/false);
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFuseElementwisePass() {
  return std::make_unique<FuseElementwisePass>();
}

} // namespace cerium::rns
