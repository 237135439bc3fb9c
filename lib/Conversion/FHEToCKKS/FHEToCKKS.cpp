//===- FHEToCKKS.cpp - Lowering tensor programs to ciphertexts ------------===//

#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/IR/CKKSEmitter.h"
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
  Lowering(ModuleOp module, func::FuncOp source, int64_t slots,
           unsigned segmentDepth)
      : module(module), source(source), slots(slots), b(module.getContext()),
        e(b, slots) {
    // Bootstraps go where a value would fall below the segment's depth.
    if (segmentDepth)
      e.refresh = ckks::Emitter::Refresh{kProvisionalTop - segmentDepth,
                                         kProvisionalTop};
  }

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
    e.slots = slots;
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

  static ckks::CiphertextType ctType(Value v) {
    return cast<ckks::CiphertextType>(v.getType());
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
            [&](auto x) { lowerElementwise(op, x.getLhs(), x.getRhs()); })
        .Case<fhe::NegOp>([&](auto n) { lowerNeg(op, n.getInput()); })
        .Case<fhe::RollOp>([&](auto r) { lowerRoll(r); })
        .Case<fhe::SumOp, fhe::MeanOp>([&](auto r) {
          lowerReduce(op, r.getInput(), r.getAxis(), isa<fhe::MeanOp>(op));
        })
        .Case<fhe::PolyOp>([&](auto p) { lowerPoly(p); })
        .Case<fhe::BootstrapOp>([&](fhe::BootstrapOp bs) {
          // A fresh top: renumbering puts it at the deepest segment's
          // depth, and the expansion raises to the chain's top above it.
          ciphers[bs.getResult()] = ckks::BootstrapOp::create(
              b, loc,
              ckks::CiphertextType::get(b.getContext(), kProvisionalTop, 1, 2),
              ciphers.at(bs.getInput()));
        })
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
        ciphers[result] = e.add(x, y);
      else if (isa<fhe::SubOp>(op))
        ciphers[result] = e.sub(x, y);
      else
        ciphers[result] = e.mul(x, y); // Div by a cipher is rejected by sema
      return;
    }
    Value ct = ciphers.at(cl ? lhs : rhs);
    std::vector<double> p = broadcastTo(plain(op, cl ? rhs : lhs), shape);
    if (isa<fhe::AddOp>(op)) {
      ciphers[result] = e.addPlain(ct, p);
    } else if (isa<fhe::SubOp>(op)) {
      if (cl) {
        for (double &v : p)
          v = -v;
        ciphers[result] = e.addPlain(ct, p);
      } else { // plain - cipher
        ciphers[result] = e.addPlain(e.negate(ct), p);
      }
    } else if (isa<fhe::MulOp>(op)) {
      ciphers[result] = e.mulValues(ct, p, shapes::numElements(shape));
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
      ciphers[result] = e.mulValues(ct, p, shapes::numElements(shape));
    }
  }

  void lowerNeg(Operation &op, Value in) {
    if (isCipherValue(in)) {
      ciphers[op.getResult(0)] = e.negate(ciphers.at(in));
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
      ciphers[r.getResult()] = e.rotate(x, -k);
      return;
    }
    std::vector<double> keep(static_cast<size_t>(n)),
        wrap(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      bool shifted = (i / stride) % na >= k;
      keep[size_t(i)] = shifted ? 1 : 0;
      wrap[size_t(i)] = shifted ? 0 : 1;
    }
    Value part1 = e.mulPlain(e.rotate(x, -k * stride), keep);
    Value part2 = e.mulPlain(e.rotate(x, (na - k) * stride), wrap);
    ciphers[r.getResult()] = e.add(part1, part2);
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
        s = e.add(s, e.rotate(s, step));
      ciphers[op.getResult(0)] = e.mulPlain(s, {mean ? 1.0 / double(n) : 1.0});
      return;
    }
    // Along the axis: after the additions, the slots whose index on the
    // axis is 0 hold their block's sum (a power-of-two extent doubles the
    // reach; others add one shifted copy at a time).
    const int64_t na = shape[*axis], stride = shapes::strides(shape)[*axis];
    const int64_t outer = n / (na * stride);
    if ((na & (na - 1)) == 0) {
      for (int64_t step = stride; step < na * stride; step <<= 1)
        s = e.add(s, e.rotate(s, step));
    } else {
      Value x = s;
      for (int64_t t = 1; t < na; ++t)
        s = e.add(s, e.rotate(x, t * stride));
    }
    // Keep those slots (scaled for the mean) and close the gaps: block o
    // moves left by o (na - 1) stride, one masked rotation per block.
    const double weight = mean ? 1.0 / double(na) : 1.0;
    Value out;
    for (int64_t o = 0; o < outer; ++o) {
      std::vector<double> mask(size_t(o * na * stride + stride), 0.0);
      for (int64_t j = 0; j < stride; ++j)
        mask[size_t(o * na * stride + j)] = weight;
      Value part = e.rotate(e.mulPlain(s, mask), o * (na - 1) * stride);
      out = out ? e.add(out, part) : part;
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

  /// Σ c_k x^k, or Σ c_k T_k(t) with t the affine map of the range onto
  /// [-1, 1] (chebyshev); constants fill the tensor's slots only.
  void lowerPoly(fhe::PolyOp p) {
    Operation &op = *p;
    if (!isCipherValue(p.getInput()))
      unsupported(op, "poly on a plaintext (fold it in the program)");
    const int64_t n = numElements(p.getInput());
    Value x = ciphers.at(p.getInput());
    ciphers[p.getResult()] =
        p.getBasis() == "chebyshev"
            ? e.chebyshevSeries(x, p.getCoefficients(), p.getRange()[0],
                                p.getRange()[1], n)
            : e.powerSeries(x, p.getCoefficients(), n);
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
    Value x = e.ready(ciphers.at(l.getInput()));
    Value x2 = e.add(x, e.rotate(x, -d));
    std::vector<Value> babies(static_cast<size_t>(g));
    for (int64_t step = 0; step < g; ++step)
      babies[size_t(step)] = e.rotate(x2, step);
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
            b, loc, baby, e.encode(diag, ctType(baby).getLevel()));
        inner = inner ? e.add(inner, term) : term;
      }
      if (!inner)
        continue;
      Value part = e.rotate(inner, s);
      acc = acc ? e.add(acc, part) : part;
    }
    acc = acc ? ckks::RescaleOp::create(b, loc, acc) : e.mulConst(x, 0);
    if (l.getBias())
      acc = e.addPlain(acc, plain(op, l.getBias()).values);
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
  ckks::Emitter e;
  /// The location of the op being lowered (what `e` emits with).
  Location &loc = e.loc;
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
  FheToCkksPass(int64_t slots, unsigned segmentDepth) {
    slotOption = slots;
    segmentOption = segmentDepth;
  }

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
      if (failed(Lowering(module, main, slotOption,
                          static_cast<unsigned>(segmentOption))
                     .run()))
        signalPassFailure();
    } catch (const std::exception &e) {
      main.emitError(e.what());
      signalPassFailure();
    }
  }

  Option<int64_t> slotOption{*this, "slots",
                             llvm::cl::desc("slot count (0: automatic)"),
                             llvm::cl::init(0)};
  Option<unsigned> segmentOption{
      *this, "segment-depth",
      llvm::cl::desc("levels between automatically placed bootstraps (0: "
                     "place none)"),
      llvm::cl::init(0)};
};

} // namespace

std::unique_ptr<Pass> createFheToCkksPass(int64_t slots,
                                          unsigned segmentDepth) {
  return std::make_unique<FheToCkksPass>(slots, segmentDepth);
}

void registerFheToCkksPass() { PassRegistration<FheToCkksPass>(); }

} // namespace cerium
