//===- Passes.h - fhe transformations ---------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_FHE_TRANSFORMS_PASSES_H
#define CERIUM_DIALECT_FHE_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cerium::fhe {

/// Splits the program's precision (an absolute error bound on each of its
/// outputs) among its approximated nonlinear functions: each fhe.nonlinear
/// and fhe.maxmin on a cipher gets `fhe.precision` = precision / (2 K G),
/// the smallest over the outputs it reaches, K the number of approximations
/// reaching that output and G a bound on how much the output moves per unit
/// error at the op's result (backward: operator infinity-norms of linear
/// maps, plain factors, Lipschitz constants of later functions on their
/// ranges, value ranges of cipher factors from a forward interval analysis
/// that starts at main's `fhe.range` argument attributes). The other half
/// of the precision is the encryption noise's. Where no finite G can be
/// derived, the op gets precision / (2 K).
std::unique_ptr<mlir::Pass> createAssignPrecisionPass(double precision = 1e-3);
/// Folds eval-mode batch normalization into the convolution (or the linear
/// layer on a vector) that produces its input, when that is its only user
/// and the weights are known: one level less.
std::unique_ptr<mlir::Pass> createFoldBatchNormPass();
void registerFhePasses();

} // namespace cerium::fhe

#endif // CERIUM_DIALECT_FHE_TRANSFORMS_PASSES_H
