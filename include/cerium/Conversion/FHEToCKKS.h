//===- FHEToCKKS.h - Lowering tensor programs to ciphertexts ----*- C++ -*-===//
//
// Lowers func @main from the fhe dialect to the ckks dialect for programs
// whose tensors each fit in one ciphertext's slots. Layout: a tensor of n
// elements sits row-major in slots [0, n) of one ciphertext and the other
// slots hold zero; every lowering keeps that invariant. Plaintext subgraphs
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

/// `segmentDepth` > 0 places bootstraps automatically: an operand that
/// would lose a level after `segmentDepth` of them since the last refresh
/// (or the inputs) is bootstrapped first. Explicit bootstrap() calls are
/// lowered either way.
std::unique_ptr<mlir::Pass> createFheToCkksPass(int64_t slots = 0,
                                                unsigned segmentDepth = 0,
                                                double precision = 1e-3);
void registerFheToCkksPass();

} // namespace cerium

#endif // CERIUM_CONVERSION_FHETOCKKS_H
