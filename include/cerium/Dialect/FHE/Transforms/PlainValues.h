//===- PlainValues.h - Plain tensors known before lowering ------*- C++ -*-===//
//
// The values of plain operands that fhe-level passes reason about (weights
// for error bounds, batch normalization folded into its convolution):
// constants, weights read from their safetensors file, and their transposes
// and negations. Other plain values are computed by the lowering.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_FHE_TRANSFORMS_PLAINVALUES_H
#define CERIUM_DIALECT_FHE_TRANSFORMS_PLAINVALUES_H

#include "mlir/IR/Value.h"

#include <map>
#include <optional>
#include <vector>

namespace cerium::fhe {

class PlainValues {
public:
  /// Row-major values of `v`, or null when they are not known without
  /// evaluating the program. Pointers stay valid for the cache's life.
  const std::vector<double> *get(mlir::Value v);

private:
  std::map<const void *, std::optional<std::vector<double>>> cache;
};

} // namespace cerium::fhe

#endif // CERIUM_DIALECT_FHE_TRANSFORMS_PLAINVALUES_H
