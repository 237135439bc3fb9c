//===- CKKSEmitter.cpp - ckks emission with managed levels ----------------===//

#include "cerium/Dialect/CKKS/IR/CKKSEmitter.h"
#include "cerium/Approx/SeriesPlan.h"
#include "cerium/Dialect/SlotValues.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

using namespace mlir;

namespace cerium::ckks {

Value Emitter::levelDown(Value v, unsigned level) {
  if (levelOf(v) == level)
    return v;
  return LevelDownOp::create(b, loc, v, b.getI32IntegerAttr(level));
}

void Emitter::align(Value &x, Value &y) {
  unsigned l = std::min(levelOf(x), levelOf(y));
  x = levelDown(x, l);
  y = levelDown(y, l);
}

Value Emitter::add(Value x, Value y) {
  align(x, y);
  return AddOp::create(b, loc, x, y);
}

Value Emitter::sub(Value x, Value y) {
  align(x, y);
  return SubOp::create(b, loc, x, y);
}

Value Emitter::negate(Value x) { return NegateOp::create(b, loc, x); }

Value Emitter::mul(Value x, Value y) {
  align(x, y);
  Value p = MulOp::create(b, loc, x, y);
  return RescaleOp::create(b, loc, RelinearizeOp::create(b, loc, p));
}

/// Built compact (SlotValues.h): the pre-rotated diagonals of a linear
/// are leading zeros and one row of f32 weights, which is what the
/// artifact then stores instead of every slot as a double.
Value Emitter::encode(ArrayRef<double> values, unsigned level) {
  CompactSlotValues c = compactSlotValues(b, values);
  return EncodeOp::create(b, loc, PlaintextType::get(b.getContext(), level, 1),
                          c.values, c.offset, c.count, UnitAttr(),
                          runtimeInput ? b.getI64IntegerAttr(*runtimeInput)
                                       : IntegerAttr());
}

/// Complex values are stored as they are (the DFT's diagonals do not
/// repeat), as (real, imaginary) pairs.
Value Emitter::encode(ArrayRef<std::complex<double>> values, unsigned level) {
  std::vector<double> pairs;
  pairs.reserve(2 * values.size());
  for (std::complex<double> v : values) {
    pairs.push_back(v.real());
    pairs.push_back(v.imag());
  }
  return EncodeOp::create(b, loc, PlaintextType::get(b.getContext(), level, 1),
                          b.getDenseF64ArrayAttr(pairs), IntegerAttr(),
                          IntegerAttr(), b.getUnitAttr(), IntegerAttr());
}

Value Emitter::mulPlain(Value x, ArrayRef<double> values) {
  Value pt = encode(values, levelOf(x));
  return RescaleOp::create(b, loc, MulPlainOp::create(b, loc, x, pt));
}

Value Emitter::mulConst(Value x, double c) {
  return RescaleOp::create(b, loc,
                           MulConstOp::create(b, loc, x, b.getF64FloatAttr(c)));
}

Value Emitter::mulInt(Value x, int64_t k) {
  return MulIntOp::create(b, loc, x, b.getI64IntegerAttr(k));
}

Value Emitter::mulValues(Value x, ArrayRef<double> values, int64_t n) {
  if (!runtimeInput && int64_t(values.size()) == n &&
      std::all_of(values.begin(), values.end(),
                  [&](double v) { return v == values[0]; }))
    return mulConst(x, values[0]);
  return mulPlain(x, values);
}

Value Emitter::addPlain(Value x, ArrayRef<double> values) {
  return AddPlainOp::create(b, loc, x, encode(values, levelOf(x)));
}

Value Emitter::addConst(Value x, double c, int64_t n, ArrayRef<double> mask) {
  if (mask.empty())
    return addPlain(x, std::vector<double>(size_t(n), c));
  std::vector<double> atElements(mask.begin(), mask.end());
  for (double &m : atElements)
    m *= c;
  return addPlain(x, atElements);
}

Value Emitter::rotate(Value x, int64_t steps) {
  steps = ((steps % slots) + slots) % slots;
  if (steps == 0)
    return x;
  return RotateOp::create(b, loc, x, b.getI64IntegerAttr(steps));
}

Value Emitter::conjugate(Value x) { return ConjugateOp::create(b, loc, x); }

namespace {

/// Walks an approx::SeriesPlan: basis elements made once, on demand, by the
/// product tree; each leaf's terms brought to the level of its deepest one,
/// multiplied by their constants at degree 2 and summed before one rescale;
/// each split one product (q + its constant) B_M. Every basis element is
/// brought down to a level once. Each part's largest magnitude over t's
/// interval (and 0, what a layout's gaps hold), sampled densely, is recorded
/// on it (kBoundAttr) where past 1: a bootstrap placed inside the series then
/// covers what it refreshes.
class SeriesEmitter {
public:
  SeriesEmitter(Emitter &e, Value t, const approx::SeriesPlan &plan, double lo,
                double hi, int64_t n)
      : e(e), plan(plan), n(n) {
    basis[1] = t;
    // Cosine-spaced points of [lo, hi], both ends, and 0.
    for (size_t k = 0; k < kSamples; ++k)
      points.push_back(
          (lo + hi) / 2 +
          (hi - lo) / 2 *
              std::cos(std::numbers::pi * (double(k) + 0.5) / kSamples));
    points.insert(points.end(), {lo, hi, 0.0});
  }

  /// The polynomial's value (null for a constant) and its constant term.
  std::pair<Value, double> emit(size_t index) {
    const approx::SeriesNode &node = plan.nodes[index];
    if (!node.split) {
      auto part = leaf(node.coeffs);
      if (part.first)
        bounded(part.first, largest(samples(index), part.second));
      return part;
    }
    auto [q, qConstant] = emit(node.q);
    auto [r, rConstant] = emit(node.r);
    Value prod;
    if (q) {
      // q's constant joins it at its level (no level, no product):
      // (q + c) B_M is one product.
      const std::vector<double> &qs = samples(node.q);
      if (qConstant != 0)
        q = bounded(e.addConst(q, qConstant, n), largest(qs));
      auto [qm, bm] = meet(q, node.split);
      std::vector<double> product(qs.size());
      for (size_t k = 0; k < qs.size(); ++k)
        product[k] = qs[k] * basisAt(node.split, k);
      prod = bounded(e.mul(qm, bm), largest(product));
    } else if (qConstant != 0) {
      prod = e.mulConst(element(node.split), qConstant);
    }
    Value sum = r && prod ? e.add(r, prod) : r ? r : prod;
    if (r && prod)
      bounded(sum, largest(samples(index), rConstant));
    return {sum, rConstant};
  }

private:
  static constexpr size_t kSamples = 4096;
  /// B_j at point k (a Chebyshev series' t lies in [-1, 1]).
  double basisAt(size_t j, size_t k) const {
    const double t = points[k];
    return plan.chebyshev
               ? std::cos(double(j) * std::acos(std::clamp(t, -1.0, 1.0)))
               : std::pow(t, double(j));
  }
  /// Node `index`'s polynomial (its constants included) at the points.
  const std::vector<double> &samples(size_t index) {
    auto [it, fresh] = sampled.try_emplace(index);
    if (!fresh)
      return it->second;
    const approx::SeriesNode &node = plan.nodes[index];
    std::vector<double> v(points.size(), 0.0);
    if (!node.split) {
      for (size_t k = 0; k < v.size(); ++k)
        for (size_t i = 0; i < node.coeffs.size(); ++i)
          v[k] += node.coeffs[i] * basisAt(i, k);
    } else {
      const std::vector<double> q = samples(node.q), r = samples(node.r);
      for (size_t k = 0; k < v.size(); ++k)
        v[k] = q[k] * basisAt(node.split, k) + r[k];
    }
    // (try_emplace's iterator survives the recursion: std::map.)
    return it->second = std::move(v);
  }
  /// The largest |v - offset| over the points, 1% up for what lies between
  /// them (a degree-d polynomial moves by ~(d / kSamples)^2 of its range).
  static double largest(const std::vector<double> &v, double offset = 0) {
    double m = 0;
    for (double x : v)
      m = std::max(m, std::fabs(x - offset));
    return 1.01 * m;
  }
  /// v (a part of the series) within `bound`: on its op where past 1.
  Value bounded(Value v, double bound) {
    if (Operation *op = v.getDefiningOp();
        op && bound > 1 && !op->hasAttr(kBoundAttr))
      op->setAttr(kBoundAttr, e.b.getF64FloatAttr(bound));
    return v;
  }

  Value element(size_t j) {
    if (Value v = basis[j])
      return v;
    auto [a, c] = approx::basisSplit(j);
    unsigned level =
        std::min(Emitter::levelOf(element(a)), Emitter::levelOf(element(c)));
    Value prod = e.mul(lowered(a, level), lowered(c, level));
    Value v = prod;
    if (plan.chebyshev) { // T_(a+c) = 2 T_a T_c - T_(a-c)
      Value twice = e.add(prod, prod);
      if (a == c) {
        v = e.addConst(twice, -1, n);
      } else {
        auto [tw, tac] = meet(twice, a - c);
        v = e.sub(tw, tac);
      }
    }
    // |T_j| <= 1; |t^j| is largest at an end of [lo, hi].
    if (!plan.chebyshev)
      bounded(v, std::max(std::fabs(basisAt(j, kSamples)),
                          std::fabs(basisAt(j, kSamples + 1))));
    basis[j] = v;
    return v;
  }

  /// B_j at `level`, one level_down shared by every op that reads it there
  /// (placement sees one value, not copies, live across a cut).
  Value lowered(size_t j, unsigned level) {
    Value &v = lowerings[{j, level}];
    if (!v)
      v = e.levelDown(element(j), level);
    return v;
  }

  /// x and B_j at the lower of their levels, B_j through `lowered`.
  std::pair<Value, Value> meet(Value x, size_t j) {
    unsigned level =
        std::min(Emitter::levelOf(x), Emitter::levelOf(element(j)));
    return {e.levelDown(x, level), lowered(j, level)};
  }

  std::pair<Value, double> leaf(const std::vector<double> &c) {
    unsigned level = ~0u;
    for (size_t i = 1; i < c.size(); ++i)
      if (c[i] != 0)
        level = std::min(level, Emitter::levelOf(element(i)));
    Value sum;
    for (size_t i = 1; i < c.size(); ++i) {
      if (c[i] == 0)
        continue;
      Value term = MulConstOp::create(e.b, e.loc, lowered(i, level),
                                      e.b.getF64FloatAttr(c[i]));
      sum = sum ? Value(AddOp::create(e.b, e.loc, sum, term)) : term;
    }
    if (sum)
      sum = RescaleOp::create(e.b, e.loc, sum);
    return {sum, c[0]};
  }

  Emitter &e;
  const approx::SeriesPlan &plan;
  int64_t n;
  std::map<size_t, Value> basis;
  std::map<std::pair<size_t, unsigned>, Value> lowerings;
  std::map<size_t, std::vector<double>> sampled;
  std::vector<double> points;
};

} // namespace

Value Emitter::series(Value x, Value t, ArrayRef<double> coeffs, bool chebyshev,
                      double lo, double hi, int64_t n, ArrayRef<double> mask) {
  approx::SeriesPlan plan = approx::planSeries(coeffs.vec(), chebyshev);
  auto [sum, constant] = SeriesEmitter(*this, t, plan, lo, hi, n).emit(0);
  if (!sum) // a constant polynomial: c_0 = x * 0 + c_0
    sum = mulConst(x, 0);
  if (mask.empty())
    return constant != 0 ? addConst(sum, constant, n) : sum;
  // In the gaps t is 0, so `sum` there is the polynomial at 0 less the
  // constant still to add (the emitter's products and basis constants are
  // the polynomial's algebra, exact at t = 0): adding constant - p(0) there
  // leaves them 0.
  double atZero = coeffs.empty() ? 0 : coeffs[0];
  if (chebyshev) // T_k(0) = cos(k pi / 2)
    for (size_t k = 2; k < coeffs.size(); k += 2)
      atZero += (k % 4 == 0 ? 1 : -1) * coeffs[k];
  std::vector<double> add(mask.size());
  bool any = false;
  for (size_t i = 0; i < add.size(); ++i) {
    add[i] = mask[i] != 0 ? constant : constant - atZero;
    any |= add[i] != 0;
  }
  return any ? addPlain(sum, add) : sum;
}

Value Emitter::chebyshevSeries(Value x, ArrayRef<double> coeffs, double lo,
                               double hi, int64_t n, ArrayRef<double> mask) {
  // A constant series (zeros past c_0) reads no t: no map.
  const bool constant =
      std::all_of(coeffs.begin() + std::min<size_t>(1, coeffs.size()),
                  coeffs.end(), [](double c) { return c == 0; });
  Value t = x;
  if (!constant && (lo != -1 || hi != 1)) {
    const double shift = -(hi + lo) / (hi - lo);
    t = mulConst(x, 2 / (hi - lo));
    if (shift != 0) // a range centred on 0 needs no shift
      t = addConst(t, shift, n, mask);
  }
  return series(x, t, coeffs, true, -1, 1, n, mask);
}

Value Emitter::powerSeries(Value x, ArrayRef<double> coeffs, double lo,
                           double hi, int64_t n, ArrayRef<double> mask) {
  return series(x, x, coeffs, false, lo, hi, n, mask);
}

} // namespace cerium::ckks
