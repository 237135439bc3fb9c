//===- FHEDialect.h - The fhe dialect ---------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_FHE_IR_FHEDIALECT_H
#define CERIUM_DIALECT_FHE_IR_FHEDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "cerium/Dialect/FHE/IR/FHEOpsDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "cerium/Dialect/FHE/IR/FHEOpsTypes.h.inc"

#define GET_OP_CLASSES
#include "cerium/Dialect/FHE/IR/FHEOps.h.inc"

namespace cerium::fhe {

/// The shape of a cipher, plain tensor ({} for an f64 scalar).
llvm::SmallVector<int64_t> shapeOf(mlir::Type type);
bool isCipher(mlir::Type type);

/// On fhe.nonlinear and fhe.maxmin: the absolute error (f64) that op's
/// approximation must meet: the call's own `precision = e` from the source,
/// else a share of the program's precision (fhe-assign-precision); the
/// lowering and `cerium-run --plain --approx` read it.
inline constexpr llvm::StringLiteral kPrecisionAttr = "fhe.precision";
/// On an fhe op with a cipher result: [lo, hi] (f64 array) an `assume` in
/// the source states of that result (the inputs' go on main's arguments as
/// fhe.range); fhe-assign-precision narrows its interval to it.
inline constexpr llvm::StringLiteral kAssumedAttr = "fhe.assumed";
/// On an fhe op with a cipher result: the largest magnitude the range
/// analysis bounds it by (fhe-assign-precision); the lowering copies it to
/// the ckks ops that make the result (ckks::kBoundAttr).
inline constexpr llvm::StringLiteral kBoundAttr = "fhe.bound";
/// On the ckks module: one string per approximation the lowering chose,
/// "line L: ..." (approx::Approximation::describe), for --emit stats.
inline constexpr llvm::StringLiteral kApproximationsAttr = "fhe.approximations";
/// On the ckks module: the layout assignment's account, "estimated work W
/// (rule of thumb R), C conversions", and one string per conv2d, avgpool2d
/// and conversion, "line L: ...", for --emit stats.
inline constexpr llvm::StringLiteral kLayoutSummaryAttr = "fhe.layout_summary";
inline constexpr llvm::StringLiteral kLayoutsAttr = "fhe.layouts";
/// cipher<shape> or tensor<shape x f64>; an empty shape is the f64 scalar.
mlir::Type tensorType(mlir::MLIRContext *ctx, llvm::ArrayRef<int64_t> shape,
                      bool cipher);

} // namespace cerium::fhe

#endif // CERIUM_DIALECT_FHE_IR_FHEDIALECT_H
