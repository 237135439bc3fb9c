//===- RematerializeEncodes.cpp - Constants encoded again where used
//-------===//
//
// Identical constants are one rns.encode after CSE, wherever they are used:
// two bootstraps at the same level share every DFT diagonal, and each
// encoded diagonal (a whole limb array in the arena) then stays live from
// the first bootstrap to the second, with all the others. At N = 2^16 two
// adjacent 16,384-slot bootstraps of ResNet-20 held 9.8 GiB of planned
// arena that way, against 0.7 GiB for one. Encoding again is an NTT per
// limb, which the first bootstrap paid as well; holding costs the arena.
// This pass gives each run of uses that lie within `distance` ops of the
// previous use an encode of its own, made right before the run's first use.
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>

using namespace mlir;

namespace cerium::rns {
namespace {

class RematerializeEncodesPass
    : public PassWrapper<RematerializeEncodesPass,
                         OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(RematerializeEncodesPass)

  RematerializeEncodesPass() = default;
  RematerializeEncodesPass(const RematerializeEncodesPass &other)
      : PassWrapper(other) {}
  explicit RematerializeEncodesPass(int64_t distance) {
    distanceOption = distance;
  }

  StringRef getArgument() const final { return "rns-rematerialize-encodes"; }
  StringRef getDescription() const final {
    return "Encode a constant again for uses far from its previous one";
  }

  void runOnOperation() override {
    Block &block = getOperation().getBody().front();
    llvm::DenseMap<Operation *, int64_t> position;
    int64_t next = 0;
    for (Operation &op : block)
      position[&op] = next++;
    SmallVector<EncodeOp> encodes;
    for (Operation &op : block)
      if (auto e = dyn_cast<EncodeOp>(op); e && !e->hasOneUse())
        encodes.push_back(e);
    for (EncodeOp encode : encodes) {
      // Uses by position of the op in this block that holds them.
      SmallVector<std::pair<int64_t, OpOperand *>> uses;
      for (OpOperand &use : encode->getUses())
        if (Operation *at = block.findAncestorOpInBlock(*use.getOwner()))
          uses.push_back({position.lookup(at), &use});
      std::sort(uses.begin(), uses.end(),
                [](const auto &x, const auto &y) { return x.first < y.first; });
      Value current = encode.getResult();
      int64_t previous = uses.empty() ? 0 : uses.front().first;
      for (auto [at, use] : uses) {
        if (at - previous > distanceOption) {
          OpBuilder b(block.findAncestorOpInBlock(*use->getOwner()));
          current = b.clone(*encode)->getResult(0);
        }
        use->set(current);
        previous = at;
      }
    }
  }

  Option<int64_t> distanceOption{
      *this, "distance",
      llvm::cl::desc("ops between two uses past which the later one gets an "
                     "encode of its own"),
      llvm::cl::init(1000)};
};

} // namespace

std::unique_ptr<Pass> createRematerializeEncodesPass(int64_t distance) {
  return std::make_unique<RematerializeEncodesPass>(distance);
}

} // namespace cerium::rns
