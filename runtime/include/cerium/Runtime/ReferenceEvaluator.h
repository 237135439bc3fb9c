//===- ReferenceEvaluator.h - The reference meaning in float64 --*- C++ -*-===//
//
// DSL.md: "The reference meaning of a program is its evaluation in float64 on
// plaintext, with every nonlinear function exact." This evaluates a func
// @main of the fhe dialect that way (`cerium-run --plain`), and is what the
// encrypted results are compared against.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_REFERENCEEVALUATOR_H
#define CERIUM_RUNTIME_REFERENCEEVALUATOR_H

#include "cerium/Support/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <vector>

namespace cerium::runtime {

/// Throws cerium::Error for ops without a reference yet (the layers whose
/// lowering is later work).
std::vector<NpyArray> evaluateReference(mlir::func::FuncOp main,
                                        const std::vector<NpyArray> &inputs);

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_REFERENCEEVALUATOR_H
