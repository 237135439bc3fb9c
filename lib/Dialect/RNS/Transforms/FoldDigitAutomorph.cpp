//===- FoldDigitAutomorph.cpp - Key switches read rotated digits in place -===//
//
// A hoisted rotation raises its input once and rotates the raised digits
// for each amount: rns.automorph of every digit, then rns.key_switch of the
// rotated copies. The copies are written to the arena only to be read once
// by the inner product (for a top-level digit set, 2 x beta x |P Q| limbs
// through memory per rotation). This pass has the key switch read the
// digits through the automorphism itself (`permute`), so the backend
// permutes each limb where the product uses it, and the copies disappear.
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace cerium::rns {
namespace {

class FoldDigitAutomorphPass
    : public PassWrapper<FoldDigitAutomorphPass, OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FoldDigitAutomorphPass)

  StringRef getArgument() const final { return "rns-fold-digit-automorph"; }
  StringRef getDescription() const final {
    return "Key switches read rotated digits through the automorphism";
  }

  void runOnOperation() override {
    SmallVector<KeySwitchOp> switches;
    getOperation().walk([&](KeySwitchOp k) { switches.push_back(k); });
    for (KeySwitchOp k : switches) {
      if (k.getPermute())
        continue;
      // Every digit the result of one automorphism by the same element,
      // used by this key switch alone (else the copy is needed anyway).
      std::optional<uint64_t> galois;
      SmallVector<AutomorphOp> rotated;
      for (Value d : k.getDigits()) {
        auto a = d.getDefiningOp<AutomorphOp>();
        // rns.automorph takes any element; the permuted read needs an odd
        // one (an invalid automorphism is left for the executor to refuse).
        if (!a || !d.hasOneUse() || (galois && *galois != a.getGalois()) ||
            (a.getGalois() & 1) == 0 || int64_t(a.getGalois()) <= 0)
          break;
        galois = a.getGalois();
        rotated.push_back(a);
      }
      if (rotated.size() != k.getDigits().size())
        continue;
      for (auto [i, a] : llvm::enumerate(rotated))
        k->setOperand(unsigned(i), a.getInput());
      k.setPermuteAttr(Builder(k).getI64IntegerAttr(int64_t(*galois)));
      for (AutomorphOp a : rotated)
        a.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFoldDigitAutomorphPass() {
  return std::make_unique<FoldDigitAutomorphPass>();
}

} // namespace cerium::rns
