//===- Passes.h - ckks transformations --------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_CKKS_TRANSFORMS_PASSES_H
#define CERIUM_DIALECT_CKKS_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <cstdint>
#include <memory>

namespace cerium::ckks {

/// Lazy relinearization: removes every relinearize and re-inserts one only
/// where a relinearized (size-2) ciphertext is required — before a
/// multiplication, rotation, conjugation, level_down, rescale or return —
/// once per value, which later uses then share. Sums of products taken
/// before their rescale pay one key switch instead of one per product.
std::unique_ptr<mlir::Pass> createLazyRelinearizePass();
/// Expands every ckks.bootstrap into ops the pipeline lowers (level_down
/// to 0, mod_raise, the subring trace for sparse slots, CoeffToSlot as
/// baby-step giant-step diagonal products, EvalMod on the real and
/// imaginary parts, SlotToCoeff). Reads the prime layout (`ckks.rns`), the
/// slot count (`ckks.slots`) and the BootstrapConfig (`ckks.bootstrap`).
std::unique_ptr<mlir::Pass> createExpandBootstrapPass();
/// Keeps the program within `maxKeys` rotation keys and `maxKeyBytes` bytes
/// of them (0: no limit), each key over [P, Q_level] for the highest level
/// it is used at: the powers of two below the slot count plus the amounts
/// whose own key saves the most key-switch work per byte; other rotations
/// become chains of power-of-two rotations. Reads `ckks.slots`, and
/// `ckks.rns` (needed for a byte budget).
std::unique_ptr<mlir::Pass>
createLimitRotationKeysPass(unsigned maxKeys = 0, uint64_t maxKeyBytes = 0);
/// Cost-based bootstrap placement over a leveled program (fhe -> ckks's,
/// however deep): cuts the program at the depths where bootstraps cost the
/// least (a dynamic program over depths: bootstraps of the values live
/// across each cut against the ops of each segment priced by the primes
/// they run on), keeping every segment within `levels` (0: no limit, none
/// is placed). Levels are then assigned as low as the code after each value
/// allows (the deepest values at 0), so each bootstrap, placed or written,
/// raises to the level its uses need; `ckks.levels` is set to the highest.
/// Runs before lazy relinearization and bootstrap expansion; reads the
/// bootstrap's depth from `ckks.bootstrap` when present.
std::unique_ptr<mlir::Pass> createPlaceBootstrapsPass(unsigned levels = 0);

/// What ckks-place-bootstraps would choose with at most `levels` levels
/// between bootstraps, without rewriting: its model's cost (in elementwise
/// ops on one prime; key switches priced per prime, whatever the parameter
/// set) summed over the functions, and the most levels a segment spans (the
/// last one's less the bootstraps' input level, which it has besides).
/// Failure, with the pass's diagnostic, where no placement exists.
struct PlacementEstimate {
  double cost = 0;
  unsigned levels = 0;
};
mlir::FailureOr<PlacementEstimate> estimatePlacement(mlir::ModuleOp module,
                                                     unsigned levels);
void registerLimitRotationKeysPass();
void registerPlaceBootstrapsPass();
void registerExpandBootstrapPass();
void registerCkksPasses();

} // namespace cerium::ckks

#endif // CERIUM_DIALECT_CKKS_TRANSFORMS_PASSES_H
