//===- FunctionRebuilder.h - 1:N lowering of straight-line functions -*- C++
//-*-===//
//
// The ckks -> poly and poly -> rns lowerings change every value's type and
// may turn one value into several (a ciphertext into its polynomials). The
// functions they see are straight-line (the front end unrolls loops and
// inlines calls), so each lowering is a walk: this helper builds the new
// function, maps arguments, calls the lowering on each op in order with the
// lowered operands, and flattens the returned values.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CONVERSION_FUNCTIONREBUILDER_H
#define CERIUM_CONVERSION_FUNCTIONREBUILDER_H

#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

#include <optional>

namespace cerium {

using LoweredValues = llvm::SmallVector<llvm::SmallVector<mlir::Value, 3>>;

struct FunctionLowering {
  /// Appends the lowered types of `type` to `out`.
  llvm::function_ref<void(mlir::Type type,
                          llvm::SmallVectorImpl<mlir::Type> &out)>
      convertType;
  /// Emits the replacement of `op` (operands already lowered, one list per
  /// operand) and returns the lowered values of its results; on failure it
  /// has emitted a diagnostic.
  llvm::function_ref<mlir::FailureOr<LoweredValues>(
      mlir::OpBuilder &builder, mlir::Operation *op,
      llvm::ArrayRef<llvm::SmallVector<mlir::Value, 3>> operands)>
      lowerOp;
};

/// Replaces `func` (single block, ending in func.return) by its lowering;
/// attributes of the function are kept.
mlir::LogicalResult rebuildFunction(mlir::func::FuncOp func,
                                    const FunctionLowering &lowering);

/// A module pass that lowers every function with the module's prime layout
/// (ckks.rns). Derived passes provide
///   void convertType(Type, SmallVectorImpl<Type> &, const RnsLayout &);
///   FailureOr<LoweredValues> lowerOp(OpBuilder &, Operation *,
///       ArrayRef<SmallVector<Value, 3>>, const RnsLayout &);
/// and `Dialect` is the dialect they produce.
template <class Derived, class Dialect>
class LayoutLoweringPass
    : public mlir::PassWrapper<Derived, mlir::OperationPass<mlir::ModuleOp>> {
public:
  void getDependentDialects(mlir::DialectRegistry &registry) const override {
    registry.insert<Dialect>();
  }

  void runOnOperation() override {
    std::optional<RnsLayout> layout = RnsLayout::of(this->getOperation());
    if (!layout)
      return this->signalPassFailure();
    auto &self = static_cast<Derived &>(*this);
    auto convertType = [&](mlir::Type t,
                           llvm::SmallVectorImpl<mlir::Type> &out) {
      self.convertType(t, out, *layout);
    };
    auto lower = [&](mlir::OpBuilder &b, mlir::Operation *op,
                     llvm::ArrayRef<llvm::SmallVector<mlir::Value, 3>> in) {
      return self.lowerOp(b, op, in, *layout);
    };
    for (auto func :
         this->getOperation().template getOps<mlir::func::FuncOp>()) {
      if (mlir::failed(checkLevels(func, *layout)))
        return this->signalPassFailure();
      self.prepare(func);
      if (mlir::failed(rebuildFunction(func, {convertType, lower})))
        return this->signalPassFailure();
    }
  }

  /// Called on each function before it is rebuilt.
  void prepare(mlir::func::FuncOp) {}
  /// The level a type of the dialect being lowered says, if it has one.
  static std::optional<unsigned> levelOf(mlir::Type) { return std::nullopt; }

private:
  /// A level above the layout's top would index primes past the chain.
  mlir::LogicalResult checkLevels(mlir::func::FuncOp func,
                                  const RnsLayout &layout) {
    auto tooHigh = [&](mlir::Type t) {
      std::optional<unsigned> level = Derived::levelOf(t);
      return level && *level > layout.maxLevel();
    };
    for (mlir::Type t : func.getArgumentTypes())
      if (tooHigh(t))
        return func.emitOpError("has an argument above the chain's top level ")
               << layout.maxLevel();
    auto walk = func.walk([&](mlir::Operation *op) {
      for (mlir::Value v : op->getResults())
        if (tooHigh(v.getType())) {
          op->emitOpError("has a result above the chain's top level ")
              << layout.maxLevel();
          return mlir::WalkResult::interrupt();
        }
      return mlir::WalkResult::advance();
    });
    return mlir::failure(walk.wasInterrupted());
  }
};

} // namespace cerium

#endif // CERIUM_CONVERSION_FUNCTIONREBUILDER_H
