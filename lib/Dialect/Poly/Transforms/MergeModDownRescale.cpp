//===- MergeModDownRescale.cpp - One division for ModDown and rescale -----===//

#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace cerium::poly {
namespace {

/// `v` as rest + mod_down(down): a ModDown used only here (rest null), a sum
/// with one such ModDown term used only here, or v itself (down null).
struct Split {
  Value rest, down;
  SmallVector<Operation *, 2> absorbed; // dies once v is rewritten
};

Split split(Value v) {
  auto soleModDown = [](Value x) -> ModDownOp {
    auto d = x.getDefiningOp<ModDownOp>();
    return d && d->hasOneUse() ? d : ModDownOp();
  };
  if (ModDownOp d = soleModDown(v))
    return {Value(), d.getInput(), {d}};
  if (auto sum = v.getDefiningOp<AddOp>(); sum && sum->hasOneUse())
    for (unsigned i = 0; i < 2; ++i)
      if (ModDownOp d = soleModDown(sum->getOperand(i)))
        return {sum->getOperand(1 - i), d.getInput(), {d, sum}};
  return {v, Value(), {}};
}

class MergeModDownRescalePass
    : public PassWrapper<MergeModDownRescalePass, OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MergeModDownRescalePass)

  StringRef getArgument() const final { return "poly-merge-mod-down-rescale"; }
  StringRef getDescription() const final {
    return "Sum key-switch results over PQ and divide by P and the top "
           "primes at once";
  }

  void runOnOperation() override {
    sumModDowns();
    mergeRescales();
  }

private:
  /// (r1 + mod_down(y1)) + (r2 + mod_down(y2)) -> (r1 + r2) +
  /// mod_down(y1 + y2): ModDown is linear up to its rounding, so the sum of
  /// several key switches' results (a linear transform's giant steps, the
  /// rotations of a sum) is divided by P once, with one rounding instead of
  /// one per term. Sums are visited in order, so a chain of them folds into
  /// one ModDown.
  void sumModDowns() {
    SmallVector<AddOp> sums;
    getOperation().walk([&](AddOp a) { sums.push_back(a); });
    for (AddOp sum : sums) {
      Split x = split(sum.getLhs()), y = split(sum.getRhs());
      if (!x.down || !y.down || x.down.getType() != y.down.getType())
        continue;
      OpBuilder b(sum);
      Location loc = sum.getLoc();
      Value down = ModDownOp::create(b, loc, sum.getType(),
                                     AddOp::create(b, loc, x.down, y.down));
      Value rest = x.rest && y.rest ? AddOp::create(b, loc, x.rest, y.rest)
                                    : (x.rest ? x.rest : y.rest);
      sum.replaceAllUsesWith(rest ? Value(AddOp::create(b, loc, rest, down))
                                  : down);
      sum.erase();
      for (Split *s : {&x, &y})
        for (Operation *op : llvm::reverse(s->absorbed))
          op->erase();
    }
  }

  /// rescale(x + mod_down(y)) and rescale(mod_down(y)) -> one division.
  void mergeRescales() {
    SmallVector<RescaleOp> rescales;
    getOperation().walk([&](RescaleOp r) { rescales.push_back(r); });
    for (RescaleOp r : rescales) {
      Split s = split(r.getInput());
      if (!s.down)
        continue;
      OpBuilder b(r);
      r.replaceAllUsesWith(
          ModDownRescaleOp::create(b, r.getLoc(), r.getType(), s.down, s.rest)
              .getResult());
      r.erase();
      for (Operation *op : llvm::reverse(s.absorbed))
        op->erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createMergeModDownRescalePass() {
  return std::make_unique<MergeModDownRescalePass>();
}

void registerPolyPasses() {
  registerPass([] { return createMergeModDownRescalePass(); });
}

} // namespace cerium::poly
