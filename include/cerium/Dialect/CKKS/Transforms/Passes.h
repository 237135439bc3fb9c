//===- Passes.h - ckks transformations --------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_CKKS_TRANSFORMS_PASSES_H
#define CERIUM_DIALECT_CKKS_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cerium::ckks {

/// Lazy relinearization: removes every relinearize and re-inserts one only
/// where a relinearized (size-2) ciphertext is required — before a
/// multiplication, rotation, conjugation, level_down or return — once per
/// value. Sums of products then pay one key switch instead of one per
/// product, and relinearizing after the rescale that follows a product
/// works on fewer limbs.
std::unique_ptr<mlir::Pass> createLazyRelinearizePass();
void registerCkksPasses();

} // namespace cerium::ckks

#endif // CERIUM_DIALECT_CKKS_TRANSFORMS_PASSES_H
