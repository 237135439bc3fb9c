//===- MergeModDownRescale.cpp - One division for ModDown and rescale -----===//

#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace cerium::poly {
namespace {

class MergeModDownRescalePass
    : public PassWrapper<MergeModDownRescalePass, OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MergeModDownRescalePass)

  StringRef getArgument() const final { return "poly-merge-mod-down-rescale"; }
  StringRef getDescription() const final {
    return "Divide by P and the top primes at once after a key switch";
  }

  void runOnOperation() override {
    SmallVector<RescaleOp> rescales;
    getOperation().walk([&](RescaleOp r) { rescales.push_back(r); });
    for (RescaleOp r : rescales) {
      auto sum = r.getInput().getDefiningOp<AddOp>();
      if (!sum || !sum->hasOneUse())
        continue;
      for (unsigned i = 0; i < 2; ++i) {
        auto down = sum->getOperand(i).getDefiningOp<ModDownOp>();
        if (!down || !down->hasOneUse())
          continue;
        OpBuilder b(r);
        Value merged =
            ModDownRescaleOp::create(b, r.getLoc(), r.getType(),
                                     down.getInput(), sum->getOperand(1 - i));
        r.replaceAllUsesWith(merged);
        r.erase();
        sum.erase();
        down.erase();
        break;
      }
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
