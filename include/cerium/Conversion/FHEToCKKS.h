//===- FHEToCKKS.h - Lowering tensor programs to ciphertexts ----*- C++ -*-===//
//
// Lowers func @main from the fhe dialect to the ckks dialect. Layout: a
// tensor sits row-major (its extents possibly padded) in slots [0, n) of
// one ciphertext and the other slots hold zero; a tensor larger than the
// slot count S spans ceil(n / S) ciphertexts, position p in slot p % S of
// ciphertext p / S. Each tensor argument and result of main becomes its
// ciphertexts, consecutive, with `fhe.shape`, `fhe.layout` (when padded)
// and, for several, `fhe.part` (0, 1, ...). Plaintext subgraphs
// (weights, literals and ops on them) are evaluated at compile time and
// encoded where they meet a ciphertext.
//
// Scale and level management happens as ops are emitted: products are
// relinearized and rescaled at once, additions align levels with
// level_down. Levels are first counted down from a provisional top; the
// pass then renumbers them so the deepest value sits at level 0 and records
// the depth the parameters must provide:
//
//   module attributes {ckks.slots = S, ckks.levels = L}
//
// Ops whose lowering belongs to later work (matmul and conv layers, the
// approximated nonlinear functions, bootstrapping, cipher broadcasting)
// fail with "not yet supported: <op> at file:line:col".
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

/// Lowers with as many levels as the program needs, however deep;
/// bootstrap() calls become ckks.bootstrap, and ckks-place-bootstraps places
/// the others where the chain runs out.
std::unique_ptr<mlir::Pass> createFheToCkksPass(int64_t slots = 0,
                                                double precision = 1e-3);
void registerFheToCkksPass();

} // namespace cerium

#endif // CERIUM_CONVERSION_FHETOCKKS_H
