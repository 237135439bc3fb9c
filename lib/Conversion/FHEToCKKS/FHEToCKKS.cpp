//===- FHEToCKKS.cpp - Lowering tensor programs to ciphertexts ------------===//

#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/DSL/Functions.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/IR/CKKSEmitter.h"
#include "cerium/Dialect/FHE/IR/Approximations.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/SlotValues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

using namespace mlir;
namespace shapes = cerium::shapes;
using shapes::Shape;

namespace cerium {
namespace {

/// Levels are counted down from here while emitting, then renumbered.
constexpr unsigned kProvisionalTop = 1u << 20;

/// The automatic slot count's cap (see Lowering::run).
constexpr int64_t kMaxAutomaticSlots = int64_t(1) << 15;

/// The ciphertexts holding one cipher tensor, in slot order: flat position
/// p of its layout is slot p % slots of part p / slots.
using Parts = llvm::SmallVector<Value, 1>;

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
           double precision)
      : module(module), source(source), slots(slots), b(module.getContext()),
        e(b, slots), precision(precision) {}

  LogicalResult run() {
    MLIRContext *ctx = module.getContext();
    chooseInputLayouts();
    // The slot count: the largest cipher tensor as laid out, rounded up to
    // a power of two, unless the program fixed it.
    int64_t largest = 1;
    source.walk([&](Operation *op) {
      for (Value v : op->getResults())
        if (fhe::isCipher(v.getType()))
          largest = std::max(largest, plannedExtent(v));
    });
    for (Value a : source.getArguments())
      largest = std::max(largest, plannedExtent(a));
    if (slots == 0) {
      // At least 2: the encoder's smallest slot count (one complex pair);
      // at most the slots of N = 2^16, the largest ring that keeps 128-bit
      // security at usual depths. Larger tensors span several ciphertexts.
      slots = 2;
      while (slots < largest && slots < kMaxAutomaticSlots)
        slots <<= 1;
    }
    e.slots = slots;
    if (partsFor(largest) > kMaxCiphertextsPerTensor)
      return source.emitError("a tensor of ")
             << largest << " slots as laid out takes more than "
             << kMaxCiphertextsPerTensor << " ciphertexts of " << slots
             << " slots";

    // The new function, with provisional levels.
    // Each tensor argument and result is as many consecutive ciphertexts
    // as its layout takes (see setTensorAttrs).
    SmallVector<Type> argTypes;
    for (Value a : source.getArguments()) {
      if (!fhe::isCipher(a.getType()))
        return emitError(a.getLoc(), "not yet supported: plain inputs of main "
                                     "(server-side run-time plaintexts)");
      argTypes.append(size_t(partsFor(extentOf(a))),
                      ckks::CiphertextType::get(ctx, kProvisionalTop, 1, 2));
    }
    b.setInsertionPoint(source);
    auto fn = func::FuncOp::create(b, source.getLoc(), "main",
                                   b.getFunctionType(argTypes, {}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    unsigned next = 0;
    for (Value a : source.getArguments()) {
      Parts &parts = ciphers[a];
      for (int64_t k = 0, n = partsFor(extentOf(a)); k < n; ++k) {
        setTensorAttrs(a, k, n, [&](StringRef name, Attribute attr) {
          fn.setArgAttr(next, name, attr);
        });
        parts.push_back(entry->getArgument(next++));
      }
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
    next = 0;
    for (Value v : source.getBody().front().getTerminator()->getOperands())
      for (int64_t k = 0, n = int64_t(ciphers.at(v).size()); k < n; ++k) {
        setTensorAttrs(v, k, n, [&](StringRef name, Attribute attr) {
          fn.setResultAttr(next, name, attr);
        });
        ++next;
      }
    unsigned depth = renumberLevels(fn);
    source.erase();
    module->setAttr("ckks.slots", b.getI64IntegerAttr(slots));
    module->setAttr("ckks.levels", b.getI64IntegerAttr(depth));
    if (!approximations.empty())
      module->setAttr(fhe::kApproximationsAttr, b.getArrayAttr(approximations));
    return success();
  }

private:
  /// Part k of n of tensor v in main's signature: its shape, its layout
  /// when padded, and for a tensor of several ciphertexts the part's index
  /// (part 0 starts a tensor).
  void setTensorAttrs(Value v, int64_t k, int64_t n,
                      llvm::function_ref<void(StringRef, Attribute)> set) {
    set("fhe.shape", b.getDenseI64ArrayAttr(shapeOf(v)));
    // Strided layouts never reach the signature (see the return).
    if (auto it = layouts.find(v); it != layouts.end()) {
      assert(!it->second.padded.empty() && "a strided layout in main's "
                                           "signature");
      set("fhe.layout", b.getDenseI64ArrayAttr(it->second.padded));
    }
    if (n > 1)
      set("fhe.part", b.getI64IntegerAttr(k));
  }

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
  // Layouts
  //
  // A cipher tensor's element with multi-index i sits at flat position
  // sum_k i_k stride_k of its layout (Layout), flat position p in slot
  // p % slots of ciphertext p / slots (Parts). Padded row-major layouts
  // (the strides of its shape with extents padded, shapes::paddedPositions)
  // are what main's signature records; inside the lowering a layout may
  // have any strides that keep elements apart, e.g. a strided
  // convolution's output kept in its input's grid with gaps (Lee et al.,
  // ICML 2022), so that its map, and the next layer's, keep few diagonals.
  // Slots inside the layout's extent (the last element's position + 1, or
  // the padded shape's size) that hold no element may hold anything (e.g.
  // f(0) after a nonlinear function); slots past it are zero. Ops that read
  // whole slot ranges (rotate-and-add reductions, rolls, reshapes) take a
  // compact copy first; linear maps read only elements; values returned in
  // a strided layout are compacted.
  //===--------------------------------------------------------------------===//

  struct Layout {
    std::vector<int64_t> strides;
    /// Slots [0, extent) are the value's.
    int64_t extent = 0;
    /// The padded shape of a padded row-major layout; empty for others.
    Shape padded;
    /// Channels multiplexed into a [C, H, W] grid's gaps (Lee et al., ICML
    /// 2022): with mux = g, channel c sits in block c / g^2 (strides[0]
    /// apart) at sub-position ((c / g) % g, c % g) of each g x g cell, whose
    /// pixels are strides[1], strides[2] apart (the sub-steps are those over
    /// g). A strided conv's output fills the cells its stride empties, so a
    /// tensor keeps to fewer ciphertexts; 1: plain strides.
    int64_t mux = 1;
    bool operator==(const Layout &o) const {
      return strides == o.strides && extent == o.extent && mux == o.mux;
    }
  };
  /// Flat positions of `shape`'s elements (row-major order) in `layout`.
  static std::vector<int64_t> positions(const Shape &shape,
                                        const Layout &layout) {
    if (layout.mux == 1)
      return shapes::stridedPositions(shape, layout.strides);
    const int64_t g = layout.mux, block = layout.strides[0],
                  row = layout.strides[1], col = layout.strides[2];
    std::vector<int64_t> pos;
    pos.reserve(size_t(shapes::numElements(shape)));
    for (int64_t c = 0; c < shape[0]; ++c)
      for (int64_t y = 0; y < shape[1]; ++y)
        for (int64_t x = 0; x < shape[2]; ++x)
          pos.push_back(c / (g * g) * block + (c / g) % g * (row / g) +
                        c % g * (col / g) + y * row + x * col);
    return pos;
  }
  static Layout paddedLayout(const Shape &padded) {
    return {shapes::strides(padded), shapes::numElements(padded), padded};
  }
  /// `shape` at `strides`, or nothing when two elements would share a
  /// position (each stride must pass the inner axes' span).
  static std::optional<Layout> stridedLayout(const Shape &shape,
                                             std::vector<int64_t> strides) {
    int64_t span = 0;
    for (size_t k = shape.size(); k-- > 0;) {
      if (shape[k] > 1 && strides[k] <= span)
        return std::nullopt;
      span += (shape[k] - 1) * strides[k];
    }
    return Layout{std::move(strides), span + 1, {}};
  }

  /// Batched rows ([..., n] -> [..., m] linear maps) cost 2 P - 1 diagonals
  /// when input and output rows share a stride P >= n, m, and up to B |n -
  /// m| more when they are compact. So main's inputs whose values reach such
  /// a map elementwise get their last axis padded to the widest one's P.
  void chooseInputLayouts() {
    rowStride = 0;
    llvm::SmallVector<Value> reach;
    source.walk([&](Operation *op) {
      Value in;
      int64_t n = 0, m = 0;
      if (auto l = dyn_cast<fhe::LinearOp>(op)) {
        in = l.getInput();
        n = shapeOf(l.getWeight())[1];
        m = shapeOf(l.getWeight())[0];
      } else if (auto mm = dyn_cast<fhe::MatMulOp>(op)) {
        Shape w = shapeOf(mm.getRhs());
        if (!fhe::isCipher(mm.getLhs().getType()) || w.size() != 2)
          return;
        in = mm.getLhs();
        n = w[0];
        m = w[1];
      }
      if (!in || shapeOf(in).size() < 2)
        return;
      rowStride = std::max(
          rowStride, int64_t(llvm::PowerOf2Ceil(uint64_t(std::max(n, m)))));
      reach.push_back(in);
    });
    llvm::DenseSet<Value> seen;
    while (!reach.empty()) {
      Value v = reach.pop_back_val();
      if (!seen.insert(v).second)
        continue;
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        Shape s = shapeOf(arg);
        if (fhe::isCipher(arg.getType()) && s.back() < rowStride) {
          s.back() = rowStride;
          layouts[arg] = paddedLayout(s);
        }
        continue;
      }
      Operation *def = v.getDefiningOp();
      if (!isa<fhe::AddOp, fhe::SubOp, fhe::MulOp, fhe::DivOp, fhe::NegOp,
               fhe::NonlinearOp, fhe::PolyOp, fhe::BootstrapOp, fhe::MaxMinOp>(
              def))
        continue;
      for (Value operand : def->getOperands())
        if (fhe::isCipher(operand.getType()) && shapeOf(operand) == shapeOf(v))
          reach.push_back(operand);
    }
  }

  /// The slots a value will take: its elements, with batched rows padded
  /// to the row stride.
  int64_t plannedExtent(Value v) const {
    if (!fhe::isCipher(v.getType()))
      return 1;
    Shape s = shapeOf(v);
    if (s.size() >= 2 && rowStride > s.back())
      s.back() = rowStride;
    return shapes::numElements(s);
  }

  Layout layoutOf(Value v) const {
    auto it = layouts.find(v);
    return it == layouts.end() ? paddedLayout(shapeOf(v)) : it->second;
  }
  /// Slots [0, extent) are the value's; constants fill them.
  int64_t extentOf(Value v) const { return layoutOf(v).extent; }
  std::vector<int64_t> positionsOf(Value v) const {
    return positions(shapeOf(v), layoutOf(v));
  }
  void setCipher(Value result, Parts cts, const Layout &layout) {
    ciphers[result] = std::move(cts);
    if (!(layout == paddedLayout(shapeOf(result))))
      layouts[result] = layout;
  }

  /// The ciphertexts that `extent` slot positions take.
  int64_t partsFor(int64_t extent) const {
    return std::max<int64_t>(1, (extent + slots - 1) / slots);
  }
  /// The positions of [0, extent) that part k holds.
  int64_t partExtent(int64_t extent, size_t k) const {
    return std::min(slots, extent - int64_t(k) * slots);
  }
  /// Part k's share of values placed by flat position.
  std::vector<double> partOf(const std::vector<double> &values,
                             size_t k) const {
    const size_t lo = std::min(values.size(), k * size_t(slots));
    const size_t hi = std::min(values.size(), lo + size_t(slots));
    return std::vector<double>(values.begin() + lo, values.begin() + hi);
  }
  /// f applied to each part (with its index).
  static Parts eachPart(const Parts &x,
                        llvm::function_ref<Value(Value, size_t)> f) {
    Parts out;
    for (auto [k, ct] : llvm::enumerate(x))
      out.push_back(f(ct, k));
    return out;
  }
  /// Part by part x + y (the same layout).
  Parts addParts(const Parts &x, const Parts &y) {
    return eachPart(x, [&](Value ct, size_t k) { return e.add(ct, y[k]); });
  }

  /// Plain values of `cipher`'s shape in its slots. A scalar fills every
  /// slot of the extent (mul_const then applies; spare slots are free).
  static std::vector<double> place(const Shape &shape, const Layout &layout,
                                   const std::vector<double> &values,
                                   bool scalar) {
    std::vector<double> slotsOut(size_t(layout.extent), 0.0);
    if (scalar) {
      std::fill(slotsOut.begin(), slotsOut.end(), values[0]);
      return slotsOut;
    }
    auto pos = positions(shape, layout);
    for (size_t i = 0; i < pos.size(); ++i)
      slotsOut[size_t(pos[i])] = values[i];
    return slotsOut;
  }
  std::vector<double> place(Value cipher, const std::vector<double> &values,
                            bool scalar) const {
    return place(shapeOf(cipher), layoutOf(cipher), values, scalar);
  }

  /// A linear map on flat slot positions: out[o] += value * in[i].
  struct MapEntry {
    int64_t out, in;
    double value;
  };

  /// Baby steps of slot-level maps on the same input ciphertext, shared
  /// between the maps to each output part: the doubled copies by (input,
  /// D) and the rotations by (operand, steps).
  struct SharedSteps {
    using Cache = std::map<std::pair<const void *, int64_t>, Value>;
    Cache doubled, rotated;
  };

  /// The map from `x` (positions [0, inExtent)) to `outExtent` positions:
  /// the slot-level map of each (output part, input part) pair with
  /// entries, summed per output part.
  Parts applyLinearMap(const Parts &x, int64_t inExtent, int64_t outExtent,
                       const std::vector<MapEntry> &entries) {
    SharedSteps shared;
    std::map<std::pair<int64_t, int64_t>, std::vector<MapEntry>> blocks;
    for (const MapEntry &m : entries)
      blocks[{m.out / slots, m.in / slots}].push_back(
          {m.out % slots, m.in % slots, m.value});
    Parts out;
    for (int64_t o = 0, n = partsFor(outExtent); o < n; ++o) {
      Value acc;
      for (auto it = blocks.lower_bound({o, 0});
           it != blocks.end() && it->first.first == o; ++it) {
        const size_t in = size_t(it->first.second);
        Value y =
            applySlotMap(x[in], partExtent(inExtent, in), it->second, &shared);
        acc = acc ? e.add(acc, y) : y;
      }
      // A part with no entries is zero.
      out.push_back(acc ? acc
                        : applySlotMap(x[0], partExtent(inExtent, 0), {}));
    }
    return out;
  }

  /// sum over `entries` by the diagonal method (Halevi-Shoup) with baby
  /// steps and giant steps: y = sum_s rot(sum_b d'_{s+b} rot(x2, b), s),
  /// d'_k diagonal k pre-rotated by its giant step s. With D the power of
  /// two past every position, x2 holds x at [0, D) and a copy at [D, 2D)
  /// (one rotation) so that rotations by up to D wrap within D, halving the
  /// diagonals of a square map; when 2D exceeds the slots, D is the slot
  /// count and rotations are cyclic already. The baby-step width is the
  /// power of two with the fewest rotations over the diagonals present.
  /// Products are summed at degree 2 and rescaled once: one level.
  Value applySlotMap(Value x, int64_t inExtent,
                     const std::vector<MapEntry> &entries,
                     SharedSteps *shared = nullptr) {
    int64_t top = inExtent - 1;
    for (const MapEntry &m : entries)
      top = std::max({top, m.out, m.in});
    int64_t d = int64_t(llvm::PowerOf2Ceil(uint64_t(top + 1)));
    const bool doubled = 2 * d <= slots;
    if (!doubled)
      d = slots;
    // Diagonal k: (output position, value) pairs.
    std::map<int64_t, std::vector<std::pair<int64_t, double>>> diagonals;
    for (const MapEntry &m : entries)
      if (m.value != 0)
        diagonals[((m.in - m.out) % d + d) % d].push_back({m.out, m.value});
    if (diagonals.empty())
      return e.mulConst(x, 0);
    int64_t g = 1, best = std::numeric_limits<int64_t>::max();
    for (int64_t w = 1; w <= d; w <<= 1) {
      std::set<int64_t> babies, giants;
      for (const auto &[k, unused] : diagonals) {
        babies.insert(k % w);
        giants.insert(k - k % w);
      }
      int64_t rotations = int64_t(babies.size() + giants.size()) -
                          babies.count(0) - giants.count(0);
      if (rotations < best) {
        best = rotations;
        g = w;
      }
    }
    // With `shared`, each baby step is made once per input ciphertext.
    auto once = [&](SharedSteps::Cache SharedSteps::*cache, Value v,
                    int64_t key, auto make) -> Value {
      if (!shared)
        return make();
      Value &slot = (shared->*cache)[{v.getAsOpaquePointer(), key}];
      if (!slot)
        slot = make();
      return slot;
    };
    Value x2 = x;
    if (doubled)
      x2 = once(&SharedSteps::doubled, x, d,
                [&] { return e.add(x, e.rotate(x, -d)); });
    std::map<int64_t, Value> babies;
    for (const auto &[k, unused] : diagonals)
      if (!babies.count(k % g))
        babies[k % g] = once(&SharedSteps::rotated, x2, k % g,
                             [&] { return e.rotate(x2, k % g); });
    Value acc;
    for (auto it = diagonals.begin(); it != diagonals.end();) {
      const int64_t s = it->first - it->first % g;
      Value inner;
      for (; it != diagonals.end() && it->first - it->first % g == s; ++it) {
        // d'[p + s] = diagonal k at output position p.
        std::vector<double> diag;
        for (auto [p, value] : it->second) {
          size_t at = size_t((p + s) % slots);
          if (diag.size() <= at)
            diag.resize(at + 1, 0.0);
          diag[at] = value;
        }
        Value baby = babies.at(it->first % g);
        Value term = ckks::MulPlainOp::create(
            b, loc, baby, e.encode(diag, ctType(baby).getLevel()));
        inner = inner ? e.add(inner, term) : term;
      }
      Value part = e.rotate(inner, s);
      acc = acc ? e.add(acc, part) : part;
    }
    return ckks::RescaleOp::create(b, loc, acc);
  }

  /// The value's ciphertexts with its elements in row-major order from
  /// position 0 and zeros elsewhere.
  Parts compact(Value v) {
    if (!layouts.count(v))
      return ciphers.at(v);
    auto it = compacted.find(v);
    if (it != compacted.end())
      return it->second;
    Parts c = relayout(v, paddedLayout(shapeOf(v)));
    compacted[v] = c;
    return c;
  }

  /// How a relayout of `shape` from `from` to `to` goes: `steps` (empty:
  /// one map), its diagonals and levels. Moving every element at once is
  /// one map with a diagonal per distinct distance moved: up to one per
  /// element when a gapped layout is compacted (each (y, x) moves by its
  /// own amount). Moving one axis at a time (innermost first, each step a
  /// valid layout) is a map of n_k diagonals per axis whose stride changes,
  /// one level each. A level is weighed as doubling the diagonals.
  struct RelayoutPlan {
    std::vector<Layout> steps;
    int64_t diagonals = 0, levels = 0;
    int64_t weight() const { return diagonals << (levels - 1); }
  };
  static int64_t distinctDistances(const std::vector<int64_t> &in,
                                   const std::vector<int64_t> &out) {
    std::set<int64_t> distances;
    for (size_t i = 0; i < in.size(); ++i)
      distances.insert(in[i] - out[i]);
    return int64_t(distances.size());
  }
  static RelayoutPlan planRelayout(const Shape &shape, const Layout &from,
                                   const Layout &to) {
    RelayoutPlan oneMap{
        {}, distinctDistances(positions(shape, from), positions(shape, to)), 1};
    // Axis by axis only between plain strided layouts.
    if (from.mux != 1 || to.mux != 1)
      return oneMap;
    RelayoutPlan staged;
    std::vector<int64_t> strides = from.strides;
    for (size_t k = shape.size(); k-- > 0;) {
      if (strides[k] == to.strides[k] || shape[k] == 1)
        continue;
      strides[k] = to.strides[k];
      auto mid = stridedLayout(shape, strides);
      if (!mid)
        return oneMap;
      staged.steps.push_back(*mid);
      staged.diagonals += shape[k];
      ++staged.levels;
    }
    if (staged.levels < 2 || staged.weight() > oneMap.weight())
      return oneMap;
    staged.steps.back() = to;
    return staged;
  }

  /// The value's ciphertexts in layout `to` (planRelayout).
  Parts relayout(Value v, const Layout &to) {
    const Layout from = layoutOf(v);
    if (from == to)
      return ciphers.at(v);
    const Shape shape = shapeOf(v);
    if (to == paddedLayout(shape) && compacted.count(v))
      return compacted.at(v);
    auto move = [&](const Parts &x, const Layout &a, const Layout &t) {
      auto in = positions(shape, a);
      auto out = positions(shape, t);
      std::vector<MapEntry> entries;
      for (size_t i = 0; i < in.size(); ++i)
        entries.push_back({out[i], in[i], 1.0});
      return applyLinearMap(x, a.extent, t.extent, entries);
    };
    RelayoutPlan plan = planRelayout(shape, from, to);
    if (plan.steps.empty())
      return move(ciphers.at(v), from, to);
    Parts x = ciphers.at(v);
    Layout at = from;
    for (const Layout &step : plan.steps) {
      x = move(x, at, step);
      at = step;
    }
    return x;
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
        .Case<fhe::NonlinearOp>([&](auto n) { lowerNonlinear(n); })
        .Case<fhe::MaxMinOp>([&](auto m) { lowerMaxMin(m); })
        .Case<fhe::BootstrapOp>([&](fhe::BootstrapOp bs) {
          // A fresh top; ckks-place-bootstraps lowers it to the level its
          // uses need.
          Value in = bs.getInput();
          setCipher(bs.getResult(),
                    eachPart(ciphers.at(in),
                             [&](Value ct, size_t) -> Value {
                               return ckks::BootstrapOp::create(
                                   b, loc,
                                   ckks::CiphertextType::get(
                                       b.getContext(), kProvisionalTop, 1, 2),
                                   ct);
                             }),
                    layoutOf(in));
        })
        .Case<fhe::LinearOp>([&](auto l) { lowerLinear(l); })
        .Case<fhe::MatMulOp>([&](auto m) { lowerMatMul(m); })
        .Case<fhe::SliceOp, fhe::IndexOp>([&](auto s) { lowerSelect(op); })
        .Case<fhe::ConcatOp>([&](auto c) { lowerConcat(c); })
        .Case<fhe::TransposeOp>([&](auto t) { lowerTranspose(t); })
        .Case<fhe::Conv2dOp>([&](auto c) { lowerConv2d(c); })
        .Case<fhe::AvgPool2dOp, fhe::GlobalAvgPoolOp>(
            [&](auto) { lowerPool(op); })
        .Case<fhe::BatchNormOp>([&](auto bn) { lowerBatchNorm(bn); })
        .Case<fhe::ReshapeOp>([&](auto r) {
          // Row-major order is unchanged: the same slots, once compact.
          if (isCipherValue(r.getInput()))
            ciphers[r.getResult()] = compact(r.getInput());
          else
            plains(r.getResult()) = {shapeOf(r.getResult()),
                                     plain(op, r.getInput()).values};
        })
        .Case<func::ReturnOp>([&](auto r) {
          // main's results are padded row-major: strided ones are compacted.
          for (Value v : r.getOperands())
            if (auto it = layouts.find(v);
                it != layouts.end() && it->second.padded.empty()) {
              Parts c = compact(v);
              ciphers[v] = c;
              layouts.erase(v);
            }
          SmallVector<Value> results;
          for (Value v : r.getOperands())
            llvm::append_range(results, ciphers.at(v));
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

  /// A cipher operand broadcast to `shape` (NumPy rules) by a linear map
  /// that copies each element to the positions it fills; compact result.
  Parts broadcastCipher(Value v, const Shape &shape) {
    const Shape from = shapeOf(v);
    const int64_t n = shapes::numElements(shape);
    std::vector<double> index(size_t(shapes::numElements(from)));
    for (size_t i = 0; i < index.size(); ++i)
      index[i] = double(i);
    auto source = shapes::broadcastValues(from, index, shape);
    auto pos = positionsOf(v);
    std::vector<MapEntry> entries;
    for (int64_t i = 0; i < n; ++i)
      entries.push_back({i, pos[size_t(source[size_t(i)])], 1.0});
    return applyLinearMap(ciphers.at(v), extentOf(v), n, entries);
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
    if (cl && cr) {
      // Both in one layout: the left one's when both have the result's
      // shape (the right one converted if it differs), else compact.
      Parts x, y;
      Layout layout = paddedLayout(shape);
      if (shapeOf(lhs) == shape && shapeOf(rhs) == shape) {
        layout = layoutOf(lhs);
        x = ciphers.at(lhs);
        y = layouts.count(lhs) ? relayout(rhs, layout) : compact(rhs);
      } else {
        x = shapeOf(lhs) == shape ? compact(lhs) : broadcastCipher(lhs, shape);
        y = shapeOf(rhs) == shape ? compact(rhs) : broadcastCipher(rhs, shape);
      }
      setCipher(result,
                eachPart(x,
                         [&](Value xk, size_t k) {
                           if (isa<fhe::AddOp>(op))
                             return e.add(xk, y[k]);
                           if (isa<fhe::SubOp>(op))
                             return e.sub(xk, y[k]);
                           // Div by a cipher is rejected by sema.
                           return e.mul(xk, y[k]);
                         }),
                layout);
      return;
    }
    Value cipherOperand = cl ? lhs : rhs;
    if (shapeOf(cipherOperand) != shape) {
      // Broadcast the cipher operand first; the plain one then has the
      // result's shape and the compact layout.
      Parts wide = broadcastCipher(cipherOperand, shape);
      lowerCipherPlain(op, wide, paddedLayout(shape), cl, cl ? rhs : lhs);
      return;
    }
    lowerCipherPlain(op, ciphers.at(cipherOperand), layoutOf(cipherOperand), cl,
                     cl ? rhs : lhs);
  }

  /// ct (of the result's shape, laid out by `layout`) op the plain operand.
  void lowerCipherPlain(Operation &op, const Parts &ct, const Layout &layout,
                        bool cipherOnLeft, Value plainOperand) {
    Value result = op.getResult(0);
    const Shape shape = shapeOf(result);
    const PlainTensor &pt = plain(op, plainOperand);
    const bool scalar = pt.values.size() == 1;
    std::vector<double> values = broadcastTo(pt, shape);
    auto placed = [&](const std::vector<double> &v) {
      return place(shape, layout, v, scalar);
    };
    const int64_t extent = layout.extent;
    auto addPlain = [&](const std::vector<double> &v, bool negate) {
      return eachPart(ct, [&](Value x, size_t k) {
        return e.addPlain(negate ? e.negate(x) : x, partOf(v, k));
      });
    };
    auto mulValues = [&](const std::vector<double> &v) {
      return eachPart(ct, [&](Value x, size_t k) {
        return e.mulValues(x, partOf(v, k), partExtent(extent, k));
      });
    };
    Parts out;
    if (isa<fhe::AddOp>(op)) {
      out = addPlain(placed(values), false);
    } else if (isa<fhe::SubOp>(op)) {
      if (cipherOnLeft) {
        for (double &v : values)
          v = -v;
        out = addPlain(placed(values), false);
      } else { // plain - cipher
        out = addPlain(placed(values), true);
      }
    } else if (isa<fhe::MulOp>(op)) {
      out = mulValues(placed(values));
    } else { // cipher / plain
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] == 0)
          throw InvalidProgram{
              scalar ? std::string("division by zero")
                     : "division by zero: the divisor is 0 at flat index " +
                           std::to_string(i),
              op.getLoc()};
        values[i] = 1 / values[i];
      }
      out = mulValues(placed(values));
    }
    setCipher(result, out, layout);
  }

  void lowerNeg(Operation &op, Value in) {
    if (isCipherValue(in)) {
      setCipher(op.getResult(0),
                eachPart(ciphers.at(in),
                         [&](Value ct, size_t) { return e.negate(ct); }),
                layoutOf(in));
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
    if (n > slots) {
      // Over several ciphertexts: the permutation as a linear map.
      std::vector<double> index(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        index[size_t(i)] = double(i);
      auto source = shapes::rollValues(shape, index, shift, axis);
      lowerGather(op, in,
                  [&](int64_t i) { return int64_t(source[size_t(i)]); });
      return;
    }
    Value x = compact(in)[0];
    if (k == 0) {
      ciphers[r.getResult()] = {x};
      return;
    }
    // out[i] = x[i - k stride] where idx_axis >= k, else x[i + (na - k)
    // stride]. A 1-D tensor filling every slot is one cyclic rotation.
    if (shape.size() == 1 && n == slots) {
      ciphers[r.getResult()] = {e.rotate(x, -k)};
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
    ciphers[r.getResult()] = {e.add(part1, part2)};
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
    const int64_t n = shapes::numElements(shape);
    if (!axis) {
      // The compact parts summed, then rotate-and-add leaves the total in
      // every slot (the padding is zero); keep slot 0 only, scaled by 1/n
      // for the mean.
      Parts parts = compact(in);
      Value s = parts[0];
      for (Value part : ArrayRef<Value>(parts).drop_front())
        s = e.add(s, part);
      for (int64_t step = 1; step < slots; step <<= 1)
        s = e.add(s, e.rotate(s, step));
      ciphers[op.getResult(0)] = {
          e.mulPlain(s, {mean ? 1.0 / double(n) : 1.0})};
      return;
    }
    const int64_t na = shape[*axis], stride = shapes::strides(shape)[*axis];
    const int64_t outer = n / (na * stride);
    const double weight = mean ? 1.0 / double(na) : 1.0;
    if (n > slots) {
      // Over several ciphertexts: the reduction as a linear map.
      auto pos = positionsOf(in);
      std::vector<MapEntry> entries;
      for (int64_t i = 0; i < n; ++i)
        entries.push_back(
            {i / (na * stride) * stride + i % stride, pos[size_t(i)], weight});
      ciphers[op.getResult(0)] =
          applyLinearMap(ciphers.at(in), extentOf(in), n / na, entries);
      return;
    }
    Value s = compact(in)[0];
    // Along the axis: after the additions, the slots whose index on the
    // axis is 0 hold their block's sum (a power-of-two extent doubles the
    // reach; others add one shifted copy at a time).
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
    Value out;
    for (int64_t o = 0; o < outer; ++o) {
      std::vector<double> mask(size_t(o * na * stride + stride), 0.0);
      for (int64_t j = 0; j < stride; ++j)
        mask[size_t(o * na * stride + j)] = weight;
      Value part = e.rotate(e.mulPlain(s, mask), o * (na - 1) * stride);
      out = out ? e.add(out, part) : part;
    }
    ciphers[op.getResult(0)] = {out};
  }

  /// A result computed from one operand by a linear map: `sourceOf(i)` is
  /// the flat (row-major) index in the operand of result element i, or -1
  /// for a zero. Plain operands are folded; cipher ones get a compact
  /// result.
  void lowerGather(Operation &op, Value in,
                   const std::function<int64_t(int64_t)> &sourceOf) {
    Value result = op.getResult(0);
    const int64_t n = numElements(result);
    if (!isCipherValue(in)) {
      const PlainTensor &t = plain(op, in);
      std::vector<double> out(size_t(n), 0.0);
      for (int64_t i = 0; i < n; ++i)
        if (int64_t j = sourceOf(i); j >= 0)
          out[size_t(i)] = t.values[size_t(j)];
      plains(result) = {shapeOf(result), std::move(out)};
      return;
    }
    auto pos = positionsOf(in);
    std::vector<MapEntry> entries;
    for (int64_t i = 0; i < n; ++i)
      if (int64_t j = sourceOf(i); j >= 0)
        entries.push_back({i, pos[size_t(j)], 1.0});
    ciphers[result] = applyLinearMap(ciphers.at(in), extentOf(in), n, entries);
  }

  /// a[lo:hi] and a[i] on the first axis.
  void lowerSelect(Operation &op) {
    Value in = op.getOperand(0);
    const Shape shape = shapeOf(in);
    const int64_t inner = shapes::numElements(shape) / shape[0];
    int64_t lo;
    if (auto s = dyn_cast<fhe::SliceOp>(op))
      lo = static_cast<int64_t>(s.getLo());
    else
      lo = static_cast<int64_t>(cast<fhe::IndexOp>(op).getIndex());
    lowerGather(op, in, [&](int64_t i) { return lo * inner + i; });
  }

  void lowerTranspose(fhe::TransposeOp t) {
    const Shape in = shapeOf(t.getInput()), out = shapeOf(t.getResult());
    std::vector<int64_t> perm(t.getPerm().begin(), t.getPerm().end());
    if (perm.empty())
      for (size_t k = in.size(); k-- > 0;)
        perm.push_back(int64_t(k));
    const auto inStrides = shapes::strides(in);
    lowerGather(*t, t.getInput(), [&](int64_t i) {
      // out index (o_0..o_r) reads in index with in[perm[k]] = o_k.
      int64_t src = 0;
      for (size_t k = out.size(); k-- > 0;) {
        src += (i % out[k]) * inStrides[size_t(perm[k])];
        i /= out[k];
      }
      return src;
    });
  }

  void lowerConcat(fhe::ConcatOp c) {
    Operation &op = *c;
    const Shape out = shapeOf(c.getResult());
    int64_t axis = static_cast<int64_t>(c.getAxis());
    shapes::normalizeAxis(axis, out.size());
    const auto outStrides = shapes::strides(out);
    // Each part fills the result elements whose index on the axis falls in
    // its range.
    int64_t offset = 0;
    Parts acc;
    std::vector<double> folded(size_t(shapes::numElements(out)), 0.0);
    bool anyPlain = false;
    for (Value part : c.getInputs()) {
      const Shape ps = shapeOf(part);
      const auto psStrides = shapes::strides(ps);
      const int64_t width = ps[size_t(axis)], start = offset;
      offset += width;
      auto sourceOf = [&](int64_t i) -> int64_t {
        int64_t at = (i / outStrides[size_t(axis)]) % out[size_t(axis)];
        if (at < start || at >= start + width)
          return -1;
        int64_t src = 0, rest = i;
        for (size_t k = out.size(); k-- > 0;) {
          int64_t idx = rest % out[k];
          rest /= out[k];
          if (int64_t(k) == axis)
            idx -= start;
          src += idx * psStrides[k];
        }
        return src;
      };
      const int64_t n = shapes::numElements(out);
      if (!isCipherValue(part)) {
        const PlainTensor &t = plain(op, part);
        for (int64_t i = 0; i < n; ++i)
          if (int64_t j = sourceOf(i); j >= 0)
            folded[size_t(i)] = t.values[size_t(j)];
        anyPlain = true;
        continue;
      }
      auto pos = positionsOf(part);
      std::vector<MapEntry> entries;
      for (int64_t i = 0; i < n; ++i)
        if (int64_t j = sourceOf(i); j >= 0)
          entries.push_back({i, pos[size_t(j)], 1.0});
      Parts placed =
          applyLinearMap(ciphers.at(part), extentOf(part), n, entries);
      acc = acc.empty() ? placed : addParts(acc, placed);
    }
    if (acc.empty()) {
      plains(c.getResult()) = {out, std::move(folded)};
      return;
    }
    ciphers[c.getResult()] =
        anyPlain ? eachPart(acc,
                            [&](Value ct, size_t k) {
                              return e.addPlain(ct, partOf(folded, k));
                            })
                 : acc;
  }

  /// Σ c_k x^k, or Σ c_k T_k(t) with t the affine map of the range onto
  /// [-1, 1] (chebyshev); constants fill the tensor's slots only.
  void lowerPoly(fhe::PolyOp p) {
    Operation &op = *p;
    if (!isCipherValue(p.getInput()))
      unsupported(op, "poly on a plaintext (fold it in the program)");
    Value in = p.getInput();
    const int64_t extent = extentOf(in);
    setCipher(p.getResult(),
              eachPart(ciphers.at(in),
                       [&](Value x, size_t k) {
                         const int64_t n = partExtent(extent, k);
                         return p.getBasis() == "chebyshev"
                                    ? e.chebyshevSeries(x, p.getCoefficients(),
                                                        p.getRange()[0],
                                                        p.getRange()[1], n)
                                    : e.powerSeries(x, p.getCoefficients(), n);
                       }),
              layoutOf(in));
  }

  /// The approximation the op gets (fhe::approximationOf: the evaluator of
  /// --plain --approx runs the same one), listed for --emit stats.
  approx::Approximation approximationFor(Operation &op) {
    auto result = fhe::approximationOf(op, precision);
    if (auto *why = std::get_if<std::string>(&result))
      throw InvalidProgram{*why, op.getLoc()};
    auto a = std::get<approx::Approximation>(std::move(result));
    unsigned line = 0;
    if (auto fl = dyn_cast<FileLineColLoc>(op.getLoc()))
      line = fl.getLine();
    approximations.push_back(
        b.getStringAttr("line " + std::to_string(line) + ": " + a.describe()));
    return a;
  }

  /// The approximation's program on a ciphertext; constants fill `n` slots.
  Value emitApproximation(Value x, const approx::Approximation &a, int64_t n) {
    std::vector<Value> values{x};
    for (const approx::Step &step : a.steps) {
      using Kind = approx::Step::Kind;
      switch (step.kind) {
      case Kind::Chebyshev:
        values.push_back(e.chebyshevSeries(values[step.a], step.coeffs, step.lo,
                                           step.hi, n));
        break;
      case Kind::Product:
        values.push_back(e.mul(values[step.a], values[step.b]));
        break;
      case Kind::Affine: {
        auto term = [&](unsigned i, double c) -> Value {
          if (c == 0)
            return {};
          if (c == 1)
            return values[i];
          if (c == -1)
            return e.negate(values[i]);
          if (approx::isIntegerFactor(c))
            return e.mulInt(values[i], int64_t(c));
          return e.mulConst(values[i], c);
        };
        Value ta = term(step.a, step.ca), tb = term(step.b, step.cb);
        Value sum = ta && tb ? e.add(ta, tb) : (ta ? ta : tb);
        if (!sum)
          sum = e.mulConst(x, 0);
        values.push_back(step.c0 != 0 ? e.addConst(sum, step.c0, n) : sum);
        break;
      }
      }
    }
    return values.back();
  }

  void lowerNonlinear(fhe::NonlinearOp nl) {
    Operation &op = *nl;
    Value in = nl.getInput();
    const StringRef fn = nl.getFunction();
    if (!isCipherValue(in)) {
      PlainTensor t = plain(op, in);
      for (double &v : t.values)
        v = dsl::evaluateNonlinear(fn, v);
      plains(nl.getResult()) = std::move(t);
      return;
    }
    auto a = approximationFor(op);
    const int64_t extent = extentOf(in);
    setCipher(nl.getResult(),
              eachPart(ciphers.at(in),
                       [&](Value x, size_t k) {
                         return emitApproximation(x, a, partExtent(extent, k));
                       }),
              layoutOf(in));
  }

  /// max(a, b) = (a + b) / 2 + |a - b| / 2 and min with the sign flipped,
  /// |a - b| by the approximation of abs on [-(hi - lo), hi - lo].
  void lowerMaxMin(fhe::MaxMinOp mm) {
    Operation &op = *mm;
    Value lhs = mm.getLhs(), rhs = mm.getRhs(), result = mm.getResult();
    const Shape shape = shapeOf(result);
    const bool cl = isCipherValue(lhs), cr = isCipherValue(rhs);
    const double sign = mm.getIsMax() ? 1 : -1;
    if (!cl && !cr) {
      auto x = broadcastTo(plain(op, lhs), shape);
      auto y = broadcastTo(plain(op, rhs), shape);
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = sign > 0 ? std::max(x[i], y[i]) : std::min(x[i], y[i]);
      plains(result) = {shape, std::move(x)};
      return;
    }
    auto asCipher = [&](Value v) {
      return shapeOf(v) == shape ? compact(v) : broadcastCipher(v, shape);
    };
    auto a = approximationFor(op);
    const int64_t n = shapes::numElements(shape);
    std::vector<double> p;
    if (!(cl && cr))
      p = broadcastTo(plain(op, cl ? rhs : lhs), shape);
    Parts xs = asCipher(cl ? lhs : rhs);
    Parts y = cl && cr ? asCipher(rhs) : Parts();
    ciphers[result] = eachPart(xs, [&](Value x, size_t k) {
      Value sum, diff;
      if (cl && cr) {
        sum = e.add(x, y[k]);
        diff = e.sub(x, y[k]);
      } else {
        // cipher op plain: diff = +-(x - p), the same |.|.
        std::vector<double> pk = partOf(p, k);
        sum = e.addPlain(x, pk);
        for (double &v : pk)
          v = -v;
        diff = e.addPlain(x, pk);
      }
      Value magnitude = emitApproximation(diff, a, partExtent(n, k));
      return e.add(e.mulConst(sum, 0.5), e.mulConst(magnitude, 0.5 * sign));
    });
  }

  /// y[..., i] = sum_j W(i, j) x[..., j] + bias[i] on the last axis of a
  /// cipher x [..., n]. Batched rows keep the input's row stride when the
  /// output rows fit it, so that the map has 2 P - 1 diagonals.
  void lowerRowMap(Operation &op, Value in, int64_t m,
                   const std::function<double(int64_t, int64_t)> &weight,
                   const PlainTensor *bias) {
    const Shape inShape = shapeOf(in);
    // A strided input is read where it is; the output rows are padded.
    const Shape inLayout =
        layoutOf(in).padded.empty() ? inShape : layoutOf(in).padded;
    const int64_t n = inShape.back();
    const int64_t rows = shapes::numElements(inShape) / n;
    Shape outShape = shapeOf(op.getResult(0)), outLayout = outShape;
    if (inShape.size() >= 2) {
      outLayout = inLayout;
      outLayout.back() =
          std::max(inLayout.back(), int64_t(llvm::PowerOf2Ceil(uint64_t(m))));
    }
    auto inPos = positionsOf(in);
    auto outPos = shapes::paddedPositions(outShape, outLayout);
    std::vector<MapEntry> entries;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          if (double w = weight(i, j); w != 0)
            entries.push_back(
                {outPos[size_t(r * m + i)], inPos[size_t(r * n + j)], w});
    Parts y = applyLinearMap(ciphers.at(in), extentOf(in),
                             shapes::numElements(outLayout), entries);
    Value result = op.getResult(0);
    setCipher(result, y, paddedLayout(outLayout));
    if (bias) {
      std::vector<double> bv =
          place(result, broadcastTo(*bias, outShape), false);
      setCipher(
          result,
          eachPart(y, [&](Value ct,
                          size_t k) { return e.addPlain(ct, partOf(bv, k)); }),
          paddedLayout(outLayout));
    }
  }

  void lowerLinear(fhe::LinearOp l) {
    Operation &op = *l;
    if (!isCipherValue(l.getInput()))
      unsupported(op, "linear on a plaintext input (fold it in the program)");
    const PlainTensor &w = plain(op, l.getWeight());
    const int64_t m = w.shape[0], n = w.shape[1];
    std::optional<PlainTensor> bias;
    if (l.getBias())
      bias = plain(op, l.getBias());
    lowerRowMap(
        op, l.getInput(), m,
        [&](int64_t i, int64_t j) { return w.values[size_t(i * n + j)]; },
        bias ? &*bias : nullptr);
  }

  /// cipher @ cipher, NumPy matmul semantics (rank-1 promotion, batch
  /// broadcasting). Matrices: in d x d blocks (d the power of two covering
  /// m, k, n), C = sum_l phi_l(sigma A) * psi_l(tau B) with sigma A[i, j] =
  /// A[i, i + j], tau B[i, j] = B[i + j, j] and phi_l, psi_l the cyclic
  /// shifts of columns and rows by l (Jiang, Kim, Lauter, Song, CCS 2018):
  /// sigma and tau are maps of 2d - 1 diagonals, each shift a map of two,
  /// so d products and about 4d rotations in three levels, where
  /// replicating A[:, l] and B[l, :] for every l would cost maps of ~d^2
  /// diagonals. A vector operand replicates (its maps are small).
  void lowerCipherMatMul(fhe::MatMulOp mm) {
    Value lhs = mm.getLhs(), rhs = mm.getRhs(), result = mm.getResult();
    const bool vectors = shapeOf(lhs).size() == 1 || shapeOf(rhs).size() == 1;
    Shape a = shapeOf(lhs), bs = shapeOf(rhs);
    if (a.size() == 1)
      a.insert(a.begin(), 1);
    if (bs.size() == 1)
      bs.push_back(1);
    const int64_t m = a[a.size() - 2], k = a.back(), n = bs.back();
    Shape batchA(a.begin(), a.end() - 2), batchB(bs.begin(), bs.end() - 2);
    Shape batch = shapes::broadcast(batchA, batchB).shape;
    const int64_t nb = shapes::numElements(batch);
    // The flat batch index of each operand for each result batch.
    auto batchSource = [&](const Shape &from) {
      std::vector<double> index(size_t(shapes::numElements(from)));
      for (size_t i = 0; i < index.size(); ++i)
        index[i] = double(i);
      return shapes::broadcastValues(from, index, batch);
    };
    auto srcA = batchSource(batchA), srcB = batchSource(batchB);
    auto posA = positionsOf(lhs), posB = positionsOf(rhs);
    auto atA = [&](int64_t t, int64_t i, int64_t l) {
      return posA[size_t((int64_t(srcA[size_t(t)]) * m + i) * k + l)];
    };
    auto atB = [&](int64_t t, int64_t l, int64_t j) {
      return posB[size_t((int64_t(srcB[size_t(t)]) * k + l) * n + j)];
    };
    auto product = [&](const Parts &x, const Parts &y) {
      return eachPart(x, [&](Value xp, size_t p) { return e.mul(xp, y[p]); });
    };
    Parts acc;
    if (vectors) {
      const int64_t outExtent = nb * m * n;
      for (int64_t l = 0; l < k; ++l) {
        std::vector<MapEntry> ea, eb;
        for (int64_t t = 0; t < nb; ++t)
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              const int64_t out = (t * m + i) * n + j;
              ea.push_back({out, atA(t, i, l), 1.0});
              eb.push_back({out, atB(t, l, j), 1.0});
            }
        Parts term = product(
            applyLinearMap(ciphers.at(lhs), extentOf(lhs), outExtent, ea),
            applyLinearMap(ciphers.at(rhs), extentOf(rhs), outExtent, eb));
        acc = acc.empty() ? term : addParts(acc, term);
      }
      ciphers[result] = acc;
      return;
    }
    const int64_t d =
        int64_t(llvm::PowerOf2Ceil(uint64_t(std::max({m, k, n}))));
    const int64_t extent = nb * d * d;
    auto at = [&](int64_t t, int64_t i, int64_t j) {
      return (t * d + i) * d + j;
    };
    std::vector<MapEntry> sigma, tau;
    for (int64_t t = 0; t < nb; ++t)
      for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j) {
          const int64_t c = (i + j) % d;
          if (i < m && c < k)
            sigma.push_back({at(t, i, j), atA(t, i, c), 1.0});
          if (c < k && j < n)
            tau.push_back({at(t, i, j), atB(t, c, j), 1.0});
        }
    Parts sa = applyLinearMap(ciphers.at(lhs), extentOf(lhs), extent, sigma);
    Parts tb = applyLinearMap(ciphers.at(rhs), extentOf(rhs), extent, tau);
    for (int64_t l = 0; l < d; ++l) {
      std::vector<MapEntry> phi, psi;
      for (int64_t t = 0; t < nb; ++t)
        for (int64_t i = 0; i < d; ++i)
          for (int64_t j = 0; j < d; ++j) {
            phi.push_back({at(t, i, j), at(t, i, (j + l) % d), 1.0});
            psi.push_back({at(t, i, j), at(t, (i + l) % d, j), 1.0});
          }
      Parts term = product(applyLinearMap(sa, extent, extent, phi),
                           applyLinearMap(tb, extent, extent, psi));
      acc = acc.empty() ? term : addParts(acc, term);
    }
    // The [m, n] corner of each d x d block: the result's layout.
    Shape layout = shapeOf(result);
    layout[layout.size() - 2] = d;
    layout.back() = d;
    setCipher(result, acc, paddedLayout(layout));
  }

  /// cipher @ plain matrix and plain matrix @ cipher (plain batches are
  /// later work).
  void lowerMatMul(fhe::MatMulOp mm) {
    Operation &op = *mm;
    Value lhs = mm.getLhs(), rhs = mm.getRhs();
    const bool cl = isCipherValue(lhs), cr = isCipherValue(rhs);
    if (cl && cr) {
      lowerCipherMatMul(mm);
      return;
    }
    if (!cl && !cr) {
      const PlainTensor &a = plain(op, lhs), &bt = plain(op, rhs);
      plains(mm.getResult()) = {
          shapeOf(mm.getResult()),
          shapes::matmulValues(a.shape, a.values, bt.shape, bt.values)};
      return;
    }
    if (cl) {
      const PlainTensor &w = plain(op, rhs);
      if (w.shape.size() != 2)
        unsupported(op, "cipher @ plain with a plain operand of rank " +
                            std::to_string(w.shape.size()));
      const int64_t m = w.shape[1];
      lowerRowMap(
          op, lhs, m,
          [&](int64_t i, int64_t j) { return w.values[size_t(j * m + i)]; },
          nullptr);
      return;
    }
    // plain [m, n] @ cipher [n] or [n, k]: out[i, c] = sum_j W[i, j] x[j, c].
    const PlainTensor &w = plain(op, lhs);
    const Shape xs = shapeOf(rhs);
    if (w.shape.size() != 2 || xs.size() > 2)
      unsupported(op, "plain @ cipher beyond a matrix times a vector or "
                      "matrix");
    const int64_t m = w.shape[0], n = w.shape[1];
    const int64_t k = xs.size() == 2 ? xs[1] : 1;
    auto pos = positionsOf(rhs);
    std::vector<MapEntry> entries;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (double v = w.values[size_t(i * n + j)]; v != 0)
          for (int64_t c = 0; c < k; ++c)
            entries.push_back({i * k + c, pos[size_t(j * k + c)], v});
    ciphers[mm.getResult()] =
        applyLinearMap(ciphers.at(rhs), extentOf(rhs), m * k, entries);
  }

  /// Where a conv2d or avgpool2d of stride s keeps its output [O, Ho, Wo]:
  /// in its input's grid, element (o, y, x) at the position of input pixel
  /// (o, s y, s x) (the input's channel stride, s times its row and column
  /// strides), so that an output element and the input pixels it reads are
  /// the same distance apart for every (y, x) and the map's diagonals are
  /// the taps times the channel offsets (Lee et al., ICML 2022). Compact
  /// where the grid cannot hold the output.
  ///
  /// When that grid needs more ciphertexts than the input, the output's
  /// channels are multiplexed into the cells the stride empties instead
  /// (Layout::mux): fewer ciphertexts for every later op (bootstraps and
  /// nonlinear functions above all), for a few more diagonals per map. A
  /// multiplexed input's strided map multiplexes further, its stride-1 map
  /// keeps the layout: compact positions are no translation of multiplexed
  /// ones (a map between them has a diagonal per pixel row), and a block's
  /// residual add would meet its multiplexed shortcut. ResNet-20: 8% less
  /// time by the cost model, a third less arena, than compact outputs.
  Layout gridLayout(Value in, const Shape &out, int64_t stride) const {
    const Layout l = layoutOf(in);
    std::optional<Layout> grid;
    if (l.mux != 1) {
      grid = multiplexedLayout(l, out, stride);
    } else {
      grid = stridedLayout(
          out, {l.strides[0], stride * l.strides[1], stride * l.strides[2]});
      if (stride > 1 && (!grid || partsFor(grid->extent) > partsFor(l.extent)))
        if (auto mux = multiplexedLayout(l, out, stride))
          if (!grid || partsFor(mux->extent) < partsFor(grid->extent))
            grid = mux;
    }
    if (!grid || partsFor(grid->extent) > kMaxCiphertextsPerTensor)
      return paddedLayout(out);
    return *grid;
  }
  /// `out` = [C, H / stride, W / stride] in the grid of `in`'s layout with
  /// its multiplexing times `stride`, or nothing if the grid's steps do not
  /// split into the finer sub-steps or two elements would meet.
  static std::optional<Layout>
  multiplexedLayout(const Layout &in, const Shape &out, int64_t stride) {
    if (in.strides.size() != 3 || out.size() != 3)
      return std::nullopt;
    Layout l;
    l.mux = in.mux * stride;
    l.strides = {in.strides[0], stride * in.strides[1], stride * in.strides[2]};
    if (l.strides[1] % l.mux || l.strides[2] % l.mux)
      return std::nullopt;
    auto pos = positions(out, l);
    std::set<int64_t> distinct(pos.begin(), pos.end());
    if (distinct.size() != pos.size() || *distinct.begin() < 0)
      return std::nullopt;
    l.extent = *distinct.rbegin() + 1;
    return l;
  }

  /// The layout of a conv2d's or avgpool2d's output, given its map's
  /// entries by output element: the input's grid (gridLayout), or compact
  /// where the result only goes to main's results and the grid's map plus
  /// the compaction (planRelayout) weigh more than one map to compact
  /// positions. The entries' outputs become positions of that layout.
  Layout placeGridOutput(Value result, Value in, int64_t stride,
                         std::vector<MapEntry> &entries) const {
    const Shape out = shapeOf(result);
    const Layout compactLayout = paddedLayout(out);
    Layout layout = gridLayout(in, out, stride);
    if (!(layout == compactLayout) &&
        llvm::all_of(result.getUsers(),
                     [](Operation *u) { return isa<func::ReturnOp>(u); })) {
      auto outPos = positions(out, layout);
      std::vector<int64_t> ins, direct, grid;
      for (const MapEntry &m : entries) {
        ins.push_back(m.in);
        direct.push_back(m.out);
        grid.push_back(outPos[size_t(m.out)]);
      }
      RelayoutPlan plan = planRelayout(out, layout, compactLayout);
      if ((distinctDistances(ins, grid) + plan.diagonals) << plan.levels >
          distinctDistances(ins, direct))
        layout = compactLayout;
    }
    auto outPos = positions(out, layout);
    for (MapEntry &m : entries)
      m.out = outPos[size_t(m.out)];
    return layout;
  }

  /// conv2d as the linear map it is (PyTorch semantics, zero padding),
  /// the output in the input's grid (gridLayout): with a kh x kw kernel its
  /// diagonals number about O C/groups kh kw.
  void lowerConv2d(fhe::Conv2dOp c) {
    Operation &op = *c;
    Value in = c.getInput();
    const PlainTensor &w = plain(op, c.getWeight());
    const Shape xs = shapeOf(in), out = shapeOf(c.getResult());
    const int64_t stride = int64_t(c.getStride()),
                  pad = int64_t(c.getPadding()),
                  groups = int64_t(c.getGroups());
    const int64_t h = xs[1], wd = xs[2];
    const int64_t o = w.shape[0], cg = w.shape[1], kh = w.shape[2],
                  kw = w.shape[3];
    const int64_t ho = out[1], wo = out[2];
    if (!isCipherValue(in))
      unsupported(op, "conv2d on a plaintext input (fold it in the program)");
    auto pos = positionsOf(in);
    std::vector<MapEntry> entries;
    for (int64_t oc = 0; oc < o; ++oc) {
      const int64_t group = oc / (o / groups);
      for (int64_t y = 0; y < ho; ++y)
        for (int64_t x = 0; x < wo; ++x)
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t dy = 0; dy < kh; ++dy)
              for (int64_t dx = 0; dx < kw; ++dx) {
                const int64_t iy = y * stride - pad + dy,
                              ix = x * stride - pad + dx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                  continue;
                const int64_t chan = group * cg + ci;
                entries.push_back(
                    {(oc * ho + y) * wo + x,
                     pos[size_t((chan * h + iy) * wd + ix)],
                     w.values[size_t(((oc * cg + ci) * kh + dy) * kw + dx)]});
              }
    }
    const Layout outLayout =
        placeGridOutput(c.getResult(), in, stride, entries);
    Parts y =
        applyLinearMap(ciphers.at(in), extentOf(in), outLayout.extent, entries);
    setCipher(c.getResult(), y, outLayout);
    if (c.getBias()) {
      const PlainTensor &bias = plain(op, c.getBias());
      std::vector<double> bv(size_t(o * ho * wo));
      for (size_t i = 0; i < bv.size(); ++i)
        bv[i] = bias.values[i / size_t(ho * wo)];
      bv = place(c.getResult(), bv, false);
      setCipher(
          c.getResult(),
          eachPart(y, [&](Value ct,
                          size_t k) { return e.addPlain(ct, partOf(bv, k)); }),
          outLayout);
    }
  }

  /// avgpool2d and global_avgpool: linear maps with weights 1 / window.
  void lowerPool(Operation &op) {
    Value in = op.getOperand(0);
    if (!isCipherValue(in))
      unsupported(op, "pooling a plaintext (fold it in the program)");
    const Shape xs = shapeOf(in);
    const int64_t ch = xs[0], h = xs[1], wd = xs[2];
    int64_t kernel = h, stride = 1, kernelW = wd;
    if (auto p = dyn_cast<fhe::AvgPool2dOp>(op)) {
      kernel = kernelW = int64_t(p.getKernel());
      stride = int64_t(p.getStride());
    }
    // [C, H', W'], or [C] (one window over everything).
    const Shape out = shapeOf(op.getResult(0));
    const int64_t ho = out.size() == 3 ? out[1] : 1,
                  wo = out.size() == 3 ? out[2] : 1;
    const double weight = 1.0 / double(kernel * kernelW);
    auto pos = positionsOf(in);
    // avgpool2d keeps its output in the input's grid (gridLayout);
    // global_avgpool's [C] is compact.
    const bool grid = isa<fhe::AvgPool2dOp>(op);
    std::vector<MapEntry> entries;
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t y = 0; y < ho; ++y)
        for (int64_t x = 0; x < wo; ++x)
          for (int64_t dy = 0; dy < kernel; ++dy)
            for (int64_t dx = 0; dx < kernelW; ++dx)
              entries.push_back({(c * ho + y) * wo + x,
                                 pos[size_t((c * h + y * stride + dy) * wd +
                                            x * stride + dx)],
                                 weight});
    const Layout outLayout =
        grid ? placeGridOutput(op.getResult(0), in, stride, entries)
             : paddedLayout({ch, ho, wo});
    Parts y =
        applyLinearMap(ciphers.at(in), extentOf(in), outLayout.extent, entries);
    if (grid)
      setCipher(op.getResult(0), y, outLayout);
    else
      ciphers[op.getResult(0)] = y;
  }

  /// Eval-mode batch normalization over axis 0: x * scale_c + shift_c.
  void lowerBatchNorm(fhe::BatchNormOp bn) {
    Operation &op = *bn;
    Value in = bn.getInput();
    if (!isCipherValue(in))
      unsupported(op, "batchnorm on a plaintext (fold it in the program)");
    const auto &gamma = plain(op, bn.getGamma()).values,
               &beta = plain(op, bn.getBeta()).values,
               &mean = plain(op, bn.getMean()).values,
               &var = plain(op, bn.getVariance()).values;
    const double eps = bn.getEps().convertToDouble();
    const Shape xs = shapeOf(in);
    const size_t inner = size_t(shapes::numElements(xs) / xs[0]);
    std::vector<double> scale(inner * size_t(xs[0])), shift(scale.size());
    for (size_t i = 0; i < scale.size(); ++i) {
      const size_t c = i / inner;
      scale[i] = gamma[c] / std::sqrt(var[c] + eps);
      shift[i] = beta[c] - mean[c] * scale[i];
    }
    const std::vector<double> scaled = place(in, scale, false),
                              shifted = place(in, shift, false);
    const int64_t extent = extentOf(in);
    setCipher(bn.getResult(),
              eachPart(ciphers.at(in),
                       [&](Value x, size_t k) {
                         return e.addPlain(e.mulValues(x, partOf(scaled, k),
                                                       partExtent(extent, k)),
                                           partOf(shifted, k));
                       }),
              layoutOf(in));
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
  llvm::DenseMap<Value, Parts> ciphers;
  /// The layouts of cipher values that are not compact (see Layouts).
  llvm::DenseMap<Value, Layout> layouts;
  /// Compact copies already made (compact()).
  llvm::DenseMap<Value, Parts> compacted;
  /// The program's precision target (a nonlinear op's own, if set, wins).
  double precision;
  /// "line L: <approximation>" for each nonlinear op lowered, in order.
  SmallVector<Attribute> approximations;
  /// The padded last extent of batched rows (chooseInputLayouts; 0: none).
  int64_t rowStride = 0;
  /// Compile-time plaintexts by value (std::map: references stay valid).
  std::map<const void *, PlainTensor> plainValues;
};

class FheToCkksPass
    : public PassWrapper<FheToCkksPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FheToCkksPass)

  FheToCkksPass() = default;
  FheToCkksPass(const FheToCkksPass &other) : PassWrapper(other) {}
  FheToCkksPass(int64_t slots, double precision) {
    slotOption = slots;
    precisionOption = precision;
  }

  StringRef getArgument() const final { return "fhe-to-ckks"; }
  StringRef getDescription() const final {
    return "Lower fhe tensor programs (one or more ciphertexts per tensor) "
           "to ckks";
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
      if (failed(Lowering(module, main, slotOption, precisionOption).run()))
        signalPassFailure();
    } catch (const std::exception &e) {
      main.emitError(e.what());
      signalPassFailure();
    }
  }

  Option<int64_t> slotOption{*this, "slots",
                             llvm::cl::desc("slot count (0: automatic)"),
                             llvm::cl::init(0)};
  Option<double> precisionOption{
      *this, "precision",
      llvm::cl::desc("the program's precision target: what approximations of "
                     "nonlinear functions meet unless an op sets its own"),
      llvm::cl::init(1e-3)};
};

} // namespace

std::unique_ptr<Pass> createFheToCkksPass(int64_t slots, double precision) {
  return std::make_unique<FheToCkksPass>(slots, precision);
}

void registerFheToCkksPass() { PassRegistration<FheToCkksPass>(); }

} // namespace cerium
