//===- ExpandBootstrap.cpp - The bootstrap as ordinary ckks ops -----------===//
//
// bootstrap(x) for x with n slots, q_0 the base modulus and K the overflow
// bound (docs/bootstrapping.md has the derivation):
//
//  1. level_down to 0 and mod_raise to level L = target + depth (no higher:
//     every op after it then runs on as few primes as the result's level
//     allows): the ciphertext now decrypts to t = m + q_0 I, |I| <= K.
//  2. For n < N/2, the trace over X -> X^(5^(n 2^j)) keeps the subring part
//     of t (times N/2n), which is what the n slots see.
//  3. CoeffToSlot: w = t's coefficients (pairs as complex slots, scaled by
//     1 / (2 q_0 K')), then re = w + conj(w), im = -i (w - conj(w)), taken
//     before the last factor's rescale.
//  4. EvalMod on each: a Chebyshev series of
//     cos(2 pi (K' a - 1/4 + 2^(r-2)) / 2^r), r double angles (giving
//     sin(2 pi (I + m / q_0))), and the arcsine's first correction
//     s + c_3 s^3 ~ 2 pi m / q_0 (c_3 ~ 1/6, minimax on the range of s).
//  5. re + i im, SlotToCoeff scaled by q_0 / (2 pi Delta_0): the slots of m.
//
// With full slots (n = N/2) SlotToCoeff comes first instead (Chen and Han's
// order, BootstrapConfig::slotsToCoeffsFirst): on x at level s (its s
// levels) it makes the slots z the coefficients (re z, im z) Delta_0 of a
// level-0 ciphertext; steps 1-4 follow, EvalMod's last step carries q_0 /
// (2 pi Delta_0), and re + i im is the result: CoeffToSlot undoes that
// SlotToCoeff, so no transform follows EvalMod. Its transforms run on s + 1
// primes instead of the result's, and each slot's error is EvalMod's on its
// own two parts rather than a sum over n slots.
//
// With iterations = 2 (meta-bootstrapping), the steps run again on the
// first result's error d = x - y at the input's level, times 2^k (exactly,
// by an integer), with 2^-k in the output's constant, and the two are
// added.
//
// Every step is built from existing ckks ops (plus mod_raise), so the rest
// of the pipeline lowers, fuses, plans and runs it on every backend.
//
//===----------------------------------------------------------------------===//

#include "cerium/CKKS/HomomorphicDft.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/IR/CKKSEmitter.h"
#include "cerium/Dialect/CKKS/Transforms/Bootstrap.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <bit>
#include <cmath>
#include <numbers>
#include <set>

using namespace mlir;

namespace cerium::ckks {

double boundOf(Value v) {
  for (;;) {
    Operation *def = v.getDefiningOp();
    if (!def) {
      auto arg = cast<BlockArgument>(v);
      auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
      auto b =
          fn ? fn.getArgAttrOfType<FloatAttr>(arg.getArgNumber(), kBoundAttr)
             : FloatAttr();
      return b ? std::max(1.0, b.getValueAsDouble()) : 1.0;
    }
    if (auto b = def->getAttrOfType<FloatAttr>(kBoundAttr))
      return std::max(1.0, b.getValueAsDouble());
    if (!isa<RescaleOp, RelinearizeOp, LevelDownOp, BootstrapOp, RotateOp,
             ConjugateOp>(def))
      return 1.0;
    v = def->getOperand(0);
  }
}

bool BootstrapConfig::servesAt(double bound, unsigned bits,
                               double precision) const {
  // Past m / q_0 = 1/16 the sine's series is no model of its error (and
  // wraps long before 1/2).
  const double eps = bound * std::ldexp(1.0, -8 - int(bits));
  if (eps > 1.0 / 16)
    return false;
  const double sMax = std::sin(2 * std::numbers::pi * eps);
  return 2 * bound * (arcsine ? arcsineError(sMax) : sineError(sMax)) <=
         precision / 8;
}

void BootstrapConfig::widenBaseFor(double precision) {
  const unsigned most =
      valueBound > 1 ? unsigned(std::ceil(std::log2(valueBound))) : 0;
  widerBase = 0;
  while (widerBase < most && !servesAt(valueBound, widerBase, precision))
    ++widerBase;
}

void BootstrapConfig::setNominalBound(double precision) {
  // The error grows with the bound: bisection over [1, 16].
  double lo = 1, hi = 16;
  if (servesAt(hi, 0, precision)) {
    nominalBound = hi;
    return;
  }
  for (int i = 0; i < 40; ++i) {
    const double mid = (lo + hi) / 2;
    (servesAt(mid, 0, precision) ? lo : hi) = mid;
  }
  nominalBound = lo;
}

unsigned BootstrapConfig::depth() const {
  // The series takes ceil(log2(d + 1)) levels (approx::planSeries).
  return coeffsToSlotsLevels + unsigned(std::bit_width(chebyshevDegree)) +
         doubleAngles + (arcsine ? 2 : 0) + slotsToCoeffsLevels;
}

double BootstrapConfig::sineError(double sMax) {
  const double x = std::asin(sMax);
  return x == 0 ? 0 : 1 - sMax / x;
}

void BootstrapConfig::forPrecision(double precision) {
  arcsine = precision < 64 * sineError(std::sin(2 * std::numbers::pi / 256));
}

double BootstrapConfig::arcsineCubic(double sMax) {
  return 1.0 / 6 + 2 * (std::numbers::sqrt2 - 1) * (3.0 / 40) * sMax * sMax;
}

double BootstrapConfig::arcsineError(double sMax) {
  // The error equioscillates on [0, sMax]: its size at the end is its
  // maximum.
  const double c3 = arcsineCubic(sMax), exact = std::asin(sMax);
  return exact == 0 ? 0
                    : std::fabs(sMax + c3 * sMax * sMax * sMax - exact) / exact;
}

BootstrapErrors BootstrapConfig::errorBounds(const RnsLayout &layout,
                                             int64_t slots) const {
  const double q0 = layout.baseModulus();
  const double scale = layout.scales[0], ring = double(layout.degree());
  // Noise: CoeffToSlot's rounding (a few rescales, each ~sqrt(N h / 12)
  // per slot, ~N for the dense secret's h ~ 2N/3) against a signal that
  // enters it 2 q_0 K' / Delta_0 below the scale; SlotToCoeff sums n slots
  // into each (sqrt(n)) and the trace of sparse slots gains sqrt(N / 2n):
  // sqrt(2N) n K' (q_0 / Delta_0) / Delta_0 times 2^c. Measured worst
  // cases over uniform slots give c = 1.5-1.8 at N = 2^12 (n = 2^8, 2^11),
  // 2^13 (2^12) and 2^16 (2^15); c = 2.5 bounds them with room for the
  // tail that more runs reach (2^2.5 sqrt(2N) = 8 sqrt(N)).
  //
  // With SlotToCoeff first, EvalMod's output is the slots themselves: no
  // sum over n slots after it, and the measured worst cases (uniform slots,
  // all-zero slots for the noise alone: 2^-30.8 at N = 2^12 with n = 2^11,
  // 2^-27.2 at 2^16 with 2^15) lie 2^1.2 and 2^1.8 below
  // 64 sqrt(N n) K' (q_0 / Delta_0) / Delta_0, their heavy tail (the double
  // angles' amplification near the flat points of the sine) included.
  const double sum = slotsToCoeffsFirst ? 64 * std::sqrt(ring * double(slots))
                                        : 8 * std::sqrt(ring) * double(slots);
  const double noise = sum * double(overflowBound + 1) * (q0 / scale) / scale;
  // Approximation: the arcsine correction's relative error at the largest
  // coefficient a slot vector in [-1, 1] can have (Delta_0: all ones),
  // twice for the rest of the coefficients, which are smaller and whose
  // errors shrink as the fifth power. With SlotToCoeff first every
  // coefficient is a slot's real or imaginary part, so any may sit at the
  // bound; each slot then errs by its own two alone (measured: all-ones
  // slots 2^-27.4 at N = 2^12 against the bound's 2^-26.7).
  const double sMax = std::sin(2 * std::numbers::pi * valueBound * scale / q0);
  const double approximation =
      2 * valueBound * (arcsine ? arcsineError(sMax) : sineError(sMax));
  BootstrapErrors bounds;
  bounds.once = noise + approximation;
  // 2^shift d within valueBound [-1/4, 1/4]: the second iteration's input
  // then stays well inside the range its own bound holds for.
  const double bits = std::floor(std::log2(valueBound / bounds.once));
  bounds.shift = bits > 2 ? unsigned(bits) - 2 : 0;
  // The second refresh errs `once` on its input, 2^-shift on the output.
  // What stays is the noise no shift divides: the input's own at level 0
  // (a fresh encryption's is the largest, ~sqrt(N h) sigma per slot), the
  // rounding of y's level_down to 0 and of the second SlotToCoeff's last
  // rescale (~N / 4 Delta_0 each). Measured worst cases of two iterations
  // on fresh inputs, 2^-43.1 at N = 2^12 and 2^-42.1 at 2^13, are ~15 N /
  // Delta_0; 32 N / Delta_0 bounds them.
  // The second SlotToCoeff's last rounding comes before the mul_int by
  // outerFactor, which no shift divides.
  bounds.twice = std::ldexp(bounds.once, -int(bounds.shift)) +
                 32 * ring / scale * double(outerFactor());
  return bounds;
}

BootstrapConfig BootstrapConfig::forHammingWeight(unsigned h,
                                                  bool encapsulate) {
  BootstrapConfig c;
  c.encapsulate = encapsulate;
  c.overflowBound = unsigned(std::ceil(8 * std::sqrt((double(h) + 1) / 12.0)));
  // The cosine's argument spans 2 pi (K + 1) / 2^r: keep it within ~1.6
  // turns so that degree 31 stays below 2^-45.
  c.doubleAngles = 2;
  while (double(c.overflowBound + 1) / double(1u << c.doubleAngles) > 1.6)
    ++c.doubleAngles;
  // The least degree whose interpolant of cos(a y + phase) on [-1, 1], a =
  // 2 pi K' / 2^r, errs below 2^-42 at the Chebyshev nodes (2 (a/2)^(d+1) /
  // (d+1)!), which the double angles' amplification (16-36) keeps below
  // the noise: 24 for K = 14 and r = 4 (31, sized for the widest span the
  // rule above allows, took 6 more products over both parts; measured at
  // N = 2^16 the same bits, and degree 19 5 bits fewer).
  const double halfSpan = std::numbers::pi * double(c.overflowBound + 1) /
                          double(1u << c.doubleAngles);
  auto log2Error = [&](unsigned d) {
    return 1 + double(d + 1) * std::log2(halfSpan) -
           std::lgamma(double(d) + 2) / std::numbers::ln2;
  };
  c.chebyshevDegree = 7;
  while (log2Error(c.chebyshevDegree) > -42)
    ++c.chebyshevDegree;
  return c;
}

DictionaryAttr BootstrapConfig::toAttr(MLIRContext *context) const {
  Builder b(context);
  SmallVector<NamedAttribute> attrs({
      b.getNamedAttr("coeffs_to_slots",
                     b.getI64IntegerAttr(coeffsToSlotsLevels)),
      b.getNamedAttr("slots_to_coeffs",
                     b.getI64IntegerAttr(slotsToCoeffsLevels)),
      b.getNamedAttr("degree", b.getI64IntegerAttr(chebyshevDegree)),
      b.getNamedAttr("double_angles", b.getI64IntegerAttr(doubleAngles)),
      b.getNamedAttr("overflow", b.getI64IntegerAttr(overflowBound)),
      b.getNamedAttr("encapsulate", b.getBoolAttr(encapsulate)),
      b.getNamedAttr("arcsine", b.getBoolAttr(arcsine)),
  });
  if (slotsToCoeffsFirst)
    attrs.push_back(b.getNamedAttr("stc_first", b.getUnitAttr()));
  if (valueBound > 1)
    attrs.push_back(
        b.getNamedAttr("value_bound", b.getF64FloatAttr(valueBound)));
  if (widerBase)
    attrs.push_back(
        b.getNamedAttr("wider_base", b.getI64IntegerAttr(widerBase)));
  if (nominalBound > 1)
    attrs.push_back(
        b.getNamedAttr("nominal_bound", b.getF64FloatAttr(nominalBound)));
  return b.getDictionaryAttr(attrs);
}

std::optional<BootstrapConfig> BootstrapConfig::of(Operation *op) {
  auto module =
      isa<ModuleOp>(op) ? cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  if (!module)
    return std::nullopt;
  auto dict = module->getAttrOfType<DictionaryAttr>(kAttrName);
  if (!dict)
    return std::nullopt;
  BootstrapConfig c;
  auto read = [&](StringRef name, unsigned &field, unsigned lo, unsigned hi) {
    auto v = dict.getAs<IntegerAttr>(name);
    if (!v || v.getInt() < lo || v.getInt() > hi)
      return false;
    field = unsigned(v.getInt());
    return true;
  };
  if (!read("coeffs_to_slots", c.coeffsToSlotsLevels, 1, 16) ||
      !read("slots_to_coeffs", c.slotsToCoeffsLevels, 1, 16) ||
      !read("degree", c.chebyshevDegree, 1, 1023) ||
      !read("double_angles", c.doubleAngles, 0, 16) ||
      !read("overflow", c.overflowBound, 1, 1 << 16))
    return std::nullopt;
  if (auto e = dict.getAs<BoolAttr>("encapsulate")) // absent: false
    c.encapsulate = e.getValue();
  if (auto a = dict.getAs<BoolAttr>("arcsine")) // absent: true
    c.arcsine = a.getValue();
  c.slotsToCoeffsFirst = bool(dict.get("stc_first"));
  if (auto v = dict.getAs<FloatAttr>("value_bound")) { // absent: 1
    c.valueBound = v.getValueAsDouble();
    if (!(c.valueBound >= 1 && c.valueBound < 0x1p60))
      return std::nullopt;
  }
  if (dict.get("wider_base") && !read("wider_base", c.widerBase, 1, 60))
    return std::nullopt;
  if (auto v = dict.getAs<FloatAttr>("nominal_bound")) { // absent: 1
    c.nominalBound = v.getValueAsDouble();
    if (!(c.nominalBound >= 1 && c.nominalBound <= 16))
      return std::nullopt;
  }
  return c;
}

namespace {

using Complex = std::complex<double>;

class Expansion {
public:
  Expansion(OpBuilder &b, const RnsLayout &layout,
            const BootstrapConfig &config, int64_t slots)
      : e(b, slots), layout(layout), config(config), n(slots),
        q0(layout.baseModulus()) {}

  /// The expansion of `op`, or null after a diagnostic.
  Value expand(BootstrapOp op) {
    // Named (both keep the source line).
    e.loc = NameLoc::get(e.b.getStringAttr(BootstrapConfig::kLocationName),
                         op.getLoc());
    const size_t degree = layout.degree();
    if (n < 1 || size_t(n) > degree / 2 || (n & (n - 1)))
      return fail(op, "slot count is not a power of two up to N/2");
    if (config.slotsToCoeffsFirst && size_t(n) != degree / 2)
      return fail(op, "SlotToCoeff first needs all N/2 slots");
    unsigned logSlots = 0;
    while ((int64_t(1) << logSlots) < n)
      ++logSlots;
    const unsigned ctsLevels =
        std::min(config.coeffsToSlotsLevels, std::max(logSlots, 1u));
    const unsigned stcLevels =
        std::min(config.slotsToCoeffsLevels, std::max(logSlots, 1u));
    const unsigned target = Emitter::levelOf(op.getResult());
    // SlotToCoeff first takes the input at its levels (and the first of two
    // iterations' result there, to take the difference).
    const unsigned inputLevel = config.slotsToCoeffsFirst ? stcLevels : 0;
    const bool twice = op.getIterations().value_or(1) != 1;
    const unsigned first = twice ? std::max(target, inputLevel) : target;
    // Builders abort on ops whose types do not infer: check the chain
    // first (raisedDepth() bounds what the expansion below raises to).
    if (first + config.raisedDepth() > layout.maxLevel())
      return fail(op, "needs " + std::to_string(config.raisedDepth()) +
                          " levels above level " + std::to_string(first) +
                          ", the chain has " +
                          std::to_string(layout.maxLevel()));
    if (Emitter::levelOf(op.getInput()) < inputLevel)
      return fail(op, "takes its input at level " + std::to_string(inputLevel) +
                          " or above (SlotToCoeff comes first)");
    // The factors, first (a hand-written config may ask for a factor too
    // dense to build: one error on the op).
    std::vector<SlotMatrix> cts, stc;
    try {
      cts = coeffsToSlotsFactors(logSlots, ctsLevels, 1.0);
      stc = slotsToCoeffsFactors(logSlots, stcLevels, 1.0);
    } catch (const std::exception &ex) {
      return fail(op, ex.what());
    }
    Value x = e.levelDown(op.getInput(), inputLevel);
    Value y = refresh(op, x, first, cts, stc, 1.0);
    if (!y || !twice)
      return y;
    // Meta-bootstrapping: d = x - y at the input's level is the first
    // iteration's error (both at one scale, so the difference is exact but
    // for the rounding of y's level_down). It is small enough to be
    // multiplied by 2^k exactly (an integer, no rescale) and still sit well
    // inside the bootstrap's range; the second refresh then errs 2^k times
    // less relative to d, and 2^-k rides on its output constant at no level.
    const unsigned shift = config.errorBounds(layout, n).shift;
    Value d = e.sub(x, e.levelDown(y, inputLevel));
    d = e.mulInt(d, int64_t(1) << shift);
    Value correction =
        refresh(op, d, target, cts, stc, std::ldexp(1.0, -int(shift)));
    return correction ? e.add(e.levelDown(y, target), correction) : Value();
  }

  /// One refresh of `x` (at the input level) to `target`, its result times
  /// `gain` (folded into the output's constant), or null after a
  /// diagnostic.
  Value refresh(BootstrapOp op, Value x, unsigned target,
                std::vector<SlotMatrix> cts, std::vector<SlotMatrix> stc,
                double gain) {
    const size_t degree = layout.degree();
    // SlotToCoeff first: the slots z become the coefficients (re z, im z)
    // Delta_0 of a level-0 ciphertext (CoeffToSlot undoes exactly this map,
    // so the slots come back in their order).
    const bool slim = config.slotsToCoeffsFirst;
    if (slim)
      for (const SlotMatrix &m : stc)
        x = RescaleOp::create(e.b, e.loc, apply(x, m));
    // Raised no higher than the expansion consumes: a bootstrap whose
    // result needs few levels runs on few primes.
    const unsigned top = target + config.raisedDepth();
    if (config.encapsulate)
      x = SwitchSecretOp::create(e.b, e.loc, x, SecretSwitch::ToSparse);
    x = ModRaiseOp::create(e.b, e.loc,
                           CiphertextType::get(e.b.getContext(), top, 1, 2), x);
    if (config.encapsulate)
      x = SwitchSecretOp::create(e.b, e.loc, x, SecretSwitch::ToDense);
    // The trace onto the subring that the n slots see.
    const int64_t copies = int64_t(degree / 2) / n;
    for (int64_t step = n; step < int64_t(degree / 2); step *= 2)
      x = e.add(x,
                RotateOp::create(e.b, e.loc, x, e.b.getI64IntegerAttr(step)));

    // CoeffToSlot, then the real and imaginary parts as real slots. The
    // slots are decode(t) / Delta_L (mod_raise's label): scale them to
    // w / (2 q_0 K').
    const double bound = double(config.overflowBound) + 1;
    const double ctsScale =
        layout.scales[top] / (double(copies) * 2 * q0 * bound);
    // The parts are split before the last factor's rescale: the
    // conjugation's key-switching noise is then divided by that level's
    // primes with the rest, and one conjugation serves both parts.
    Value w = x;
    cts = balanced(std::move(cts), ctsScale);
    for (size_t i = 0; i + 1 < cts.size(); ++i)
      w = RescaleOp::create(e.b, e.loc, apply(w, cts[i]));
    // The output's constant: EvalMod leaves 2 pi m / q_0 per coefficient.
    // For values past [-1, 1] the base lies widerBase bits higher, which
    // would make the constant too large to encode at the scale: that power
    // of two is an exact integer product after it.
    const int64_t outer = config.outerFactor();
    const double outScale =
        gain * q0 / (2 * std::numbers::pi * layout.scales[0] * double(outer));
    Value mixed;
    if (copies >= 2) {
      // Room for 2n slots: the parts share one ciphertext, [re, im] with
      // period 2n, and EvalMod runs once. The last CoeffToSlot factor
      // comes out times [1, -i] (its diagonals of period 2n), so that
      // u + conj(u) is re on the first n slots of each 2n and im on the
      // others; SlotToCoeff's first factor reads re + i im back from both
      // halves (its diagonals of period 2n too). No level is added.
      Value unscaled = apply(w, splitParts(cts.back()));
      Value parts =
          RescaleOp::create(e.b, e.loc, e.add(unscaled, e.conjugate(unscaled)));
      mixed = evalMod(parts, bound);
      stc = balanced(std::move(stc), outScale);
      stc.front() = joinParts(stc.front());
    } else {
      // Full slots: each part through an EvalMod of its own. With
      // SlotToCoeff first, EvalMod gives them back times outScale (folded
      // into its constants) and re + i im is the result, no transform
      // after it.
      const double evalGain = slim ? outScale : 1.0;
      Value unscaled = apply(w, cts.back());
      Value wBar = e.conjugate(unscaled);
      Value re = RescaleOp::create(e.b, e.loc, e.add(unscaled, wBar));
      Value im = RescaleOp::create(e.b, e.loc,
                                   mulImaginaryUnit(e.sub(unscaled, wBar), -1));
      // In this order on every compiler (IR text is compared in tests).
      Value reMod = evalMod(re, bound, evalGain);
      Value imMod = mulImaginaryUnit(evalMod(im, bound, evalGain), 1);
      mixed = e.add(reMod, imMod);
      if (slim)
        stc.clear();
      else
        stc = balanced(std::move(stc), outScale);
    }

    Value z = mixed;
    for (const SlotMatrix &m : stc)
      z = RescaleOp::create(e.b, e.loc, apply(z, m));
    if (outer > 1)
      z = e.mulInt(z, outer);
    if (Emitter::levelOf(z) < target)
      return fail(op, "needs " + std::to_string(target - Emitter::levelOf(z)) +
                          " more levels than the chain has above level " +
                          std::to_string(target));
    return e.levelDown(z, target);
  }

private:
  Value fail(Operation *op, const std::string &what) {
    op->emitOpError(what);
    return {};
  }

  /// The factors with `scale` spread evenly over them (each diagonal is
  /// encoded at the same scale, so no factor's entries get tiny).
  static std::vector<SlotMatrix> balanced(std::vector<SlotMatrix> factors,
                                          double scale) {
    const double each = std::pow(scale, 1.0 / double(factors.size()));
    for (SlotMatrix &m : factors)
      for (auto &[offset, diag] : m.diagonals)
        for (Complex &v : diag)
          v *= each;
    return factors;
  }

  /// m over n slots as a map over 2n slots (its input n-periodic) whose
  /// output is times [1, -i] (period 2n): y_j = mu_j sum_r d_r[j] x_(j+r).
  /// An offset past n/2 moves to r + n, which is r - n over 2n slots: the
  /// same rotation of the n-periodic input, signed as before (+h and -h
  /// share baby steps).
  SlotMatrix splitParts(const SlotMatrix &m) const {
    SlotMatrix out;
    out.slots = size_t(2 * n);
    for (const auto &[offset, d] : m.diagonals) {
      const int64_t r = offset > n / 2 ? offset + n : offset;
      std::vector<Complex> wide(out.slots);
      for (size_t j = 0; j < out.slots; ++j)
        wide[j] = d[j % size_t(n)] *
                  (int64_t(j) < n ? Complex(1, 0) : Complex(0, -1));
      out.diagonals.emplace(r, std::move(wide));
    }
    return out;
  }

  /// m over n slots applied to a_j = v_j + i v_(j+n) (a n-periodic): reads
  /// [re, im] (period 2n) as a = re + i im. With alpha = [1, i] and beta =
  /// [i, 1] (period 2n), a = alpha v + beta rot(v, n) on all 2n slots, so
  /// diagonal r becomes d_r rot(alpha, r) at r and d_r rot(beta, r) at r + n.
  SlotMatrix joinParts(const SlotMatrix &m) const {
    SlotMatrix out;
    out.slots = size_t(2 * n);
    const size_t wide = out.slots;
    auto alpha = [&](size_t j) {
      return j % wide < size_t(n) ? Complex(1, 0) : Complex(0, 1);
    };
    auto beta = [&](size_t j) {
      return j % wide < size_t(n) ? Complex(0, 1) : Complex(1, 0);
    };
    for (const auto &[r, d] : m.diagonals) {
      std::vector<Complex> same(wide), across(wide);
      for (size_t j = 0; j < wide; ++j) {
        const Complex dj = d[j % size_t(n)];
        same[j] = dj * alpha(j + size_t(r));
        across[j] = dj * beta(j + size_t(r));
      }
      out.diagonals.emplace(r, std::move(same));
      out.diagonals.emplace(r + n, std::move(across));
    }
    return out;
  }

  /// x rotated by `amount` slots of a vector of period `period` (the
  /// program's n, or 2n, whose rotations by n and more are rotations of
  /// the ring's slots that n-slot arithmetic would reduce away).
  Value rotate(Value x, int64_t amount, int64_t period) {
    amount = ((amount % period) + period) % period;
    if (period == n || amount == 0)
      return e.rotate(x, amount);
    return RotateOp::create(e.b, e.loc, x, e.b.getI64IntegerAttr(amount));
  }

  /// x * (sign i) in every slot: the exact monomial X^(N/2) (times sign),
  /// a degree-0 plaintext, so no level is used.
  Value mulImaginaryUnit(Value x, double sign) {
    OpBuilder &b = e.b;
    Value unit = EncodeOp::create(
        b, e.loc, PlaintextType::get(b.getContext(), Emitter::levelOf(x), 0),
        b.getDenseF64ArrayAttr({0.0, sign}), IntegerAttr(),
        b.getI64IntegerAttr(n), b.getUnitAttr(), IntegerAttr());
    return MulPlainOp::create(b, e.loc, x, unit);
  }

  /// y = sum_r diag_r ⊙ rot(x, r) by baby steps b and giant steps g
  /// (r = g + b, signed offsets so that -h and +h share steps): rotations
  /// of x are hoisted (one ModUp), each giant step rotates one sum of
  /// products. The result is not rescaled yet (the caller ends the factor
  /// with one rescale).
  Value apply(Value x, const SlotMatrix &m) {
    const int64_t period = int64_t(m.slots);
    std::vector<std::pair<int64_t, const std::vector<Complex> *>> diags;
    for (const auto &[r, d] : m.diagonals)
      diags.push_back({r > period / 2 ? r - period : r, &d});
    // The baby-step width with the least key-switching work: a baby step
    // is a hoisted rotation (the input's ModUp is shared: a product and a
    // ModDown), a giant step a whole key switch (a ModUp of its own sum, then
    // the product; the giant steps' ModDowns are merged), about twice the
    // work. Against counting rotations alone, at N = 2^16 with full slots
    // this keeps the keys (39 rotations) and moves work from giant to baby
    // steps: 0.1-0.2 s of a 3.3 s bootstrap.
    constexpr size_t kGiantStepCost = 2;
    int64_t bestWidth = 1;
    size_t bestCost = SIZE_MAX;
    // Giant steps as rotations modulo the period: g and g - period are the
    // same rotation, so their sums share it.
    auto giantOf = [&](int64_t r, int64_t baby) {
      return (((r - baby) % period) + period) % period;
    };
    for (int64_t width = 1; width <= period; width *= 2) {
      std::set<int64_t> babies, giants;
      for (auto &[r, d] : diags) {
        int64_t baby = ((r % width) + width) % width;
        babies.insert(baby);
        giants.insert(giantOf(r, baby));
      }
      size_t cost = (babies.size() - babies.count(0)) +
                    kGiantStepCost * (giants.size() - giants.count(0));
      if (cost < bestCost) {
        bestCost = cost;
        bestWidth = width;
      }
    }
    std::map<int64_t,
             std::vector<std::pair<int64_t, const std::vector<Complex> *>>>
        byGiant;
    for (auto &[r, d] : diags) {
      int64_t baby = ((r % bestWidth) + bestWidth) % bestWidth;
      byGiant[giantOf(r, baby)].push_back({baby, d});
    }
    // Baby steps, then every diagonal, then every giant step's sum, then
    // the giant rotations: the sums are adjacent and read the same baby
    // steps, so they fuse into one kernel that reads each baby step once
    // (rns-fuse-elementwise) instead of once per giant step.
    std::map<int64_t, Value> babySteps;
    for (auto &[giant, terms] : byGiant)
      for (auto &[baby, diag] : terms)
        if (!babySteps.count(baby))
          babySteps[baby] = rotate(x, baby, period);
    const unsigned level = Emitter::levelOf(x);
    std::vector<std::vector<Value>> plaintexts;
    for (auto &[giant, terms] : byGiant) {
      plaintexts.emplace_back();
      for (auto &[baby, diag] : terms) {
        // Pre-rotated right by the giant step: rot(d' ⊙ rot(x, b), g)
        // = d ⊙ rot(x, g + b) for d'[j] = d[j - g].
        std::vector<Complex> shifted(static_cast<size_t>(period));
        for (int64_t j = 0; j < period; ++j)
          shifted[size_t(j)] =
              (*diag)[size_t((((j - giant) % period) + period) % period)];
        plaintexts.back().push_back(e.encode(shifted, level));
      }
    }
    std::vector<std::pair<int64_t, Value>> sums;
    for (auto [giantTerms, encoded] : llvm::zip(byGiant, plaintexts)) {
      Value inner;
      for (auto [term, plain] : llvm::zip(giantTerms.second, encoded)) {
        Value product =
            MulPlainOp::create(e.b, e.loc, babySteps.at(term.first), plain);
        inner = inner ? e.add(inner, product) : product;
      }
      sums.push_back({giantTerms.first, inner});
    }
    Value acc;
    for (auto &[giant, inner] : sums) {
      Value part = rotate(inner, giant, period);
      acc = acc ? e.add(acc, part) : part;
    }
    return acc;
  }

  /// a ~ (I + eps) / K' in [-1, 1] -> ~ 2 pi eps.
  ///
  /// The series approximates cos(theta), theta = 2 pi (K' a - 1/4 + j) /
  /// 2^r; after r double angles any whole j gives cos(2 pi (I + eps) -
  /// pi / 2) = sin(2 pi (I + eps)). The double angles multiply an error in
  /// cos(theta) by 2^r sin(2^r theta) / sin(theta), which is large where
  /// theta is near a multiple of pi. j = 2^(r-2) puts the most frequent
  /// overflow, I = 0, at theta ~ pi / 2 (a quarter of the way round) and the
  /// flat points at |I| ~ 2^(r-2), which a sum of h + 1 uniform terms rarely
  /// reaches: with r = 4 the rms amplification over I's distribution is
  /// ~36 instead of ~86 for j = 0 (2.2 bits of precision at N = 2^12 and
  /// 2^16, docs/bootstrapping.md).
  ///
  /// The result comes times `gain` at no level. With the arcsine step,
  /// that step takes it whole: gain s + (s s)(gain c_3 s), gain s beside
  /// the square. Spread over the steps before it, a second iteration's
  /// small gain (2^-k) would shrink the values there below the rescales'
  /// rounding, which the cubic term's large constant then amplifies
  /// (2^-40 at N = 2^12, measured). Without it: the series gives lambda_0
  /// cos(theta), lambda_0 = gain^(1/2^r), and each double angle
  /// 2 c^2 - lambda_(i+1) with lambda_(i+1) = lambda_i^2 keeps c =
  /// lambda_i cos(2^i theta).
  Value evalMod(Value a, double bound, double gain = 1) {
    const unsigned d = config.chebyshevDegree, r = config.doubleAngles;
    double lambda =
        config.arcsine ? 1.0 : std::pow(gain, std::ldexp(1.0, -int(r)));
    const double turns = 1.0 / double(1u << r);
    const double shift = r >= 2 ? double(1u << (r - 2)) : 0.0;
    auto g = [&](double y) {
      return std::cos(2 * std::numbers::pi * (bound * y - 0.25 + shift) *
                      turns);
    };
    // Interpolation at the Chebyshev nodes.
    std::vector<double> coeffs(d + 1, 0.0);
    for (unsigned k = 0; k <= d; ++k) {
      double sum = 0;
      for (unsigned j = 0; j <= d; ++j) {
        double theta = std::numbers::pi * (j + 0.5) / double(d + 1);
        sum += g(std::cos(theta)) * std::cos(k * theta);
      }
      coeffs[k] = sum * 2 / double(d + 1);
    }
    coeffs[0] /= 2;
    for (double &c : coeffs)
      c *= lambda;
    Value c = e.chebyshevSeries(a, coeffs, -1, 1, n);
    for (unsigned i = 0; i < r; ++i) {
      Value sq = e.mul(c, c);
      lambda *= lambda;
      c = e.addConst(e.add(sq, sq), -lambda, n);
    }
    // arcsin(s) ~ s + c_3 s^3, c_3 taken before the last product. The
    // Taylor c_3 = 1/6 leaves a relative error 3 s^4 / 40, largest for a
    // coefficient at the bound (eps = Delta_0 / q_0, e.g. slots all 1) and
    // the same sign every time, so bootstraps in a row add it up. c_3 =
    // 1/6 + 2 (sqrt 2 - 1) (3/40) S^2, S = sin(2 pi Delta_0 / q_0), makes
    // the error equioscillate on [0, S] (the best line through 0 for
    // arcsin(s)/s - 1 as a function of s^2): 5.8 times smaller at the bound,
    // and still ~2^-40 for the small coefficients of typical slots.
    if (!config.arcsine)
      return c;
    const double c3 = BootstrapConfig::arcsineCubic(std::sin(
        2 * std::numbers::pi * config.valueBound * layout.scales[0] / q0));
    Value cube = e.mul(e.mul(c, c), e.mulConst(c, gain * c3));
    return e.add(gain == 1 ? c : e.mulConst(c, gain), cube);
  }

  Emitter e;
  const RnsLayout &layout;
  const BootstrapConfig &config;
  const int64_t n;
  const double q0;
};

class ExpandBootstrapPass
    : public PassWrapper<ExpandBootstrapPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ExpandBootstrapPass)

  StringRef getArgument() const final { return "ckks-expand-bootstrap"; }
  StringRef getDescription() const final {
    return "Expand ckks.bootstrap into ModRaise, CoeffToSlot, EvalMod and "
           "SlotToCoeff";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<BootstrapOp> ops;
    module.walk([&](BootstrapOp op) { ops.push_back(op); });
    if (ops.empty())
      return;
    auto layout = RnsLayout::of(module);
    auto config = BootstrapConfig::of(module);
    auto slots = module->getAttrOfType<IntegerAttr>("ckks.slots");
    if (!layout || !config || !slots) {
      module.emitError("ckks-expand-bootstrap needs the module attributes "
                       "ckks.rns, ckks.bootstrap and ckks.slots");
      return signalPassFailure();
    }
    for (BootstrapOp op : ops) {
      OpBuilder b(op);
      Expansion expansion(b, *layout, *config, slots.getInt());
      Value result = expansion.expand(op);
      if (!result)
        return signalPassFailure();
      op.getResult().replaceAllUsesWith(result);
      op.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createExpandBootstrapPass() {
  return std::make_unique<ExpandBootstrapPass>();
}

void registerExpandBootstrapPass() { PassRegistration<ExpandBootstrapPass>(); }

} // namespace cerium::ckks
