//===- FHEToCKKS.cpp - Lowering tensor programs to ciphertexts ------------===//

#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/SlotValues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>

using namespace mlir;
namespace shapes = cerium::shapes;
using shapes::Shape;

namespace cerium {
namespace {

/// Levels are counted down from here while emitting, then renumbered.
constexpr unsigned kProvisionalTop = 1u << 20;

struct NotSupported {
  std::string what;
  Location loc;
};

/// A program that cannot be lowered as written (e.g. a division by a zero
/// constant), reported at the op's source location.
struct InvalidProgram {
  std::string what;
  Location loc;
};

/// A plaintext tensor known at compile time, row-major.
struct PlainTensor {
  Shape shape;
  std::vector<double> values;
};

std::vector<double> broadcastTo(const PlainTensor &in, const Shape &to) {
  return shapes::broadcastValues(in.shape, in.values, to);
}

class Lowering {
public:
  Lowering(ModuleOp module, func::FuncOp source, int64_t slots)
      : module(module), source(source), slots(slots), b(module.getContext()) {}

  LogicalResult run() {
    MLIRContext *ctx = module.getContext();
    // The slot count: the largest cipher tensor, rounded up to a power of
    // two, unless the program fixed it.
    int64_t largest = 1;
    source.walk([&](Operation *op) {
      for (Value v : op->getResults())
        if (fhe::isCipher(v.getType()))
          largest = std::max(largest, numElements(v));
      // A linear layer rotates a doubled copy of its input (2 D slots).
      if (auto l = dyn_cast<fhe::LinearOp>(op))
        largest = std::max(largest, 2 * linearSpan(l));
    });
    for (Value a : source.getArguments())
      largest = std::max(largest, numElements(a));
    if (slots == 0) {
      // At least 2: the encoder's smallest slot count (one complex pair).
      slots = 2;
      while (slots < largest)
        slots <<= 1;
    }
    if (largest > slots)
      return source.emitError("a tensor of ")
             << largest << " elements does not fit " << slots
             << " slots (multi-ciphertext packing is not yet supported)";

    // The new function, with provisional levels.
    SmallVector<Type> argTypes;
    for (Value a : source.getArguments()) {
      if (!fhe::isCipher(a.getType()))
        return emitError(a.getLoc(), "not yet supported: plain inputs of main "
                                     "(server-side run-time plaintexts)");
      argTypes.push_back(ckks::CiphertextType::get(ctx, kProvisionalTop, 1, 2));
    }
    b.setInsertionPoint(source);
    auto fn = func::FuncOp::create(b, source.getLoc(), "main",
                                   b.getFunctionType(argTypes, {}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    for (auto [i, a] : llvm::enumerate(source.getArguments())) {
      ciphers[a] = entry->getArgument(i);
      fn.setArgAttr(i, "fhe.shape", b.getDenseI64ArrayAttr(shapeOf(a)));
    }
    try {
      for (Operation &op : source.getBody().front())
        lower(op);
    } catch (const NotSupported &ns) {
      fn.erase();
      return emitError(ns.loc, "not yet supported: ") << ns.what;
    } catch (const InvalidProgram &bad) {
      fn.erase();
      return emitError(bad.loc, bad.what);
    }
    auto ret = cast<func::ReturnOp>(entry->getTerminator());
    SmallVector<Type> resultTypes(ret.getOperandTypes());
    fn.setFunctionType(b.getFunctionType(argTypes, resultTypes));
    for (auto [i, v] : llvm::enumerate(
             source.getBody().front().getTerminator()->getOperands()))
      fn.setResultAttr(i, "fhe.shape", b.getDenseI64ArrayAttr(shapeOf(v)));
    unsigned depth = renumberLevels(fn);
    source.erase();
    module->setAttr("ckks.slots", b.getI64IntegerAttr(slots));
    module->setAttr("ckks.levels", b.getI64IntegerAttr(depth));
    return success();
  }

private:
  static int64_t numElements(Value v) {
    auto s = fhe::shapeOf(v.getType());
    return shapes::numElements(Shape(s.begin(), s.end()));
  }
  static Shape shapeOf(Value v) {
    auto s = fhe::shapeOf(v.getType());
    return Shape(s.begin(), s.end());
  }
  [[noreturn]] static void unsupported(Operation &op, const std::string &why) {
    throw NotSupported{why, op.getLoc()};
  }

  //===--------------------------------------------------------------------===//
  // Managed ckks emission
  //===--------------------------------------------------------------------===//

  static ckks::CiphertextType ctType(Value v) {
    return cast<ckks::CiphertextType>(v.getType());
  }

  Value levelDown(Value v, unsigned level) {
    if (ctType(v).getLevel() == level)
      return v;
    return ckks::LevelDownOp::create(b, loc, v, b.getI32IntegerAttr(level));
  }
  void align(Value &x, Value &y) {
    unsigned l = std::min(ctType(x).getLevel(), ctType(y).getLevel());
    x = levelDown(x, l);
    y = levelDown(y, l);
  }
  Value add(Value x, Value y) {
    align(x, y);
    return ckks::AddOp::create(b, loc, x, y);
  }
  Value sub(Value x, Value y) {
    align(x, y);
    return ckks::SubOp::create(b, loc, x, y);
  }
  Value mul(Value x, Value y) {
    align(x, y);
    Value p = ckks::MulOp::create(b, loc, x, y);
    return ckks::RescaleOp::create(b, loc,
                                   ckks::RelinearizeOp::create(b, loc, p));
  }
  /// Built compact (SlotValues.h): the pre-rotated diagonals of a linear
  /// are leading zeros and one row of f32 weights, which is what the
  /// artifact then stores instead of every slot as a double.
  Value encode(const std::vector<double> &values, unsigned level) {
    CompactSlotValues c = compactSlotValues(b, values);
    return ckks::EncodeOp::create(
        b, loc, ckks::PlaintextType::get(b.getContext(), level, 1), c.values,
        c.offset, c.count);
  }
  Value mulPlain(Value x, const std::vector<double> &values) {
    Value pt = encode(values, ctType(x).getLevel());
    return ckks::RescaleOp::create(b, loc,
                                   ckks::MulPlainOp::create(b, loc, x, pt));
  }
  /// x * c with c in every slot: no plaintext (zero slots stay zero).
  Value mulConst(Value x, double c) {
    return ckks::RescaleOp::create(
        b, loc, ckks::MulConstOp::create(b, loc, x, b.getF64FloatAttr(c)));
  }
  /// x * values, as mul_const when every value is the same.
  Value mulValues(Value x, const std::vector<double> &values, int64_t n) {
    if (int64_t(values.size()) == n &&
        std::all_of(values.begin(), values.end(),
                    [&](double v) { return v == values[0]; }))
      return mulConst(x, values[0]);
    return mulPlain(x, values);
  }
  Value addPlain(Value x, const std::vector<double> &values) {
    return ckks::AddPlainOp::create(b, loc, x,
                                    encode(values, ctType(x).getLevel()));
  }
  /// Left rotation of all slots by `steps` (normalized modulo the slots).
  Value rotate(Value x, int64_t steps) {
    steps = ((steps % slots) + slots) % slots;
    if (steps == 0)
      return x;
    return ckks::RotateOp::create(b, loc, x, b.getI64IntegerAttr(steps));
  }

  //===--------------------------------------------------------------------===//
  // Ops
  //===--------------------------------------------------------------------===//

  bool isCipherValue(Value v) const { return ciphers.count(v); }
  const PlainTensor &plain(Operation &op, Value v) {
    auto it = plainValues.find(v.getAsOpaquePointer());
    if (it == plainValues.end())
      unsupported(op, "a plaintext operand that is not known at compile time");
    return it->second;
  }
  PlainTensor &plains(Value v) { return plainValues[v.getAsOpaquePointer()]; }

  void lower(Operation &op) {
    loc = op.getLoc();
    llvm::TypeSwitch<Operation *>(&op)
        .Case<fhe::WeightOp>([&](auto w) { lowerWeight(w); })
        .Case<fhe::ConstantOp>([&](auto c) {
          plains(c.getResult()) = {
              shapeOf(c.getResult()),
              std::vector<double>(c.getValues().begin(), c.getValues().end())};
        })
        .Case<fhe::AddOp, fhe::SubOp, fhe::MulOp, fhe::DivOp>(
            [&](auto e) { lowerElementwise(op, e.getLhs(), e.getRhs()); })
        .Case<fhe::NegOp>([&](auto n) { lowerNeg(op, n.getInput()); })
        .Case<fhe::RollOp>([&](auto r) { lowerRoll(r); })
        .Case<fhe::SumOp, fhe::MeanOp>([&](auto r) {
          lowerReduce(op, r.getInput(), r.getAxis(), isa<fhe::MeanOp>(op));
        })
        .Case<fhe::PolyOp>([&](auto p) { lowerPoly(p); })
        .Case<fhe::LinearOp>([&](auto l) { lowerLinear(l); })
        .Case<fhe::SliceOp>([&](auto s) { lowerSlice(s); })
        .Case<fhe::ReshapeOp>([&](auto r) {
          // Row-major order is unchanged: the same slots.
          forward(op, r.getInput(), r.getResult());
        })
        .Case<func::ReturnOp>([&](auto r) {
          SmallVector<Value> results;
          for (Value v : r.getOperands())
            results.push_back(ciphers.at(v));
          func::ReturnOp::create(b, loc, results);
        })
        .Default([&](Operation *o) {
          unsupported(*o, "'" + o->getName().getStringRef().str() +
                              "' (its lowering to ckks is later work)");
        });
  }

  void lowerWeight(fhe::WeightOp w) {
    auto file = dsl::SafetensorsFile::open(w.getFile().str());
    plains(w.getResult()) = {shapeOf(w.getResult()),
                             file->read(w.getName().str())};
  }

  /// Same slots, new shape (reshape), for either kind of value.
  void forward(Operation &op, Value in, Value out) {
    if (isCipherValue(in)) {
      // A copy first: at() refers into the map that operator[] may grow.
      Value cipher = ciphers.at(in);
      ciphers[out] = cipher;
    } else {
      plains(out) = {shapeOf(out), plain(op, in).values};
    }
  }

  void lowerElementwise(Operation &op, Value lhs, Value rhs) {
    Value result = op.getResult(0);
    Shape shape = shapeOf(result);
    bool cl = isCipherValue(lhs), cr = isCipherValue(rhs);
    if (!cl && !cr) {
      // Compile-time evaluation of plaintext arithmetic.
      auto x = broadcastTo(plain(op, lhs), shape);
      auto y = broadcastTo(plain(op, rhs), shape);
      for (size_t i = 0; i < x.size(); ++i) {
        if (isa<fhe::AddOp>(op))
          x[i] += y[i];
        else if (isa<fhe::SubOp>(op))
          x[i] -= y[i];
        else if (isa<fhe::MulOp>(op))
          x[i] *= y[i];
        else if (y[i] == 0)
          throw InvalidProgram{"division by zero: the divisor is 0 at flat "
                               "index " +
                                   std::to_string(i),
                               op.getLoc()};
        else
          x[i] /= y[i];
      }
      plains(result) = {shape, std::move(x)};
      return;
    }
    if ((cl && shapeOf(lhs) != shape) || (cr && shapeOf(rhs) != shape))
      unsupported(op, "broadcasting a cipher operand to " + shapes::str(shape));
    if (cl && cr) {
      Value x = ciphers.at(lhs), y = ciphers.at(rhs);
      if (isa<fhe::AddOp>(op))
        ciphers[result] = add(x, y);
      else if (isa<fhe::SubOp>(op))
        ciphers[result] = sub(x, y);
      else
        ciphers[result] = mul(x, y); // Div by a cipher is rejected by sema
      return;
    }
    Value ct = ciphers.at(cl ? lhs : rhs);
    std::vector<double> p = broadcastTo(plain(op, cl ? rhs : lhs), shape);
    if (isa<fhe::AddOp>(op)) {
      ciphers[result] = addPlain(ct, p);
    } else if (isa<fhe::SubOp>(op)) {
      if (cl) {
        for (double &v : p)
          v = -v;
        ciphers[result] = addPlain(ct, p);
      } else { // plain - cipher
        ciphers[result] = addPlain(ckks::NegateOp::create(b, loc, ct), p);
      }
    } else if (isa<fhe::MulOp>(op)) {
      ciphers[result] = mulValues(ct, p, shapes::numElements(shape));
    } else { // cipher / plain
      const bool scalar = plain(op, rhs).values.size() == 1;
      for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == 0)
          throw InvalidProgram{
              scalar ? std::string("division by zero")
                     : "division by zero: the divisor is 0 at flat index " +
                           std::to_string(i),
              op.getLoc()};
        p[i] = 1 / p[i];
      }
      ciphers[result] = mulValues(ct, p, shapes::numElements(shape));
    }
  }

  void lowerNeg(Operation &op, Value in) {
    if (isCipherValue(in)) {
      ciphers[op.getResult(0)] = ckks::NegateOp::create(b, loc, ciphers.at(in));
      return;
    }
    PlainTensor t = plain(op, in);
    for (double &v : t.values)
      v = -v;
    plains(op.getResult(0)) = std::move(t);
  }

  void lowerRoll(fhe::RollOp r) {
    Operation &op = *r;
    Value in = r.getInput();
    Shape shape = shapeOf(in);
    int64_t axis = static_cast<int64_t>(r.getAxis());
    shapes::normalizeAxis(axis, shape.size());
    const int64_t na = shape[axis], shift = static_cast<int64_t>(r.getShift());
    const int64_t k = ((shift % na) + na) % na;
    const int64_t stride = shapes::strides(shape)[axis];
    const int64_t n = shapes::numElements(shape);
    if (!isCipherValue(in)) {
      plains(r.getResult()) = {
          shape, shapes::rollValues(shape, plain(op, in).values, shift, axis)};
      return;
    }
    Value x = ciphers.at(in);
    if (k == 0) {
      ciphers[r.getResult()] = x;
      return;
    }
    // out[i] = x[i - k stride] where idx_axis >= k, else x[i + (na - k)
    // stride]. A 1-D tensor filling every slot is one cyclic rotation.
    if (shape.size() == 1 && n == slots) {
      ciphers[r.getResult()] = rotate(x, -k);
      return;
    }
    std::vector<double> keep(static_cast<size_t>(n)),
        wrap(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      bool shifted = (i / stride) % na >= k;
      keep[size_t(i)] = shifted ? 1 : 0;
      wrap[size_t(i)] = shifted ? 0 : 1;
    }
    Value part1 = mulPlain(rotate(x, -k * stride), keep);
    Value part2 = mulPlain(rotate(x, (na - k) * stride), wrap);
    ciphers[r.getResult()] = add(part1, part2);
  }

  void lowerReduce(Operation &op, Value in, std::optional<uint64_t> axisAttr,
                   bool mean) {
    const Shape shape = shapeOf(in);
    std::optional<int64_t> axis;
    if (axisAttr) {
      axis = static_cast<int64_t>(*axisAttr);
      shapes::normalizeAxis(*axis, shape.size());
    }
    if (!isCipherValue(in)) {
      plains(op.getResult(0)) = {
          shapeOf(op.getResult(0)),
          shapes::reduceValues(shape, plain(op, in).values,
                               axis ? &*axis : nullptr, mean)};
      return;
    }
    Value s = ciphers.at(in);
    const int64_t n = shapes::numElements(shape);
    if (!axis) {
      // Rotate-and-add leaves the total in every slot (the padding is
      // zero); keep slot 0 only, scaled by 1/n for the mean.
      for (int64_t step = 1; step < slots; step <<= 1)
        s = add(s, rotate(s, step));
      ciphers[op.getResult(0)] = mulPlain(s, {mean ? 1.0 / double(n) : 1.0});
      return;
    }
    // Along the axis: after the additions, the slots whose index on the
    // axis is 0 hold their block's sum (a power-of-two extent doubles the
    // reach; others add one shifted copy at a time).
    const int64_t na = shape[*axis], stride = shapes::strides(shape)[*axis];
    const int64_t outer = n / (na * stride);
    if ((na & (na - 1)) == 0) {
      for (int64_t step = stride; step < na * stride; step <<= 1)
        s = add(s, rotate(s, step));
    } else {
      Value x = s;
      for (int64_t t = 1; t < na; ++t)
        s = add(s, rotate(x, t * stride));
    }
    // Keep those slots (scaled for the mean) and close the gaps: block o
    // moves left by o (na - 1) stride, one masked rotation per block.
    const double weight = mean ? 1.0 / double(na) : 1.0;
    Value out;
    for (int64_t o = 0; o < outer; ++o) {
      std::vector<double> mask(size_t(o * na * stride + stride), 0.0);
      for (int64_t j = 0; j < stride; ++j)
        mask[size_t(o * na * stride + j)] = weight;
      Value part = rotate(mulPlain(s, mask), o * (na - 1) * stride);
      out = out ? add(out, part) : part;
    }
    ciphers[op.getResult(0)] = out;
  }

  void lowerSlice(fhe::SliceOp s) {
    Operation &op = *s;
    if (isCipherValue(s.getInput()))
      unsupported(op, "slicing a cipher tensor");
    const PlainTensor &t = plain(op, s.getInput());
    int64_t inner =
        t.shape.size() > 1
            ? shapes::numElements(Shape(t.shape.begin() + 1, t.shape.end()))
            : 1;
    int64_t lo = static_cast<int64_t>(s.getLo());
    int64_t hi = static_cast<int64_t>(s.getHi());
    plains(s.getResult()) = {
        shapeOf(s.getResult()),
        std::vector<double>(t.values.begin() + lo * inner,
                            t.values.begin() + hi * inner)};
  }

  /// Σ c_k B_k(x) with B_k = x^k (power) or T_k(t), t the affine map of the
  /// range onto [-1, 1] (chebyshev). Basis elements come from a product
  /// tree of depth ceil(log2 k); each coefficient costs one plaintext
  /// multiplication.
  void lowerPoly(fhe::PolyOp p) {
    Operation &op = *p;
    if (!isCipherValue(p.getInput()))
      unsupported(op, "poly on a plaintext (fold it in the program)");
    const int64_t n = numElements(p.getInput());
    auto constant = [&](double c) { return std::vector<double>(size_t(n), c); };
    ArrayRef<double> coeffs = p.getCoefficients();
    const size_t degree = coeffs.size() - 1;
    bool chebyshev = p.getBasis() == "chebyshev";
    Value x = ciphers.at(p.getInput());
    if (chebyshev && degree >= 1) {
      double lo = p.getRange()[0], hi = p.getRange()[1];
      x = addPlain(mulConst(x, 2 / (hi - lo)),
                   constant(-(hi + lo) / (hi - lo)));
    }
    if (!chebyshev && degree >= 4) {
      ciphers[p.getResult()] = babyStepGiantStep(x, coeffs, constant);
      return;
    }
    std::vector<Value> basis(degree + 1);
    if (degree >= 1)
      basis[1] = x;
    for (size_t k = 2; k <= degree; ++k) {
      size_t a = size_t(1) << (63 - __builtin_clzll(k));
      if (a == k)
        a = k / 2;
      size_t c = k - a; // k = a + c, a >= c
      Value prod = mul(basis[a], basis[c]);
      if (!chebyshev) {
        basis[k] = prod;
        continue;
      }
      // T_{a+c} = 2 T_a T_c - T_{a-c}.
      Value twice = add(prod, prod);
      basis[k] =
          a == c ? addPlain(twice, constant(-1)) : sub(twice, basis[a - c]);
    }
    Value sum;
    for (size_t k = 1; k <= degree; ++k) {
      if (coeffs[k] == 0)
        continue;
      Value term = mulConst(basis[k], coeffs[k]);
      sum = sum ? add(sum, term) : term;
    }
    if (!sum) // a constant polynomial: c_0 = x * 0 + c_0
      sum = mulConst(ciphers.at(p.getInput()), 0);
    if (coeffs[0] != 0)
      sum = addPlain(sum, constant(coeffs[0]));
    ciphers[p.getResult()] = sum;
  }

  /// Power-basis polynomial by baby steps x^1..x^(k-1) and giant steps
  /// x^k, x^2k, x^4k, ... (k the power of two >= sqrt(d + 1)): chunks of k
  /// coefficients are combined pairwise with the giant steps, so degree d
  /// costs about 2 sqrt(d) + log d ciphertext products instead of d - 1, at
  /// the same depth ceil(log2 (d + 1)) + 1.
  template <class Constant>
  Value babyStepGiantStep(Value x, ArrayRef<double> coeffs,
                          const Constant &constant) {
    const size_t degree = coeffs.size() - 1;
    size_t k = 2;
    while (k * k < degree + 1)
      k <<= 1;
    std::vector<Value> baby(k);
    baby[1] = x;
    for (size_t j = 2; j < k; ++j) {
      size_t a = size_t(1) << (63 - __builtin_clzll(j));
      if (a == j)
        a = j / 2;
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
      return c0 != 0 ? addPlain(s, constant(c0)) : s;
    };
    std::function<Value(size_t, size_t)> combine = [&](size_t lo,
                                                       size_t count) {
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

  /// D: the power of two covering both dimensions of a linear layer.
  static int64_t linearSpan(fhe::LinearOp l) {
    Shape w = shapeOf(l.getWeight());
    int64_t d = 1;
    while (d < std::max(w[0], w[1]))
      d <<= 1;
    return d;
  }

  /// y = W x + b for a cipher vector x [n] and plain W [m, n]: the diagonal
  /// method (Halevi-Shoup) with baby steps g and giant steps D / g,
  /// y = sum_s rot(sum_b d'_{s+b} * rot(x2, b), s), where x2 holds x at
  /// slots [0, n) and [D, D + n) so rotations by up to D wrap within D, and
  /// d'_{s+b} is diagonal s + b pre-rotated by s (compile time). About
  /// 2 sqrt(D) rotations and one plaintext multiplication in depth.
  void lowerLinear(fhe::LinearOp l) {
    Operation &op = *l;
    if (!isCipherValue(l.getInput()))
      unsupported(op, "linear on a plaintext input (fold it in the program)");
    Shape in = shapeOf(l.getInput());
    if (in.size() != 1)
      unsupported(op, "linear on a batch of vectors (rank " +
                          std::to_string(in.size()) + " input)");
    const PlainTensor &w = plain(op, l.getWeight());
    const int64_t m = w.shape[0], n = w.shape[1], d = linearSpan(l);
    int64_t g = 1;
    while (g * g < d)
      g <<= 1;
    Value x = ciphers.at(l.getInput());
    Value x2 = add(x, rotate(x, -d));
    std::vector<Value> babies(static_cast<size_t>(g));
    for (int64_t step = 0; step < g; ++step)
      babies[size_t(step)] = rotate(x2, step);
    Value acc;
    for (int64_t s = 0; s < d; s += g) {
      Value inner;
      for (int64_t step = 0; step < g; ++step) {
        // d'[t] = diag_{s+step}[t - s], diag_k[j] = W[j][(j + k) mod D].
        std::vector<double> diag(static_cast<size_t>(s + d), 0.0);
        bool any = false;
        for (int64_t j = 0; j < m; ++j) {
          int64_t col = (j + s + step) % d;
          if (col < n && w.values[size_t(j * n + col)] != 0) {
            diag[size_t(j + s)] = w.values[size_t(j * n + col)];
            any = true;
          }
        }
        if (!any)
          continue;
        // Products stay at degree 2 and are rescaled once, at the end.
        Value baby = babies[size_t(step)];
        Value term = ckks::MulPlainOp::create(
            b, loc, baby, encode(diag, ctType(baby).getLevel()));
        inner = inner ? add(inner, term) : term;
      }
      if (!inner)
        continue;
      Value part = rotate(inner, s);
      acc = acc ? add(acc, part) : part;
    }
    acc = acc ? ckks::RescaleOp::create(b, loc, acc) : mulConst(x, 0);
    if (l.getBias())
      acc = addPlain(acc, plain(op, l.getBias()).values);
    ciphers[l.getResult()] = acc;
  }

  //===--------------------------------------------------------------------===//
  // Level renumbering
  //===--------------------------------------------------------------------===//

  unsigned renumberLevels(func::FuncOp fn) {
    unsigned lowest = kProvisionalTop;
    auto visit = [&](Type t) {
      if (auto ct = dyn_cast<ckks::CiphertextType>(t))
        lowest = std::min(lowest, ct.getLevel());
      if (auto pt = dyn_cast<ckks::PlaintextType>(t))
        lowest = std::min(lowest, pt.getLevel());
    };
    for (Value a : fn.getArguments())
      visit(a.getType());
    fn.walk([&](Operation *op) {
      for (Value r : op->getResults())
        visit(r.getType());
    });
    const unsigned shift = lowest;
    MLIRContext *ctx = fn.getContext();
    auto remap = [&](Type t) -> Type {
      if (auto ct = dyn_cast<ckks::CiphertextType>(t))
        return ckks::CiphertextType::get(ctx, ct.getLevel() - shift,
                                         ct.getDegree(), ct.getSize());
      if (auto pt = dyn_cast<ckks::PlaintextType>(t))
        return ckks::PlaintextType::get(ctx, pt.getLevel() - shift,
                                        pt.getDegree());
      return t;
    };
    for (BlockArgument a : fn.getArguments())
      a.setType(remap(a.getType()));
    fn.walk([&](Operation *op) {
      for (Value r : op->getResults())
        r.setType(remap(r.getType()));
      if (auto ld = dyn_cast<ckks::LevelDownOp>(op))
        ld.setLevel(static_cast<int32_t>(ld.getLevel() - shift));
    });
    SmallVector<Type> args, results;
    for (Type t : fn.getFunctionType().getInputs())
      args.push_back(remap(t));
    for (Type t : fn.getFunctionType().getResults())
      results.push_back(remap(t));
    fn.setFunctionType(FunctionType::get(ctx, args, results));
    return kProvisionalTop - shift;
  }

  ModuleOp module;
  func::FuncOp source;
  int64_t slots;
  OpBuilder b;
  Location loc = UnknownLoc::get(module.getContext());
  llvm::DenseMap<Value, Value> ciphers;
  /// Compile-time plaintexts by value (std::map: references stay valid).
  std::map<const void *, PlainTensor> plainValues;
};

class FheToCkksPass
    : public PassWrapper<FheToCkksPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FheToCkksPass)

  FheToCkksPass() = default;
  FheToCkksPass(const FheToCkksPass &other) : PassWrapper(other) {}
  explicit FheToCkksPass(int64_t slots) { slotOption = slots; }

  StringRef getArgument() const final { return "fhe-to-ckks"; }
  StringRef getDescription() const final {
    return "Lower fhe tensor programs (one ciphertext per tensor) to ckks";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<ckks::CKKSDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      module.emitError("no func @main to lower");
      return signalPassFailure();
    }
    try {
      if (failed(Lowering(module, main, slotOption).run()))
        signalPassFailure();
    } catch (const std::exception &e) {
      main.emitError(e.what());
      signalPassFailure();
    }
  }

  Option<int64_t> slotOption{*this, "slots",
                             llvm::cl::desc("slot count (0: automatic)"),
                             llvm::cl::init(0)};
};

} // namespace

std::unique_ptr<Pass> createFheToCkksPass(int64_t slots) {
  return std::make_unique<FheToCkksPass>(slots);
}

void registerFheToCkksPass() { PassRegistration<FheToCkksPass>(); }

} // namespace cerium
