//===- FuseElementwise.cpp - Elementwise limb arithmetic into kernels -----===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/SetVector.h"

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
/// results when `dropInternal` (vertical fusion).
KernelOp merge(KernelOp first, KernelOp second, bool dropInternal) {
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
    // Vertical: a kernel absorbs each producer kernel used only by it. In
    // block order, producers are complete before their consumer is seen.
    for (Operation *op = &block.front(); op; op = op->getNextNode()) {
      auto consumer = dyn_cast<KernelOp>(op);
      if (!consumer)
        continue;
      for (bool merged = true; merged;) {
        merged = false;
        for (Value v : consumer.getInputs()) {
          auto producer = v.getDefiningOp<KernelOp>();
          if (producer && llvm::all_of(producer->getUsers(), [&](Operation *u) {
                return u == consumer;
              })) {
            consumer = merge(producer, consumer, /*dropInternal=*/true);
            merged = true;
            break;
          }
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
