//===- FoldBatchNorm.cpp - Batch normalization into its producer ----------===//
//
// Eval-mode batch normalization is a per-channel x s_c + t_c. After a
// convolution (or a linear layer on a vector, whose channels are its
// outputs) it folds into the weights and bias: W'_c = W_c s_c, b'_c = b_c
// s_c + t_c, one level less on ciphertexts. Run on the program that is
// lowered; the reference program keeps the operations as written.
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/FHE/Transforms/Passes.h"
#include "cerium/Dialect/FHE/Transforms/PlainValues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cmath>

using namespace mlir;

namespace cerium::fhe {
namespace {

class FoldBatchNormPass
    : public PassWrapper<FoldBatchNormPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FoldBatchNormPass)

  StringRef getArgument() const final { return "fhe-fold-batchnorm"; }
  StringRef getDescription() const final {
    return "Fold batch normalization into the convolution or linear layer "
           "before it";
  }

  void runOnOperation() override {
    PlainValues plains;
    SmallVector<BatchNormOp> candidates;
    getOperation().walk([&](BatchNormOp bn) { candidates.push_back(bn); });
    for (BatchNormOp bn : candidates)
      fold(bn, plains);
  }

private:
  /// The producer's weight and bias (null if none), if bn can fold into it:
  /// its only user is bn and its output channels are bn's axis 0.
  static std::pair<Value, Value> producerOf(BatchNormOp bn) {
    Operation *def = bn.getInput().getDefiningOp();
    if (!def || !def->hasOneUse())
      return {};
    if (auto c = dyn_cast<Conv2dOp>(def))
      return {c.getWeight(), c.getBias()};
    if (auto l = dyn_cast<LinearOp>(def);
        l && shapeOf(l.getResult().getType()).size() == 1)
      return {l.getWeight(), l.getBias()};
    return {};
  }

  void fold(BatchNormOp bn, PlainValues &plains) {
    auto [weight, bias] = producerOf(bn);
    if (!weight)
      return;
    const auto *w = plains.get(weight), *gamma = plains.get(bn.getGamma()),
               *beta = plains.get(bn.getBeta()),
               *mean = plains.get(bn.getMean()),
               *var = plains.get(bn.getVariance());
    const std::vector<double> *b = bias ? plains.get(bias) : nullptr;
    if (!w || !gamma || !beta || !mean || !var || (bias && !b))
      return;
    const size_t channels = gamma->size(), per = w->size() / channels;
    const double eps = bn.getEps().convertToDouble();
    std::vector<double> newW(*w), newB(channels);
    for (size_t c = 0; c < channels; ++c) {
      const double s = (*gamma)[c] / std::sqrt((*var)[c] + eps);
      for (size_t k = 0; k < per; ++k)
        newW[c * per + k] *= s;
      newB[c] = (b ? (*b)[c] : 0.0) * s + (*beta)[c] - (*mean)[c] * s;
    }
    Operation *producer = bn.getInput().getDefiningOp();
    OpBuilder builder(producer);
    auto constant = [&](Value like, const std::vector<double> &values) {
      return ConstantOp::create(builder, producer->getLoc(), like.getType(),
                                builder.getDenseF64ArrayAttr(values))
          .getResult();
    };
    Value w2 = constant(weight, newW), b2 = constant(bn.getGamma(), newB);
    producer->setOperand(1, w2);
    if (bias) {
      producer->setOperand(2, b2);
    } else if (auto c = dyn_cast<Conv2dOp>(producer)) {
      builder.setInsertionPoint(c);
      auto folded = Conv2dOp::create(builder, c.getLoc(), c.getType(),
                                     c.getInput(), w2, b2, c.getStrideAttr(),
                                     c.getPaddingAttr(), c.getGroupsAttr());
      c.replaceAllUsesWith(folded.getResult());
      c.erase();
      producer = folded;
    } else {
      auto l = cast<LinearOp>(producer);
      builder.setInsertionPoint(l);
      auto folded = LinearOp::create(builder, l.getLoc(), l.getType(),
                                     l.getInput(), w2, b2);
      l.replaceAllUsesWith(folded.getResult());
      l.erase();
      producer = folded;
    }
    SmallVector<Value> replaced{weight, bn.getGamma(), bn.getBeta(),
                                bn.getMean(), bn.getVariance()};
    if (bias)
      replaced.push_back(bias);
    bn.replaceAllUsesWith(producer->getResult(0));
    bn.erase();
    // Leaves that only fed the folded ops (a value may appear twice).
    for (Value v : replaced) {
      Operation *def = v.getDefiningOp();
      if (def && v.use_empty() && isa<ConstantOp, WeightOp>(def))
        def->erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFoldBatchNormPass() {
  return std::make_unique<FoldBatchNormPass>();
}

} // namespace cerium::fhe
