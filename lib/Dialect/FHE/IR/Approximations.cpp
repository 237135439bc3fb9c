//===- Approximations.cpp - The approximation each fhe op gets ------------===//

#include "cerium/Dialect/FHE/IR/Approximations.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace cerium::fhe {

using namespace mlir;

std::variant<approx::Approximation, std::string>
approximationOf(Operation &op, double programPrecision) {
  double target = programPrecision;
  if (auto p = op.getAttrOfType<FloatAttr>(kPrecisionAttr))
    target = p.getValueAsDouble();
  std::string function;
  double lo, hi;
  if (auto n = dyn_cast<NonlinearOp>(op)) {
    function = n.getFunction().str();
    lo = n.getRange()[0];
    hi = n.getRange()[1];
  } else {
    auto m = cast<MaxMinOp>(op);
    const double width = m.getRange()[1] - m.getRange()[0];
    function = "abs";
    lo = -width;
    hi = width;
    target *= 2;
  }
  return approx::approximate(function, lo, hi, target);
}

} // namespace cerium::fhe
