//===- RnsLayout.cpp - The prime layout on the module ---------------------===//

#include "cerium/Dialect/Poly/IR/RnsLayout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <algorithm>

using namespace mlir;

namespace cerium {

std::pair<size_t, size_t> RnsLayout::digitRange(unsigned level,
                                                size_t j) const {
  size_t first = j * digitSize;
  return {first, std::min<size_t>(digitSize, qCount(level) - first)};
}

double RnsLayout::baseModulus() const {
  double q0 = 1;
  for (unsigned i = 0; i < base; ++i)
    q0 *= double(moduli[i]);
  return q0;
}

std::vector<uint32_t> RnsLayout::qIds(unsigned level) const {
  std::vector<uint32_t> ids(qCount(level));
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = uint32_t(i);
  return ids;
}

std::vector<uint32_t> RnsLayout::pIds() const {
  std::vector<uint32_t> ids(special);
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = uint32_t(numQ() + i);
  return ids;
}

std::vector<uint32_t> RnsLayout::extendedIds(unsigned level) const {
  std::vector<uint32_t> ids = pIds(), q = qIds(level);
  ids.insert(ids.end(), q.begin(), q.end());
  return ids;
}

DictionaryAttr RnsLayout::toAttr(MLIRContext *context) const {
  Builder b(context);
  return b.getDictionaryAttr({
      b.getNamedAttr("log_n", b.getI64IntegerAttr(logN)),
      b.getNamedAttr("base", b.getI64IntegerAttr(base)),
      b.getNamedAttr("per_level", b.getI64IntegerAttr(perLevel)),
      b.getNamedAttr("special", b.getI64IntegerAttr(special)),
      b.getNamedAttr("digit", b.getI64IntegerAttr(digitSize)),
      b.getNamedAttr("moduli", b.getDenseI64ArrayAttr(moduli)),
      b.getNamedAttr("scales", b.getDenseF64ArrayAttr(scales)),
  });
}

std::optional<RnsLayout> RnsLayout::of(Operation *op) {
  auto module =
      isa<ModuleOp>(op) ? cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  auto dict =
      module ? module->getAttrOfType<DictionaryAttr>(kAttrName) : nullptr;
  auto fail = [&](const Twine &what) -> std::optional<RnsLayout> {
    op->emitError() << "the module's '" << kAttrName << "' attribute " << what;
    return std::nullopt;
  };
  if (!dict)
    return fail("is missing (the parameter set's prime layout)");
  RnsLayout l;
  // Out of range is missing: a silent default would give N = 1 or no
  // base primes and crash a later pass.
  // log_n is a shift count; the prime counts are bounded only so that
  // products of them stay far from overflow (a long insecure chain has
  // digits of more than 64 primes).
  auto integer = [&](StringRef name, unsigned &out, int64_t end) {
    auto a = dict.getAs<IntegerAttr>(name);
    if (!a || a.getInt() < 0 || a.getInt() >= end)
      return false;
    out = unsigned(a.getInt());
    return true;
  };
  constexpr int64_t kMaxPrimes = int64_t(1) << 16;
  auto moduli = dict.getAs<DenseI64ArrayAttr>("moduli");
  auto scales = dict.getAs<DenseF64ArrayAttr>("scales");
  if (!integer("log_n", l.logN, 64) || !integer("base", l.base, kMaxPrimes) ||
      !integer("per_level", l.perLevel, kMaxPrimes) ||
      !integer("special", l.special, kMaxPrimes) ||
      !integer("digit", l.digitSize, kMaxPrimes) || !moduli || !scales)
    return fail("needs log_n (an integer in [0, 64)), base, per_level, "
                "special, digit (integers in [0, 65536)), moduli and scales");
  l.moduli.assign(moduli.asArrayRef().begin(), moduli.asArrayRef().end());
  l.scales.assign(scales.asArrayRef().begin(), scales.asArrayRef().end());
  if (l.logN == 0 || l.base == 0 || l.scales.empty() || l.perLevel == 0 ||
      l.digitSize == 0 || l.moduli.size() != l.numQ() + l.special)
    return fail("is inconsistent (moduli must list every Q and P prime)");
  return l;
}

} // namespace cerium
