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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

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

} // namespace cerium

#endif // CERIUM_CONVERSION_FUNCTIONREBUILDER_H
