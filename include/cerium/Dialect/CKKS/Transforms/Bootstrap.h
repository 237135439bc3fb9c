//===- Bootstrap.h - The shape of the compiled bootstrap --------*- C++ -*-===//
//
// The choices that fix a bootstrap's depth and precision. The compiler picks
// them before the parameter set (the chain must hold the bootstrap's depth
// on top of the program's deepest segment) and records them on the module
// as `ckks.bootstrap`, which `ckks-expand-bootstrap` reads.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_CKKS_TRANSFORMS_BOOTSTRAP_H
#define CERIUM_DIALECT_CKKS_TRANSFORMS_BOOTSTRAP_H

#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <optional>

namespace cerium {
struct RnsLayout;
} // namespace cerium

namespace cerium::ckks {

/// Bounds on a bootstrap's absolute error for slots within the config's
/// valueBound at given parameters (BootstrapConfig::errorBounds), and the
/// shift of its second iteration.
struct BootstrapErrors {
  /// One iteration.
  double once = 0;
  /// Two: the first iteration's error d is multiplied by 2^shift (so that
  /// |2^shift d| <= valueBound / 4 by `once`), refreshed, and added back with
  /// 2^-shift.
  double twice = 0;
  unsigned shift = 0;
};

/// The bound of `v`'s slots: ckks.bound (kBoundAttr) on its op (on a block
/// argument: its argument attribute), or on the op it moves, rescales or
/// refreshes; else 1 (values inside a lowering that carry none, which work
/// on [-1, 1]).
double boundOf(mlir::Value v);

struct BootstrapConfig {
  static constexpr const char *kAttrName = "ckks.bootstrap";
  /// The name wrapping the locations of a bootstrap's expansion, so that a
  /// --profile trace tells those ops from the layer's own.
  static constexpr const char *kLocationName = "bootstrap";

  /// Levels of the homomorphic DFT each way.
  unsigned coeffsToSlotsLevels = 3, slotsToCoeffsLevels = 3;
  /// Degree of the Chebyshev approximation of the scaled cosine.
  unsigned chebyshevDegree = 31;
  /// Double-angle steps after it (the cosine's argument is divided by 2^r).
  unsigned doubleAngles = 4;
  /// Bound on |I|, the multiple of q_0 that ModRaise adds to each
  /// coefficient; it follows from the secret's Hamming weight.
  unsigned overflowBound = 12;
  /// Sparse-secret encapsulation: switch to the ephemeral sparse secret
  /// for ModRaise only (ckks.switch_secret), so the computation secret
  /// stays dense; the overflow bound is then the sparse secret's.
  bool encapsulate = false;
  /// EvalMod's last step, arcsin(s) ~ s + c_3 s^3 (2 levels). Without it the
  /// sine's own relative error, 1 - sin(x) / x at x = 2 pi Delta_0 / q_0
  /// (about 1e-4 with q_0 2^8 above the scale), stays: programs whose
  /// precision is far coarser get two more levels between bootstraps
  /// (forPrecision).
  bool arcsine = true;
  /// SlotToCoeff before ModRaise (Chen and Han's "slim" order, Eurocrypt
  /// 2018): the input's slots become its coefficients at the bottom of the
  /// chain, on its fewest primes, and CoeffToSlot and EvalMod then give
  /// them back as slots. The input is taken at level inputLevel() instead
  /// of 0, and EvalMod's error reaches each slot alone instead of through a
  /// SlotToCoeff that sums n of them. For full slots (n = N/2): with fewer,
  /// the other order runs one EvalMod on both parts (docs/bootstrapping.md).
  bool slotsToCoeffsFirst = false;
  /// The largest magnitude of a slot the program's bootstraps refresh (the
  /// range analysis' bound at their inputs, boundOf; at least 1).
  double valueBound = 1;
  /// Bits the chain's base lies above the nominal 8 over the scale
  /// (widenBaseFor); 2^widerBase is the factor SlotToCoeff's constant
  /// leaves to a mul_int after it.
  unsigned widerBase = 0;
  int64_t outerFactor() const { return int64_t(1) << widerBase; }
  /// The largest slot magnitude the nominal base serves at the program's
  /// precision (servesAt): placement avoids refreshing larger values.
  double nominalBound = 1;

  /// Whether slots up to `bound` on a base `bits` above the nominal 8 keep
  /// EvalMod's approximation within an eighth of `precision` (m / q_0 at
  /// most 1/16, where the sine's series models its error).
  bool servesAt(double bound, unsigned bits, double precision) const;
  /// The fewest such bits for valueBound, at most ceil(log2 valueBound)
  /// (there m / q_0 <= 2^-8 as for [-1, 1]).
  void widenBaseFor(double precision);
  /// nominalBound for `precision` (at least 1).
  void setNominalBound(double precision);

  /// Levels one bootstrap consumes: the DFTs, the cosine series
  /// (ceil(log2(d + 1))), the double angles, and the arcsine correction (2)
  /// if any.
  unsigned depth() const;
  /// The level a bootstrap takes its input at: SlotToCoeff's levels when it
  /// comes first, else 0.
  unsigned inputLevel() const {
    return slotsToCoeffsFirst ? slotsToCoeffsLevels : 0;
  }
  /// Levels above a bootstrap's result that it raises to.
  unsigned raisedDepth() const { return depth() - inputLevel(); }

  /// The sine's relative error at sMax when no arcsine correction follows.
  static double sineError(double sMax);

  /// Drops the arcsine correction when `precision` is at least 64 times
  /// the sine's error at the nominal q_0 / Delta_0 = 2^8 (the many
  /// bootstraps of a deep program err the same way and add up).
  void forPrecision(double precision);

  /// The arcsine correction's cubic coefficient for sines up to `sMax`
  /// (EvalMod's last step), and its relative error there.
  static double arcsineCubic(double sMax);
  static double arcsineError(double sMax);

  /// Error bounds at `layout`'s parameters for `slots` slots, from a model
  /// fitted to measured worst cases (docs/bootstrapping.md, "Two
  /// iterations").
  BootstrapErrors errorBounds(const RnsLayout &layout, int64_t slots) const;

  /// A bound for a ternary secret of Hamming weight h: I is a sum of h + 1
  /// terms uniform in [-1/2, 1/2] (the rounding of c_0 + c_1 s over q_0),
  /// so 8 standard deviations, which its lighter-than-Gaussian tail makes
  /// a failure probability below 2^-40 per coefficient.
  static BootstrapConfig forHammingWeight(unsigned h, bool encapsulate);

  mlir::DictionaryAttr toAttr(mlir::MLIRContext *context) const;
  static std::optional<BootstrapConfig> of(mlir::Operation *module);
};

} // namespace cerium::ckks

#endif // CERIUM_DIALECT_CKKS_TRANSFORMS_BOOTSTRAP_H
