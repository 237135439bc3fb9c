//===- CKKSEmitter.h - ckks emission with managed levels --------*- C++ -*-===//
//
// Builds ckks ops the way every lowering to ckks needs them: products are
// relinearized and rescaled at once, operands of additions are aligned with
// level_down, constants are encoded compactly at the level of their use.
// The fhe -> ckks lowering and the bootstrap expansion both emit through it,
// so the level and scale discipline is written once.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_CKKS_IR_CKKSEMITTER_H
#define CERIUM_DIALECT_CKKS_IR_CKKSEMITTER_H

#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"

#include "mlir/IR/Builders.h"

#include <complex>
#include <optional>
#include <vector>

namespace cerium::ckks {

class Emitter {
public:
  /// `slots`: the slot count rotations are normalized by.
  Emitter(mlir::OpBuilder &b, int64_t slots)
      : b(b), loc(b.getUnknownLoc()), slots(slots) {}

  static CiphertextType typeOf(mlir::Value v) {
    return mlir::cast<CiphertextType>(v.getType());
  }
  static unsigned levelOf(mlir::Value v) { return typeOf(v).getLevel(); }

  mlir::Value levelDown(mlir::Value v, unsigned level);
  /// Brings x and y to the lower of their levels.
  void align(mlir::Value &x, mlir::Value &y);
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value negate(mlir::Value x);
  /// x * y, relinearized and rescaled.
  mlir::Value mul(mlir::Value x, mlir::Value y);
  /// Slot values [0, values.size()) encoded at `level`, degree 1, compact.
  mlir::Value encode(llvm::ArrayRef<double> values, unsigned level);
  mlir::Value encode(llvm::ArrayRef<std::complex<double>> values,
                     unsigned level);
  /// x * values, rescaled.
  mlir::Value mulPlain(mlir::Value x, llvm::ArrayRef<double> values);
  /// x * c in every slot, rescaled (no plaintext; zero slots stay zero).
  mlir::Value mulConst(mlir::Value x, double c);
  /// x * k exactly (ckks.mul_int): no rescale, no level.
  mlir::Value mulInt(mlir::Value x, int64_t k);
  /// x * values, as mul_const when all of the first n values are equal.
  mlir::Value mulValues(mlir::Value x, llvm::ArrayRef<double> values,
                        int64_t n);
  mlir::Value addPlain(mlir::Value x, llvm::ArrayRef<double> values);
  /// x + c in slots [0, n).
  /// With `mask` (1 where x holds an element, 0 in a layout's gaps), x + c
  /// at the elements only.
  mlir::Value addConst(mlir::Value x, double c, int64_t n,
                       llvm::ArrayRef<double> mask = {});
  /// Left rotation of all slots by `steps` (normalized modulo the slots).
  mlir::Value rotate(mlir::Value x, int64_t steps);
  mlir::Value conjugate(mlir::Value x);

  /// sum_k c_k x^k, x in [lo, hi], in ceil(log2(d + 1)) levels for degree d
  /// (approx::planSeries: the fewest products at that depth). Constants
  /// fill slots [0, n); with `mask` (1 where x holds an element, 0 in a
  /// layout's gaps, which hold 0) they are placed so that the gaps hold 0
  /// again after the series. Each part the plan builds carries its largest
  /// magnitude over [lo, hi] and 0 (kBoundAttr) where past 1.
  mlir::Value powerSeries(mlir::Value x, llvm::ArrayRef<double> coeffs,
                          double lo, double hi, int64_t n,
                          llvm::ArrayRef<double> mask = {});
  /// sum_k c_k T_k(t), t = the affine map of [lo, hi] onto [-1, 1] (one
  /// level unless [lo, hi] = [-1, 1]), then as powerSeries. With `mask`,
  /// the map's shift is added at the elements only, so t is 0 in the gaps
  /// (inside [-1, 1] even where 0 is outside [lo, hi]), and the series'
  /// constant is placed so that the gaps hold 0 again.
  mlir::Value chebyshevSeries(mlir::Value x, llvm::ArrayRef<double> coeffs,
                              double lo, double hi, int64_t n,
                              llvm::ArrayRef<double> mask = {});

  mlir::OpBuilder &b;
  /// The location of every op emitted (set per source op by the caller).
  mlir::Location loc;
  int64_t slots;
  /// Set while the values given are indices into main's run-time plaintext
  /// argument of this number (ckks.encode's `input`): encodes carry it, and
  /// nothing is decided by the values (no constant product for equal ones).
  std::optional<int64_t> runtimeInput;

private:
  /// The series in t, which lies in [lo, hi]; `x` (the program's operand)
  /// for a constant one.
  mlir::Value series(mlir::Value x, mlir::Value t,
                     llvm::ArrayRef<double> coeffs, bool chebyshev, double lo,
                     double hi, int64_t n, llvm::ArrayRef<double> mask);
};

} // namespace cerium::ckks

#endif // CERIUM_DIALECT_CKKS_IR_CKKSEMITTER_H
