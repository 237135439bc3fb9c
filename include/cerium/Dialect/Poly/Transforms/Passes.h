//===- Passes.h - poly transformations --------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_POLY_TRANSFORMS_PASSES_H
#define CERIUM_DIALECT_POLY_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cerium::poly {

/// (r1 + mod_down(y1)) + (r2 + mod_down(y2)) -> (r1 + r2) + mod_down(y1 +
/// y2), so a sum of key switches' results is divided by P once; then
/// rescale(x + mod_down(y)) -> mod_down_rescale(y, x) (and rescale(
/// mod_down(y)) -> mod_down_rescale(y)) when the sum and the ModDown have no
/// other use: the end of every relinearization or rotation followed by a
/// rescale. Saves an NTT of every limb per polynomial.
std::unique_ptr<mlir::Pass> createMergeModDownRescalePass();

void registerPolyPasses();

} // namespace cerium::poly

#endif // CERIUM_DIALECT_POLY_TRANSFORMS_PASSES_H
