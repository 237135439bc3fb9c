//===- CKKSEmitter.cpp - ckks emission with managed levels ----------------===//

#include "cerium/Dialect/CKKS/IR/CKKSEmitter.h"
#include "cerium/Dialect/SlotValues.h"

#include <algorithm>
#include <functional>
#include <map>

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
                          c.values, c.offset, c.count, UnitAttr());
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
                          IntegerAttr(), b.getUnitAttr());
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
  if (int64_t(values.size()) == n &&
      std::all_of(values.begin(), values.end(),
                  [&](double v) { return v == values[0]; }))
    return mulConst(x, values[0]);
  return mulPlain(x, values);
}

Value Emitter::addPlain(Value x, ArrayRef<double> values) {
  return AddPlainOp::create(b, loc, x, encode(values, levelOf(x)));
}

Value Emitter::addConst(Value x, double c, int64_t n) {
  return addPlain(x, std::vector<double>(size_t(n), c));
}

Value Emitter::rotate(Value x, int64_t steps) {
  steps = ((steps % slots) + slots) % slots;
  if (steps == 0)
    return x;
  return RotateOp::create(b, loc, x, b.getI64IntegerAttr(steps));
}

Value Emitter::conjugate(Value x) { return ConjugateOp::create(b, loc, x); }

namespace {

/// The split k = a + c, a the largest power of two below k (k/2 for a power
/// of two), that keeps the product tree at depth ceil(log2 k).
size_t treeSplit(size_t k) {
  size_t a = size_t(1) << (63 - __builtin_clzll(k));
  return a == k ? k / 2 : a;
}

} // namespace

/// Σ c_k B_k(t) with every basis element from a product tree (B_k = t^k or
/// T_k(t)); each coefficient costs one constant multiplication. `x` is the
/// program's operand (for the constant polynomial), `t` the series variable.
static Value basisSeries(Emitter &e, Value x, Value t, ArrayRef<double> coeffs,
                         bool chebyshev, int64_t n) {
  const size_t degree = coeffs.size() - 1;
  std::vector<Value> basis(degree + 1);
  if (degree >= 1)
    basis[1] = t;
  for (size_t k = 2; k <= degree; ++k) {
    size_t a = treeSplit(k), c = k - a;
    Value prod = e.mul(basis[a], basis[c]);
    if (!chebyshev) {
      basis[k] = prod;
      continue;
    }
    // T_{a+c} = 2 T_a T_c - T_{a-c}.
    Value twice = e.add(prod, prod);
    basis[k] = a == c ? e.addConst(twice, -1, n) : e.sub(twice, basis[a - c]);
  }
  Value sum;
  for (size_t k = 1; k <= degree; ++k) {
    if (coeffs[k] == 0)
      continue;
    Value term = e.mulConst(basis[k], coeffs[k]);
    sum = sum ? e.add(sum, term) : term;
  }
  if (!sum) // a constant polynomial: c_0 = x * 0 + c_0
    sum = e.mulConst(x, 0);
  if (coeffs[0] != 0)
    sum = e.addConst(sum, coeffs[0], n);
  return sum;
}

namespace {

/// A partial sum v + c (v null: the constant c alone).
struct SeriesPart {
  Value value;
  double constant = 0;
};

/// Σ c_j T_j(t) for degree >= 8, baby-step giant-step in the Chebyshev
/// basis: T_1..T_k by the product tree (k the power of two with k^2 > d),
/// giants T_2k, T_4k, ... by T_2M = 2 T_M^2 - 1, and the series split as
/// p = q T_M + r with T_j = 2 T_M T_(j-M) - T_(2M-j): about 2 sqrt(d) +
/// log d products instead of d - 1, at the product tree's depth. Every
/// chunk of k - 1 terms multiplies babies brought once to one level and
/// pays one rescale.
class ChebyshevBsgs {
public:
  ChebyshevBsgs(Emitter &e, Value t, size_t degree, int64_t n) : e(e), n(n) {
    while (k * k < degree + 1)
      k <<= 1;
    T.resize(k + 1);
    T[1] = t;
    for (size_t j = 2; j <= k; ++j) {
      size_t a = treeSplit(j), c = j - a;
      Value prod = e.mul(T[a], T[c]);
      Value twice = e.add(prod, prod);
      T[j] = a == c ? e.addConst(twice, -1, n) : e.sub(twice, T[a - c]);
    }
    giants[k] = T[k];
    for (size_t m = 2 * k; m <= degree; m *= 2) {
      Value sq = e.mul(giants[m / 2], giants[m / 2]);
      giants[m] = e.addConst(e.add(sq, sq), -1, n);
    }
  }

  SeriesPart eval(std::vector<double> c) {
    while (c.size() > 1 && c.back() == 0)
      c.pop_back();
    const size_t degree = c.size() - 1;
    if (degree < k)
      return leaf(c);
    size_t m = k;
    while (2 * m <= degree)
      m *= 2;
    std::vector<double> q(degree - m + 1, 0.0), r(c.begin(), c.begin() + m);
    q[0] = c[m];
    for (size_t j = m + 1; j <= degree; ++j) {
      q[j - m] += 2 * c[j];
      r[2 * m - j] -= c[j];
    }
    SeriesPart qp = eval(std::move(q)), rp = eval(std::move(r));
    Value tm = giants.at(m), prod;
    if (qp.value)
      prod = e.mul(qp.value, tm);
    if (qp.constant != 0) {
      Value scaled = e.mulConst(tm, qp.constant);
      prod = prod ? e.add(prod, scaled) : scaled;
    }
    Value sum = rp.value ? (prod ? e.add(rp.value, prod) : rp.value) : prod;
    return {sum, rp.constant};
  }

private:
  /// Σ_{i<k} c_i T_i: products at degree 2 summed, one rescale.
  SeriesPart leaf(const std::vector<double> &c) {
    Value sum;
    for (size_t i = 1; i < c.size(); ++i) {
      if (c[i] == 0)
        continue;
      Value term =
          MulConstOp::create(e.b, e.loc, aligned(i), e.b.getF64FloatAttr(c[i]));
      sum = sum ? Value(AddOp::create(e.b, e.loc, sum, term)) : term;
    }
    if (sum)
      sum = RescaleOp::create(e.b, e.loc, sum);
    return {sum, c[0]};
  }

  /// T_i at the level of the deepest baby below T_k (all of them share
  /// it, so leaves add without aligning).
  Value aligned(size_t i) {
    if (babies.empty()) {
      unsigned level = Emitter::levelOf(T[1]);
      for (size_t j = 1; j < k; ++j)
        level = std::min(level, Emitter::levelOf(T[j]));
      babies.resize(k);
      for (size_t j = 1; j < k; ++j)
        babies[j] = e.levelDown(T[j], level);
    }
    return babies[i];
  }

  Emitter &e;
  int64_t n;
  size_t k = 2;
  std::vector<Value> T, babies;
  std::map<size_t, Value> giants;
};

} // namespace

Value Emitter::chebyshevSeries(Value x, ArrayRef<double> coeffs, double lo,
                               double hi, int64_t n) {
  Value t = x;
  if (coeffs.size() >= 2 && (lo != -1 || hi != 1)) {
    t = mulConst(x, 2 / (hi - lo));
    if (hi + lo != 0) // a range centred on 0 needs no shift
      t = addConst(t, -(hi + lo) / (hi - lo), n);
  }
  const size_t degree = coeffs.size() - 1;
  if (degree < 8)
    return basisSeries(*this, x, t, coeffs, true, n);
  ChebyshevBsgs series(*this, t, degree, n);
  SeriesPart p = series.eval(coeffs.vec());
  Value sum = p.value ? p.value : mulConst(x, 0);
  return p.constant != 0 ? addConst(sum, p.constant, n) : sum;
}

/// Chunks of k coefficients are combined pairwise with the giant steps, so
/// degree d costs about 2 sqrt(d) + log d ciphertext products instead of
/// d - 1, at the same depth.
Value Emitter::powerSeries(Value x, ArrayRef<double> coeffs, int64_t n) {
  const size_t degree = coeffs.size() - 1;
  if (degree < 4)
    return basisSeries(*this, x, x, coeffs, false, n);
  size_t k = 2;
  while (k * k < degree + 1)
    k <<= 1;
  std::vector<Value> baby(k);
  baby[1] = x;
  for (size_t j = 2; j < k; ++j) {
    size_t a = treeSplit(j);
    baby[j] = mul(baby[a], baby[j - a]);
  }
  const size_t chunks = (degree + k) / k;
  size_t padded = 1;
  while (padded < chunks)
    padded <<= 1;
  std::vector<Value> giant{mul(baby[k / 2], baby[k / 2])}; // x^k
  while ((size_t(1) << giant.size()) < padded)
    giant.push_back(mul(giant.back(), giant.back()));
  // sum_i c_{jk+i} x^i; null when the chunk is all zero.
  auto chunk = [&](size_t j) -> Value {
    Value s;
    for (size_t i = 1; i < k && j * k + i <= degree; ++i)
      if (coeffs[j * k + i] != 0) {
        Value term = mulConst(baby[i], coeffs[j * k + i]);
        s = s ? add(s, term) : term;
      }
    double c0 = j * k <= degree ? coeffs[j * k] : 0;
    if (!s && c0 == 0)
      return {};
    if (!s)
      s = mulConst(x, 0);
    return c0 != 0 ? addConst(s, c0, n) : s;
  };
  std::function<Value(size_t, size_t)> combine = [&](size_t lo, size_t count) {
    if (count == 1)
      return chunk(lo);
    size_t half = count / 2;
    Value low = combine(lo, half), high = combine(lo + half, half);
    if (!high)
      return low;
    Value prod = mul(high, giant[__builtin_ctzll(half)]);
    return low ? add(low, prod) : prod;
  };
  Value result = combine(0, padded);
  return result ? result : mulConst(x, 0);
}

} // namespace cerium::ckks
