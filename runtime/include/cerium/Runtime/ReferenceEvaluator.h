//===- ReferenceEvaluator.h - The reference meaning in float64 --*- C++ -*-===//
//
// DSL.md: "The reference meaning of a program is its evaluation in float64 on
// plaintext, with every nonlinear function exact." This evaluates a func
// @main of the fhe dialect that way (`cerium-run --plain`), and is what the
// encrypted results are compared against.
//
// With ReferenceOptions::approx it evaluates instead what the compiler
// computes on ciphertexts (`cerium-run --plain --approx`): each fhe.nonlinear
// and fhe.maxmin on a cipher by the polynomial approximation the lowering
// emits for it (cerium::approx::approximate on its range, to its fhe.precision
// or else the program's precision), in float64 without encryption noise.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_REFERENCEEVALUATOR_H
#define CERIUM_RUNTIME_REFERENCEEVALUATOR_H

#include "cerium/Support/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <vector>

namespace cerium::runtime {

struct ReferenceOptions {
  /// Evaluate nonlinear functions and max/min of ciphers by the compiler's
  /// approximations instead of exactly.
  bool approx = false;
  /// The program's precision target (Artifact::precision): what an op
  /// without its own fhe.precision is approximated to. Read with approx.
  double precision = 0;
};

/// Throws cerium::Error for ops without a reference yet (the layers whose
/// lowering is later work), and with approx, when an op has no approximation
/// (one line, as cerium-cc reports it).
std::vector<NpyArray> evaluateReference(mlir::func::FuncOp main,
                                        const std::vector<NpyArray> &inputs,
                                        const ReferenceOptions &options = {});

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_REFERENCEEVALUATOR_H
