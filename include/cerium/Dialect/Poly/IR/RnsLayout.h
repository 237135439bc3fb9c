//===- RnsLayout.h - The prime layout the lower dialects refer to -*- C++
//-*-===//
//
// The facts of a parameter set that the ckks -> poly -> rns lowerings need:
// the shape of the prime chain (base primes, primes per level, special
// primes, digit size), the moduli themselves and the scale of every level.
// The compiler records them on the module once parameters are chosen,
//
//   module attributes {ckks.rns = {log_n = 12, base = 1, per_level = 1,
//       special = 1, digit = 1, moduli = array<i64: ...>,
//       scales = array<f64: ...>}}
//
// so each pass (and each lit test) runs from the IR alone. Prime ids: Q
// primes 0 .. numQ-1 in chain order, then the P primes.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_POLY_IR_RNSLAYOUT_H
#define CERIUM_DIALECT_POLY_IR_RNSLAYOUT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace cerium {

struct RnsLayout {
  unsigned logN = 0;
  unsigned base = 1, perLevel = 1, special = 1, digitSize = 1;
  std::vector<int64_t> moduli; // Q primes, then P primes
  std::vector<double> scales;  // Delta_l for l = 0 .. maxLevel

  static constexpr llvm::StringLiteral kAttrName = "ckks.rns";

  unsigned maxLevel() const { return unsigned(scales.size()) - 1; }
  size_t degree() const { return size_t(1) << logN; }
  size_t numQ() const { return qCount(maxLevel()); }
  size_t qCount(unsigned level) const { return base + level * perLevel; }
  size_t digitCount(unsigned level) const {
    return (qCount(level) + digitSize - 1) / digitSize;
  }
  /// Q primes [first, first + count) of digit j at `level`.
  std::pair<size_t, size_t> digitRange(unsigned level, size_t j) const;

  /// q_0, the product of the base primes (what bootstrapping reduces by).
  double baseModulus() const;

  std::vector<uint32_t> qIds(unsigned level) const;
  std::vector<uint32_t> pIds() const;
  /// [P, Q_level]: the key-switching basis.
  std::vector<uint32_t> extendedIds(unsigned level) const;
  /// Bytes of a switching key over [P, Q_level] held whole (both halves of
  /// each digit). A key switch at `level` does work in the same proportion.
  double keyBytes(unsigned level) const {
    return double(digitCount(level)) * 2 * double(special + qCount(level)) *
           double(degree()) * sizeof(uint32_t);
  }

  mlir::DictionaryAttr toAttr(mlir::MLIRContext *context) const;
  /// Reads the layout from the module enclosing `op`; emits an error on op
  /// and returns nullopt if it is missing or malformed.
  static std::optional<RnsLayout> of(mlir::Operation *op);
};

} // namespace cerium

#endif // CERIUM_DIALECT_POLY_IR_RNSLAYOUT_H
