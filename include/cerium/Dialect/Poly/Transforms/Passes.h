//===- Passes.h - poly transformations --------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_POLY_TRANSFORMS_PASSES_H
#define CERIUM_DIALECT_POLY_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cerium::poly {

/// rescale(x + mod_down(y)) -> mod_down_rescale(y, x) when the sum and the
/// ModDown have no other use: the end of every relinearization or rotation
/// followed by a rescale. Saves an NTT of every limb per polynomial.
std::unique_ptr<mlir::Pass> createMergeModDownRescalePass();

void registerPolyPasses();

} // namespace cerium::poly

#endif // CERIUM_DIALECT_POLY_TRANSFORMS_PASSES_H
