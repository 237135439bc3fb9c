//===- Approximations.h - The approximation each fhe op gets ----*- C++ -*-===//
//
// One definition of which polynomial program stands for an fhe.nonlinear
// or fhe.maxmin: the lowering emits it on ciphertexts and the reference
// evaluator (`cerium-run --plain --approx`) runs it in float64, so the two
// always agree.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_FHE_IR_APPROXIMATIONS_H
#define CERIUM_DIALECT_FHE_IR_APPROXIMATIONS_H

#include "cerium/Approx/Approximation.h"

#include "mlir/IR/Operation.h"

#include <string>
#include <variant>

namespace cerium::fhe {

/// For fhe.nonlinear: the function on its range. For fhe.maxmin (lowered as
/// (a + b) / 2 +- |a - b| / 2): abs on [-(hi - lo), hi - lo], to twice the
/// op's target since half of its error reaches the result. The target is
/// the op's fhe.precision, else `programPrecision`. A message (one
/// sentence, no location) when no approximation meets it.
std::variant<approx::Approximation, std::string>
approximationOf(mlir::Operation &op, double programPrecision);

} // namespace cerium::fhe

#endif // CERIUM_DIALECT_FHE_IR_APPROXIMATIONS_H
