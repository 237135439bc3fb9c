//===- Approximations.cpp - The approximation each fhe op gets ------------===//

#include "cerium/Dialect/FHE/IR/Approximations.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Support/Error.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

namespace cerium::fhe {

using namespace mlir;

approx::Approximation approximationOf(Operation &op, double programPrecision) {
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
  auto result = approx::approximate(function, lo, hi, target);
  if (auto *why = std::get_if<std::string>(&result)) {
    std::string where;
    if (auto fl = dyn_cast<FileLineColLoc>(op.getLoc()))
      where = "line " + std::to_string(fl.getLine()) + ": ";
    throw Error(where + *why);
  }
  return std::get<approx::Approximation>(std::move(result));
}

} // namespace cerium::fhe
