//===- FHEToCKKS.h - Lowering tensor programs to ciphertexts ----*- C++ -*-===//
//
// Lowers func @main from the fhe dialect to the ckks dialect, as an MLIR
// dialect conversion with one pattern per fhe op (docs/architecture.md, "the
// fhe -> ckks lowering"). Each cipher tensor gets a layout: which element
// sits in which slot of which of its ciphertexts (padded row-major, gapped
// grids of strided layers, channels multiplexed into the gaps); position p
// of a layout is slot p % S of ciphertext p / S, so a tensor spans as many
// ciphertexts as it needs. Each tensor argument and result of main becomes
// its ciphertexts, consecutive, with `fhe.shape`, `fhe.layout` (when padded)
// and, for several, `fhe.part` (0, 1, ...). Plaintext subgraphs (weights,
// literals and ops on them) are evaluated at compile time and encoded where
// they meet a ciphertext; nonlinear functions become the polynomials the
// program's precision asks for, and `bootstrap(x)` a ckks.bootstrap.
//
// Scale and level management happens as ops are emitted: products are
// relinearized and rescaled at once, additions align levels with
// level_down. Levels are first counted down from a provisional top; the
// pass then renumbers them so the deepest value sits at level 0 and records
// the depth the parameters must provide:
//
//   module attributes {ckks.slots = S, ckks.levels = L}
//
// What has no lowering yet (plain inputs of main, a few plaintext-only
// forms) fails with "not yet supported: ... at file:line:col".
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CONVERSION_FHETOCKKS_H
#define CERIUM_CONVERSION_FHETOCKKS_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cerium {

/// The most ciphertexts one tensor of main may take (the lowering refuses
/// more; artifacts are checked against it).
constexpr int64_t kMaxCiphertextsPerTensor = 4096;

/// The automatic slot count's cap without a ring asked for: the slots of
/// N = 2^16, the largest ring that keeps 128-bit security at usual depths.
constexpr int64_t kMaxAutomaticSlots = int64_t(1) << 15;

/// Lowers with as many levels as the program needs, however deep;
/// bootstrap() calls become ckks.bootstrap, and ckks-place-bootstraps places
/// the others where the chain runs out. `layoutSearch` false keeps the
/// layout assignment's rule of thumb (for comparisons). `slots` 0 chooses
/// the slot count: the largest tensor's, at most `maxSlots` (N / 2 of the
/// ring asked for, else kMaxAutomaticSlots).
std::unique_ptr<mlir::Pass>
createFheToCkksPass(int64_t slots = 0, int64_t maxSlots = kMaxAutomaticSlots,
                    double precision = 1e-3, bool layoutSearch = true);
void registerFheToCkksPass();

} // namespace cerium

#endif // CERIUM_CONVERSION_FHETOCKKS_H
