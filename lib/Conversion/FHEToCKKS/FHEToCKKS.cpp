//===- FHEToCKKS.cpp - Lowering tensor programs to ciphertexts ------------===//
//
// A dialect conversion of main: one pattern per fhe op kind. A cipher tensor
// converts 1:N to its parts (the ciphertexts its layout takes); a plaintext
// converts to nothing, its values folded at compile time into the
// LoweringState that all patterns share with the layouts they choose.
//
//===----------------------------------------------------------------------===//

#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/Approx/SeriesPlan.h"
#include "cerium/DSL/Functions.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/IR/CKKSEmitter.h"
#include "cerium/Dialect/CKKS/Transforms/Bootstrap.h"
#include "cerium/Dialect/FHE/IR/Approximations.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/SlotValues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <type_traits>
#include <variant>

using namespace mlir;
namespace shapes = cerium::shapes;
using shapes::Shape;

namespace cerium {
namespace {

/// Levels are counted down from here while emitting, then renumbered.
constexpr unsigned kProvisionalTop = 1u << 20;

/// The ciphertexts holding one cipher tensor, in slot order: flat position
/// p of its layout is slot p % slots of part p / slots.
using Parts = llvm::SmallVector<Value, 1>;

/// A plaintext tensor, row-major: known at compile time, or (`input` >= 0)
/// a run-time plaintext — a `plain` parameter of main, that argument's
/// number, or elements of it moved or negated — whose values are then
/// signed 1-based indices of its elements (0 a zero), as ckks.encode's
/// `input` takes them.
struct PlainTensor {
  Shape shape;
  std::vector<double> values;
  int64_t input = -1;
};

/// While alive, `e` encodes values as `t`'s are: indices of the run-time
/// input they come from (Emitter::runtimeInput), or known.
class RuntimeEncodes {
public:
  RuntimeEncodes(ckks::Emitter &e, const PlainTensor &t)
      : e(e), saved(e.runtimeInput) {
    e.runtimeInput =
        t.input >= 0 ? std::optional<int64_t>(t.input) : std::nullopt;
  }
  ~RuntimeEncodes() { e.runtimeInput = saved; }

private:
  ckks::Emitter &e;
  std::optional<int64_t> saved;
};

std::vector<double> broadcastTo(const PlainTensor &in, const Shape &to) {
  return shapes::broadcastValues(in.shape, in.values, to);
}

Shape shapeOf(Value v) {
  auto s = fhe::shapeOf(v.getType());
  return Shape(s.begin(), s.end());
}
int64_t numElements(Value v) { return shapes::numElements(shapeOf(v)); }
bool isCipher(Value v) { return fhe::isCipher(v.getType()); }

ckks::CiphertextType ctType(Value v) {
  return cast<ckks::CiphertextType>(v.getType());
}

/// f applied to each part (with its index).
Parts eachPart(ValueRange x, llvm::function_ref<Value(Value, size_t)> f) {
  Parts out;
  for (auto [k, ct] : llvm::enumerate(x))
    out.push_back(f(ct, k));
  return out;
}
/// Part by part x + y (the same layout).
Parts addParts(ckks::Emitter &e, ValueRange x, ValueRange y) {
  return eachPart(x, [&](Value ct, size_t k) { return e.add(ct, y[k]); });
}

//===----------------------------------------------------------------------===//
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
//===----------------------------------------------------------------------===//

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
std::vector<int64_t> positions(const Shape &shape, const Layout &layout) {
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
Layout paddedLayout(const Shape &padded) {
  return {shapes::strides(padded), shapes::numElements(padded), padded};
}
/// `shape` at `strides`, or nothing when two elements would share a
/// position (each stride must pass the inner axes' span).
std::optional<Layout> stridedLayout(const Shape &shape,
                                    std::vector<int64_t> strides) {
  int64_t span = 0;
  for (size_t k = shape.size(); k-- > 0;) {
    if (shape[k] > 1 && strides[k] <= span)
      return std::nullopt;
    span += (shape[k] - 1) * strides[k];
  }
  return Layout{std::move(strides), span + 1, {}};
}
/// `out` = [C, H / stride, W / stride] in the grid of `in`'s layout with
/// its multiplexing times `stride`, or nothing if the grid's steps do not
/// split into the finer sub-steps or two elements would meet.
std::optional<Layout> multiplexedLayout(const Layout &in, const Shape &out,
                                        int64_t stride) {
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

/// Plain values of a tensor of `shape` laid out by `layout`, in its slots.
/// A scalar fills every slot of the extent (mul_const then applies; spare
/// slots are free).
std::vector<double> place(const Shape &shape, const Layout &layout,
                          const std::vector<double> &values, bool scalar) {
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

/// The elementwise ops of two operands: the result takes one cipher
/// operand's layout and the other is converted to it (compact where one
/// broadcasts).
bool isElementwiseBinary(Operation *op) {
  return isa<fhe::AddOp, fhe::SubOp, fhe::MulOp, fhe::DivOp, fhe::MaxMinOp>(op);
}

/// A linear map on flat slot positions: out[o] += value * in[i].
struct MapEntry {
  int64_t out, in;
  double value;
};

/// How a slot-level map on a ciphertext whose positions [0, inExtent) are
/// the input's is evaluated (LoweringState::applySlotMap): rotations wrap
/// within `period` (the power of two past every position, or the slot
/// count), x is first `doubled` when two periods fit the slots, and the
/// diagonals (in - out mod period) split into baby steps k mod `width` and
/// giant steps k - k mod width, the power-of-two width with the fewest
/// `rotations` over the diagonals present.
struct SlotMapPlan {
  int64_t period = 1, width = 1, rotations = 0, diagonals = 0;
  bool doubled = false;
};
SlotMapPlan planSlotMap(int64_t slots, int64_t inExtent,
                        const std::vector<MapEntry> &entries) {
  SlotMapPlan plan;
  int64_t top = inExtent - 1;
  for (const MapEntry &m : entries)
    top = std::max({top, m.out, m.in});
  const int64_t d = int64_t(llvm::PowerOf2Ceil(uint64_t(top + 1)));
  plan.doubled = 2 * d <= slots;
  plan.period = plan.doubled ? d : slots;
  // The diagonals present, marked (maps have millions of entries and at
  // most `period` diagonals), then listed in order.
  std::vector<uint8_t> present(size_t(plan.period), 0);
  for (const MapEntry &m : entries)
    if (m.value != 0)
      present[size_t(((m.in - m.out) % plan.period + plan.period) %
                     plan.period)] = 1;
  std::vector<int64_t> ks;
  for (int64_t k = 0; k < plan.period; ++k)
    if (present[size_t(k)])
      ks.push_back(k);
  plan.diagonals = int64_t(ks.size());
  plan.rotations = std::numeric_limits<int64_t>::max();
  for (int64_t w = 1; w <= plan.period; w <<= 1) {
    std::set<int64_t> babies, giants;
    for (int64_t k : ks) {
      babies.insert(k % w);
      giants.insert(k - k % w);
    }
    const int64_t rotations = int64_t(babies.size() + giants.size()) -
                              int64_t(babies.count(0) + giants.count(0));
    if (rotations < plan.rotations) {
      plan.rotations = rotations;
      plan.width = w;
    }
  }
  if (ks.empty())
    plan.rotations = 0;
  return plan;
}

/// Baby steps of slot-level maps on the same input ciphertext, shared
/// between the maps to each output part: the doubled copies by (input,
/// D) and the rotations by (operand, steps).
struct SharedSteps {
  using Cache = std::map<std::pair<const void *, int64_t>, Value>;
  Cache doubled, rotated;
};

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
int64_t distinctDistances(const std::vector<int64_t> &in,
                          const std::vector<int64_t> &out) {
  std::set<int64_t> distances;
  for (size_t i = 0; i < in.size(); ++i)
    distances.insert(in[i] - out[i]);
  return int64_t(distances.size());
}
RelayoutPlan planRelayout(const Shape &shape, const Layout &from,
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

/// The map that moves each element of `shape` from layout `from` to `to`.
std::vector<MapEntry> moveEntries(const Shape &shape, const Layout &from,
                                  const Layout &to) {
  auto in = positions(shape, from);
  auto out = positions(shape, to);
  std::vector<MapEntry> entries;
  entries.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    entries.push_back({out[i], in[i], 1.0});
  return entries;
}

/// The approximation's program on a ciphertext; constants fill `n` slots.
/// With `mask` (LoweringState::gapMask) constants go where the elements are
/// and the series leave 0 in the layout's gaps, as they found them.
Value emitApproximation(ckks::Emitter &e, Value x,
                        const approx::Approximation &a, int64_t n,
                        ArrayRef<double> mask) {
  std::vector<Value> values{x};
  for (const approx::Step &step : a.steps) {
    using Kind = approx::Step::Kind;
    switch (step.kind) {
    case Kind::Chebyshev:
      values.push_back(e.chebyshevSeries(values[step.a], step.coeffs, step.lo,
                                         step.hi, n, mask));
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
      values.push_back(step.c0 != 0 ? e.addConst(sum, step.c0, n, mask) : sum);
      break;
    }
    }
  }
  return values.back();
}

//===----------------------------------------------------------------------===//
// The state the patterns share
//===----------------------------------------------------------------------===//

/// What the lowering knows beyond the IR: each cipher value's layout (not
/// in its type: fixed for the whole program before any op is lowered, see
/// Layout assignment, and read by every pattern), the compact copies made, the
/// compile-time plaintexts, the approximations listed, the slot count and
/// precision, and the first error. Keyed by fhe value: patterns see their
/// operands as written, the parts through their adaptors. The helpers that emit
/// with layouts (linear maps, relayouts, broadcasts) are its methods, on the
/// emitter of the op being lowered.
class LoweringState {
public:
  LoweringState(func::FuncOp main, int64_t slots, int64_t maxSlots,
                double precision, bool layoutSearch)
      : main(main), slots(slots), maxSlots(maxSlots), precision(precision),
        layoutSearch(layoutSearch) {}

  /// main's input layouts and the slot count: the largest cipher tensor as
  /// laid out, rounded up to a power of two, unless the program fixed it.
  LogicalResult plan() {
    // main's plain parameters: values known at run time, by index.
    for (BlockArgument a : main.getArguments())
      if (!isCipher(a)) {
        PlainTensor t{shapeOf(a), {}, int64_t(a.getArgNumber())};
        t.values.resize(size_t(shapes::numElements(t.shape)));
        for (size_t i = 0; i < t.values.size(); ++i)
          t.values[i] = double(i + 1);
        setPlain(a, std::move(t));
      }
    chooseInputLayouts();
    int64_t largest = 1;
    main.walk([&](Operation *op) {
      for (Value v : op->getResults())
        if (fhe::isCipher(v.getType()))
          largest = std::max(largest, plannedExtent(v));
    });
    for (Value a : main.getArguments())
      largest = std::max(largest, plannedExtent(a));
    if (slots == 0) {
      // At least 2: the encoder's smallest slot count (one complex pair);
      // at most maxSlots (the ring's, else kMaxAutomaticSlots). Larger
      // tensors span several ciphertexts.
      slots = 2;
      while (slots < largest && slots < maxSlots)
        slots <<= 1;
    }
    if (partsFor(largest) > kMaxCiphertextsPerTensor)
      return main.emitError("a tensor of ")
             << largest << " slots as laid out takes more than "
             << kMaxCiphertextsPerTensor << " ciphertexts of " << slots
             << " slots";
    assignLayouts();
    return success();
  }

  //===--------------------------------------------------------------------===//
  // Errors
  //
  // A pattern that cannot lower its op records why and fails; the
  // conversion then stops and rolls back, and the pass emits the record:
  // one error (the driver's own "failed to legalize" after it is dropped),
  // and main, where an error is on it, prints as written.
  //===--------------------------------------------------------------------===//

  /// Records the error at `loc` unless one is recorded (the first stands).
  LogicalResult fail(Location loc, const Twine &what) {
    return record({loc, nullptr, what.str()});
  }
  LogicalResult unsupported(Operation *op, const Twine &why) {
    return fail(op->getLoc(), "not yet supported: " + why);
  }
  /// An error of the program as a whole (e.g. its weights file), on main.
  LogicalResult failOnMain(const Twine &what) {
    return record({main.getLoc(), main, what.str()});
  }
  bool hasError() const { return error.has_value(); }
  void emitRecordedError() const {
    if (!error)
      return;
    if (error->op)
      error->op->emitError(error->what);
    else
      emitError(error->loc, error->what);
  }

  //===--------------------------------------------------------------------===//
  // Layouts and parts
  //===--------------------------------------------------------------------===//

  Layout layoutOf(Value v) const {
    auto it = layouts.find(v);
    return it == layouts.end() ? paddedLayout(shapeOf(v)) : it->second;
  }
  /// Slots [0, extent) are the value's; constants fill them.
  int64_t extentOf(Value v) const { return layoutOf(v).extent; }
  std::vector<int64_t> positionsOf(Value v) const {
    return positions(shapeOf(v), layoutOf(v));
  }
  /// Part k of the mask of `v`'s layout, 1 at its elements' positions and 0
  /// in its gaps (padding, a grid's holes); empty without gaps. The gaps of
  /// every cipher value hold 0 (inputs are encrypted so, maps write only
  /// elements, sums with plaintexts add at the elements, products keep 0),
  /// and approximations and polynomials keep them so by this mask
  /// (emitApproximation, Emitter::chebyshevSeries / powerSeries): a gap
  /// holding anything else, evaluated by a polynomial of high degree off
  /// its interval, grows without bound and spoils every slot.
  std::vector<double> gapMask(Value v, size_t k) const {
    const std::vector<int64_t> pos = positionsOf(v);
    if (int64_t(pos.size()) == extentOf(v))
      return {};
    std::vector<double> mask(size_t(extentOf(v)), 0.0);
    for (int64_t p : pos)
      mask[size_t(p)] = 1;
    return partOf(mask, k);
  }
  bool isCompact(Value v) const { return !layouts.count(v); }
  /// Whether `v` sits in a layout main's signature cannot record.
  bool isStrided(Value v) const {
    auto it = layouts.find(v);
    return it != layouts.end() && it->second.padded.empty();
  }
  void setLayout(Value result, const Layout &layout) {
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
  /// Plain values of `cipher`'s shape in its slots (the free `place`).
  std::vector<double> place(Value cipher, const std::vector<double> &values,
                            bool scalar) const {
    return cerium::place(shapeOf(cipher), layoutOf(cipher), values, scalar);
  }

  /// The attributes of part k of n of a tensor of `shape` in `layout` in
  /// main's signature: its shape, its layout when padded, and for a tensor
  /// of several ciphertexts the part's index (part 0 starts a tensor).
  DictionaryAttr tensorAttrs(const Shape &shape, const Layout &layout,
                             int64_t k, int64_t n) const {
    Builder b(main->getContext());
    NamedAttrList attrs;
    attrs.append("fhe.shape", b.getDenseI64ArrayAttr(shape));
    if (!(layout == paddedLayout(shape))) {
      assert(!layout.padded.empty() && "a strided layout in main's signature");
      attrs.append("fhe.layout", b.getDenseI64ArrayAttr(layout.padded));
    }
    if (n > 1)
      attrs.append("fhe.part", b.getI64IntegerAttr(k));
    return attrs.getDictionary(main->getContext());
  }

  //===--------------------------------------------------------------------===//
  // Plaintexts
  //===--------------------------------------------------------------------===//

  /// Every plaintext value is folded by the pattern of the op defining it
  /// (main's plain inputs by plan()), so it is known here.
  const PlainTensor &plain(Value v) const {
    auto it = plainValues.find(v.getAsOpaquePointer());
    assert(it != plainValues.end() && "a plaintext not folded");
    return it->second;
  }
  void setPlain(Value v, PlainTensor t) {
    plainValues[v.getAsOpaquePointer()] = std::move(t);
  }
  /// The run-time input `v` comes from (PlainTensor::input), or -1.
  int64_t runtimeInputOf(Value v) const {
    if (isCipher(v))
      return -1;
    auto it = plainValues.find(v.getAsOpaquePointer());
    return it == plainValues.end() ? -1 : it->second.input;
  }

  /// Why `op` cannot read the run-time plaintexts among its operands, if it
  /// cannot. Each encoded value must stay one ± element of the input (what
  /// the runtime substitutes): so they may be moved (reshape, slicing,
  /// transpose, roll, a concat of parts of one input), negated, added to,
  /// subtracted from or multiplied with a cipher operand, and be the plain
  /// operand of a cipher @, linear or conv2d; anything that computes with
  /// their values needs them at compile time.
  std::optional<std::string> runtimeUseError(Operation *op) const {
    std::set<int64_t> inputs;
    bool known = false, cipher = false;
    for (Value v : op->getOperands()) {
      cipher |= isCipher(v);
      if (isCipher(v))
        continue;
      if (int64_t k = runtimeInputOf(v); k >= 0)
        inputs.insert(k);
      else
        known = true;
    }
    if (inputs.empty())
      return std::nullopt;
    if (isa<fhe::ReshapeOp, fhe::SliceOp, fhe::IndexOp, fhe::TransposeOp,
            fhe::RollOp, fhe::NegOp>(op))
      return std::nullopt;
    if (isa<fhe::ConcatOp>(op) && inputs.size() == 1 && !known)
      return std::nullopt;
    if (isa<fhe::AddOp, fhe::SubOp, fhe::MulOp, fhe::MatMulOp>(op) && cipher)
      return std::nullopt;
    if (isa<fhe::LinearOp, fhe::Conv2dOp>(op) && isCipher(op->getOperand(0)))
      return std::nullopt;
    return "'" + op->getName().getStringRef().str() +
           "' needs the values of a run-time plaintext (a plain parameter of "
           "main) at compile time; run-time plaintexts may be moved, negated, "
           "combined with a cipher tensor by +, - or *, or be the plain "
           "operand of @, linear or conv2d";
  }

  //===--------------------------------------------------------------------===//
  // Linear maps
  //===--------------------------------------------------------------------===//

  /// The map from `x` (positions [0, inExtent)) to `outExtent` positions:
  /// the slot-level map of each (output part, input part) pair with
  /// entries, summed per output part.
  /// With `zeros` false, a part no entry reaches is left null (the caller
  /// adds the parts it has).
  Parts applyLinearMap(ckks::Emitter &e, ValueRange x, int64_t inExtent,
                       int64_t outExtent, const std::vector<MapEntry> &entries,
                       bool zeros = true) const {
    SharedSteps shared;
    Parts out(size_t(partsFor(outExtent)));
    forEachBlock(
        entries, inExtent, outExtent,
        [&](int64_t o, int64_t in, const std::vector<MapEntry> &block) {
          Value y =
              applySlotMap(e, x[size_t(in)], partExtent(inExtent, size_t(in)),
                           block, &shared);
          Value &acc = out[size_t(o)];
          acc = acc ? e.add(acc, y) : y;
        });
    // A part with no entries is zero.
    for (Value &part : out)
      if (!part && zeros)
        part = applySlotMap(e, x[0], partExtent(inExtent, 0), {});
    return out;
  }

  /// `entries` as the slot-level maps of each (output part, input part)
  /// pair with entries, in that order, positions within the parts. One part
  /// each way passes the entries as they are (a map can have millions).
  void forEachBlock(
      const std::vector<MapEntry> &entries, int64_t inExtent, int64_t outExtent,
      llvm::function_ref<void(int64_t, int64_t, const std::vector<MapEntry> &)>
          block) const {
    if (inExtent <= slots && outExtent <= slots) {
      if (!entries.empty())
        block(0, 0, entries);
      return;
    }
    std::map<std::pair<int64_t, int64_t>, std::vector<MapEntry>> blocks;
    for (const MapEntry &m : entries)
      blocks[{m.out / slots, m.in / slots}].push_back(
          {m.out % slots, m.in % slots, m.value});
    for (const auto &[key, entriesOfBlock] : blocks)
      block(key.first, key.second, entriesOfBlock);
  }

  /// The amount when `entries` move every slot by one rotation with weight
  /// 1 (a whole ciphertext copied, as a broadcast or concat of full ones
  /// does): the rotation alone is the map, no product and no level (mapCost
  /// prices it so). Not for a run-time plaintext's map, whose values are
  /// indices.
  std::optional<int64_t>
  fullRotation(const std::vector<MapEntry> &entries) const {
    if (int64_t(entries.size()) != slots)
      return std::nullopt;
    auto diagonal = [&](const MapEntry &m) {
      return ((m.in - m.out) % slots + slots) % slots;
    };
    const int64_t k = diagonal(entries[0]);
    std::vector<bool> seen(size_t(slots), false);
    for (const MapEntry &m : entries) {
      if (m.value != 1 || diagonal(m) != k || m.out < 0 || m.out >= slots ||
          seen[size_t(m.out)])
        return std::nullopt;
      seen[size_t(m.out)] = true;
    }
    return k;
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
  Value applySlotMap(ckks::Emitter &e, Value x, int64_t inExtent,
                     const std::vector<MapEntry> &entries,
                     SharedSteps *shared = nullptr) const {
    if (std::optional<int64_t> k =
            e.runtimeInput ? std::nullopt : fullRotation(entries))
      return e.rotate(x, *k);
    const SlotMapPlan plan = planSlotMap(slots, inExtent, entries);
    const int64_t d = plan.period, g = plan.width;
    const bool doubled = plan.doubled;
    // Diagonal k: (output position, value) pairs.
    std::map<int64_t, std::vector<std::pair<int64_t, double>>> diagonals;
    for (const MapEntry &m : entries)
      if (m.value != 0)
        diagonals[((m.in - m.out) % d + d) % d].push_back({m.out, m.value});
    if (diagonals.empty())
      return e.mulConst(x, 0);
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
            e.b, e.loc, baby, e.encode(diag, ctType(baby).getLevel()));
        inner = inner ? e.add(inner, term) : term;
      }
      Value part = e.rotate(inner, s);
      acc = acc ? e.add(acc, part) : part;
    }
    return ckks::RescaleOp::create(e.b, e.loc, acc);
  }

  /// `v`'s ciphertexts (`parts`) in layout `to`: its compact copy (made
  /// once) or a relayout.
  Parts convert(ckks::Emitter &e, Value v, ValueRange parts, const Layout &to) {
    return to == paddedLayout(shapeOf(v)) ? compact(e, v, parts)
                                          : relayout(e, v, parts, to);
  }

  /// `v`'s ciphertexts (`parts`) with its elements in row-major order from
  /// position 0 and zeros elsewhere.
  Parts compact(ckks::Emitter &e, Value v, ValueRange parts) {
    if (isCompact(v))
      return llvm::to_vector<1>(parts);
    auto it = compacted.find(v);
    if (it != compacted.end())
      return it->second;
    Parts c = relayout(e, v, parts, paddedLayout(shapeOf(v)));
    compacted[v] = c;
    return c;
  }

  /// `v`'s ciphertexts (`parts`) in layout `to` (planRelayout).
  Parts relayout(ckks::Emitter &e, Value v, ValueRange parts,
                 const Layout &to) const {
    const Layout from = layoutOf(v);
    if (from == to)
      return llvm::to_vector<1>(parts);
    const Shape shape = shapeOf(v);
    if (to == paddedLayout(shape) && compacted.count(v))
      return compacted.at(v);
    auto move = [&](ValueRange x, const Layout &a, const Layout &t) {
      return applyLinearMap(e, x, a.extent, t.extent, moveEntries(shape, a, t));
    };
    RelayoutPlan plan = planRelayout(shape, from, to);
    if (plan.steps.empty())
      return move(parts, from, to);
    Parts x = llvm::to_vector<1>(parts);
    Layout at = from;
    for (const Layout &step : plan.steps) {
      x = move(x, at, step);
      at = step;
    }
    return x;
  }

  /// A cipher operand `v` broadcast to `shape` (NumPy rules) by a linear
  /// map that copies each element to the positions it fills; compact
  /// result.
  Parts broadcastCipher(ckks::Emitter &e, Value v, ValueRange parts,
                        const Shape &shape) const {
    const int64_t n = shapes::numElements(shape);
    const auto source = shapes::broadcastSources(shapeOf(v), shape);
    auto pos = positionsOf(v);
    std::vector<MapEntry> entries;
    for (int64_t i = 0; i < n; ++i)
      entries.push_back({i, pos[size_t(source[size_t(i)])], 1.0});
    return applyLinearMap(e, parts, extentOf(v), n, entries);
  }

  /// `result` computed from one operand `in` by a linear map: `sourceOf(i)`
  /// is the flat (row-major) index in the operand of result element i, or
  /// -1 for a zero. A plain operand is folded (no parts); a cipher one
  /// gets a compact result.
  Parts gather(ckks::Emitter &e, Value result, Value in, ValueRange parts,
               const std::function<int64_t(int64_t)> &sourceOf) {
    const int64_t n = numElements(result);
    if (!isCipher(in)) {
      const PlainTensor &t = plain(in);
      std::vector<double> out(size_t(n), 0.0);
      for (int64_t i = 0; i < n; ++i)
        if (int64_t j = sourceOf(i); j >= 0)
          out[size_t(i)] = t.values[size_t(j)];
      setPlain(result, {shapeOf(result), std::move(out), t.input});
      return {};
    }
    auto pos = positionsOf(in);
    std::vector<MapEntry> entries;
    for (int64_t i = 0; i < n; ++i)
      if (int64_t j = sourceOf(i); j >= 0)
        entries.push_back({i, pos[size_t(j)], 1.0});
    return applyLinearMap(e, parts, extentOf(in), n, entries);
  }

  /// y[..., i] = sum_j W(i, j) x[..., j] + bias[i] on the last axis of a
  /// cipher x [..., n] (`in`, its `parts`) into `result`, in the result's
  /// layout (resultLayout: batched rows keep the input's row stride); W's
  /// values are those of `weights`, known or run-time.
  Parts rowMap(ckks::Emitter &e, Value result, Value in, ValueRange parts,
               const PlainTensor &weights, int64_t m,
               const std::function<double(int64_t, int64_t)> &weight,
               const PlainTensor *bias) {
    const Shape inShape = shapeOf(in);
    const int64_t n = inShape.back();
    const int64_t rows = shapes::numElements(inShape) / n;
    const Shape outShape = shapeOf(result);
    auto inPos = positionsOf(in);
    auto outPos = positionsOf(result);
    std::vector<MapEntry> entries;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          if (double w = weight(i, j); w != 0)
            entries.push_back(
                {outPos[size_t(r * m + i)], inPos[size_t(r * n + j)], w});
    Parts y = [&] {
      RuntimeEncodes runtime(e, weights);
      return applyLinearMap(e, parts, extentOf(in), extentOf(result), entries);
    }();
    if (!bias)
      return y;
    RuntimeEncodes runtime(e, *bias);
    std::vector<double> bv = place(result, broadcastTo(*bias, outShape), false);
    return eachPart(
        y, [&](Value ct, size_t k) { return e.addPlain(ct, partOf(bv, k)); });
  }

  //===--------------------------------------------------------------------===//
  // Layout assignment
  //
  // Every cipher value's layout is fixed before any op is lowered, for the
  // whole program at once, and the patterns follow it. resultLayout gives
  // an op's result layout from its operands' and, where the layout is
  // free, the op's placement: a conv2d's or avgpool2d's output in its
  // input's grid, multiplexed into the grid's gaps, or compact; an
  // elementwise op on two cipher operands whose layouts differ takes the
  // left one's or the right one's, and the other is converted. A set of
  // placements is priced by estimating the program's work under it
  // (programCost): each map's rotations and diagonals as applyLinearMap
  // would emit them, every conversion and compact copy the layouts force,
  // and per-ciphertext work (products, levels, bootstraps) times the
  // ciphertexts each value takes. Starting from a rule of thumb (the
  // placement with the fewest ciphertexts), each placement is changed in
  // turn while that lowers the total (coordinate descent): the whole
  // program is re-laid each time, so a choice's effect on every later
  // layer, conversion and ciphertext count is priced, not guessed.
  //===--------------------------------------------------------------------===//

  enum class Placement : uint8_t { Grid, Multiplexed, Compact, Left, Right };

  /// The entries of a conv2d's, avgpool2d's or global_avgpool's map, by
  /// input position and output position in the result's layout. Weights
  /// from `w` (conv2d), or 1 where they are not known yet (the assignment
  /// prices diagonals, not values).
  std::vector<MapEntry> placedEntries(Operation *op,
                                      const PlainTensor *w) const {
    Value in = op->getOperand(0), result = op->getResult(0);
    const Shape xs = shapeOf(in), out = shapeOf(result);
    const int64_t h = xs[1], wd = xs[2];
    const int64_t ho = out.size() == 3 ? out[1] : 1,
                  wo = out.size() == 3 ? out[2] : 1;
    auto inPos = positionsOf(in), outPos = positionsOf(result);
    std::vector<MapEntry> entries;
    if (auto c = dyn_cast<fhe::Conv2dOp>(op)) {
      // PyTorch semantics, zero padding.
      const Shape ws = shapeOf(c.getWeight());
      const int64_t stride = int64_t(c.getStride()),
                    pad = int64_t(c.getPadding()),
                    groups = int64_t(c.getGroups());
      const int64_t o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
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
                  const double value =
                      w ? w->values[size_t(((oc * cg + ci) * kh + dy) * kw +
                                           dx)]
                        : 1.0;
                  entries.push_back({outPos[size_t((oc * ho + y) * wo + x)],
                                     inPos[size_t((chan * h + iy) * wd + ix)],
                                     value});
                }
      }
      return entries;
    }
    // avgpool2d (its window and stride) or global_avgpool (one window).
    int64_t kernel = h, kernelW = wd, stride = 1;
    if (auto p = dyn_cast<fhe::AvgPool2dOp>(op)) {
      kernel = kernelW = int64_t(p.getKernel());
      stride = int64_t(p.getStride());
    }
    const double weight = 1.0 / double(kernel * kernelW);
    for (int64_t c = 0; c < xs[0]; ++c)
      for (int64_t y = 0; y < ho; ++y)
        for (int64_t x = 0; x < wo; ++x)
          for (int64_t dy = 0; dy < kernel; ++dy)
            for (int64_t dx = 0; dx < kernelW; ++dx)
              entries.push_back({outPos[size_t((c * ho + y) * wo + x)],
                                 inPos[size_t((c * h + y * stride + dy) * wd +
                                              x * stride + dx)],
                                 weight});
    return entries;
  }

  /// Where a conv2d's or avgpool2d's output [C, H / s, W / s] may sit,
  /// given its input's layout: in the input's grid (Grid: element (o, y, x)
  /// at the position of input pixel (o, s y, s x), so that an output
  /// element and the pixels it reads are the same distance apart for every
  /// (y, x) and the map's diagonals are the taps times the channel offsets;
  /// Lee et al., ICML 2022), with its channels multiplexed into the cells
  /// the stride empties (Multiplexed, Layout::mux: fewer ciphertexts for
  /// every later op for a few more diagonals per map; a multiplexed
  /// input's maps stay multiplexed: compact positions are no translation of
  /// multiplexed ones, a map between them has a diagonal per pixel row), or
  /// Compact. Layouts past kMaxCiphertextsPerTensor are left out.
  std::map<Placement, Layout> gridPlacements(Operation *op) const {
    const Layout l = layoutOf(op->getOperand(0));
    const Shape out = shapeOf(op->getResult(0));
    int64_t stride = 1;
    if (auto c = dyn_cast<fhe::Conv2dOp>(op))
      stride = int64_t(c.getStride());
    else
      stride = int64_t(cast<fhe::AvgPool2dOp>(op).getStride());
    std::map<Placement, Layout> options{
        {Placement::Compact, paddedLayout(out)}};
    auto offer = [&](Placement p, std::optional<Layout> layout) {
      if (layout && partsFor(layout->extent) <= kMaxCiphertextsPerTensor &&
          !(*layout == options.at(Placement::Compact)))
        options.emplace(p, *layout);
    };
    if (l.mux != 1) {
      offer(Placement::Multiplexed, multiplexedLayout(l, out, stride));
      return options;
    }
    offer(Placement::Grid,
          stridedLayout(out, {l.strides[0], stride * l.strides[1],
                              stride * l.strides[2]}));
    if (stride > 1)
      offer(Placement::Multiplexed, multiplexedLayout(l, out, stride));
    return options;
  }

  /// The layout `op`'s cipher result takes, from its operands' layouts and
  /// its placement. The one statement of each op's layout rule: the
  /// patterns read what the assignment left (layoutOf).
  Layout resultLayout(Operation *op) {
    Value result = op->getResult(0);
    const Shape shape = shapeOf(result);
    const Layout compactLayout = paddedLayout(shape);
    // Elementwise on one cipher operand: its layout.
    if (isa<fhe::NegOp, fhe::PolyOp, fhe::NonlinearOp, fhe::BootstrapOp,
            fhe::BatchNormOp>(op))
      return layoutOf(op->getOperand(0));
    if (isElementwiseBinary(op)) {
      Value lhs = op->getOperand(0), rhs = op->getOperand(1);
      const bool cl = isCipher(lhs), cr = isCipher(rhs);
      if (cl && cr) {
        // Broadcasting gathers into compact positions.
        if (shapeOf(lhs) != shape || shapeOf(rhs) != shape)
          return compactLayout;
        const Layout left = layoutOf(lhs), right = layoutOf(rhs);
        if (left == right)
          return left;
        offered[op] = {Placement::Left, Placement::Right};
        auto [it, fresh] = placements.try_emplace(op, Placement::Left);
        return it->second == Placement::Right ? right : left;
      }
      Value c = cl ? lhs : rhs;
      return shapeOf(c) == shape ? layoutOf(c) : compactLayout;
    }
    if (isa<fhe::Conv2dOp, fhe::AvgPool2dOp>(op)) {
      auto options = gridPlacements(op);
      for (auto &[p, l] : options)
        offered[op].insert(p);
      auto it = placements.find(op);
      if (it == placements.end() || !options.count(it->second)) {
        // The rule of thumb: the fewest ciphertexts, in the input's grid
        // before multiplexed before compact.
        Placement best = Placement::Compact;
        for (auto &[p, l] : options)
          if (partsFor(l.extent) < partsFor(options.at(best).extent) ||
              (partsFor(l.extent) == partsFor(options.at(best).extent) &&
               p < best))
            best = p;
        // A placement that is not possible now (its input's layout changed)
        // is kept for when it is again.
        if (it == placements.end())
          placements[op] = best;
        return options.at(best);
      }
      return options.at(it->second);
    }
    Value rowInput;
    if (auto l = dyn_cast<fhe::LinearOp>(op))
      rowInput = l.getInput();
    if (auto mm = dyn_cast<fhe::MatMulOp>(op)) {
      if (isCipher(mm.getLhs()) && isCipher(mm.getRhs()))
        return cipherProductLayout(mm);
      // cipher @ plain matrix by rows; the other plain forms are maps to a
      // compact result.
      if (isCipher(mm.getLhs()) && shapeOf(mm.getRhs()).size() == 2)
        rowInput = mm.getLhs();
    }
    if (rowInput) {
      // Batched rows keep the input's row stride when the output rows fit
      // it, so that the map has 2 P - 1 diagonals (a strided input is read
      // where it is; the output rows are padded).
      const Shape inShape = shapeOf(rowInput);
      if (inShape.size() < 2)
        return compactLayout;
      const Layout in = layoutOf(rowInput);
      Shape padded = in.padded.empty() ? inShape : in.padded;
      padded.back() = std::max(
          padded.back(), int64_t(llvm::PowerOf2Ceil(uint64_t(shape.back()))));
      return paddedLayout(padded);
    }
    return compactLayout;
  }

  /// cipher @ cipher of matrices (MatMulLowering::cipherProduct): the [m,
  /// n] corner of each d x d block, d the power of two past m, k and n; a
  /// vector operand gives a compact result.
  static Layout cipherProductLayout(fhe::MatMulOp mm) {
    const Shape a = shapeOf(mm.getLhs()), b = shapeOf(mm.getRhs());
    Shape shape = shapeOf(mm.getResult());
    if (a.size() == 1 || b.size() == 1)
      return paddedLayout(shape);
    const int64_t d = int64_t(llvm::PowerOf2Ceil(
        uint64_t(std::max({a[a.size() - 2], a.back(), b.back()}))));
    shape[shape.size() - 2] = d;
    shape.back() = d;
    return paddedLayout(shape);
  }

  /// Estimated work in units of one rotation (a key switch): a diagonal's
  /// encoding and product, a ciphertext product with its relinearization,
  /// a level of one ciphertext (what its share of the next bootstrap costs:
  /// a bootstrap at N = 2^16 is ~150 rotations' work and refreshes ~8
  /// levels), and a bootstrap. Relative weights from the CPU traces in
  /// docs/benchmarks.md; only their ratios matter.
  static constexpr double kDiagonalCost = 0.15, kProductCost = 1,
                          kLevelCost = 20, kBootstrapCost = 150;

  /// applyLinearMap's work over `entries`: each (output part, input part)
  /// block's rotations and diagonals (planSlotMap) or its one rotation
  /// (fullRotation), each doubled input part's rotation, and a level per
  /// output part but those made of whole-ciphertext rotations alone.
  double mapCost(const std::vector<MapEntry> &entries, int64_t inExtent,
                 int64_t outExtent) const {
    double cost = 0;
    std::set<int64_t> doubled, rotated, multiplied;
    forEachBlock(
        entries, inExtent, outExtent,
        [&](int64_t out, int64_t in, const std::vector<MapEntry> &block) {
          if (std::optional<int64_t> k = fullRotation(block)) {
            cost += *k != 0;
            rotated.insert(out);
            return;
          }
          multiplied.insert(out);
          SlotMapPlan plan =
              planSlotMap(slots, partExtent(inExtent, size_t(in)), block);
          cost +=
              double(plan.rotations) + double(plan.diagonals) * kDiagonalCost;
          if (plan.doubled)
            doubled.insert(in);
        });
    int64_t levelled = partsFor(outExtent);
    for (int64_t out : rotated)
      levelled -= !multiplied.count(out);
    return cost + double(doubled.size()) + double(levelled) * kLevelCost;
  }

  /// A layout as a key for the cost caches.
  static void appendKey(std::vector<int64_t> &key, const Layout &l) {
    llvm::append_range(key, l.strides);
    key.push_back(l.extent);
    key.push_back(l.mux);
  }

  /// relayout's work from `from` to `to` (planRelayout's steps).
  double relayoutCost(const Shape &shape, const Layout &from,
                      const Layout &to) {
    if (from == to)
      return 0;
    std::vector<int64_t> key(shape);
    key.push_back(-1);
    appendKey(key, from);
    appendKey(key, to);
    auto [it, fresh] = relayoutCosts.try_emplace(std::move(key), 0.0);
    if (!fresh)
      return it->second;
    RelayoutPlan plan = planRelayout(shape, from, to);
    std::vector<Layout> steps = plan.steps;
    if (steps.empty())
      steps.push_back(to);
    double cost = 0;
    Layout at = from;
    for (const Layout &step : steps) {
      cost += mapCost(moveEntries(shape, at, step), at.extent, step.extent);
      at = step;
    }
    return it->second = cost;
  }

  /// The work of converting `v` to `to` for one use: its compact copy is
  /// made once for all uses (compact()).
  double conversionCost(Value v, const Layout &to) {
    const Shape shape = shapeOf(v);
    if (!(to == paddedLayout(shape)))
      return relayoutCost(shape, layoutOf(v), to);
    if (isCompact(v) || !pricedCompactCopies.insert(v).second)
      return 0;
    return relayoutCost(shape, layoutOf(v), to);
  }

  /// The approximation a nonlinear op or max/min gets (cached: the search
  /// prices it many times, the pattern lists it).
  const std::variant<approx::Approximation, std::string> &
  approximation(Operation &op) {
    auto it = approximationCache.find(&op);
    if (it == approximationCache.end())
      it = approximationCache.emplace(&op, fhe::approximationOf(op, precision))
               .first;
    return it->second;
  }

  /// `op`'s estimated work under the current layouts (see kLevelCost).
  double opCost(Operation *op) {
    if (isa<func::ReturnOp>(op)) {
      double cost = 0;
      for (Value v : op->getOperands())
        if (isStrided(v))
          cost += conversionCost(v, paddedLayout(shapeOf(v)));
      return cost;
    }
    Value result = op->getResult(0);
    const Shape shape = shapeOf(result);
    const double parts = double(partsFor(extentOf(result)));
    auto compactOperands = [&] {
      double cost = 0;
      for (Value v : op->getOperands())
        if (isCipher(v) && shapeOf(v) == shape)
          cost += conversionCost(v, paddedLayout(shape));
      return cost;
    };
    if (isa<fhe::Conv2dOp, fhe::AvgPool2dOp, fhe::GlobalAvgPoolOp>(op)) {
      std::vector<int64_t> key{int64_t(reinterpret_cast<intptr_t>(op))};
      appendKey(key, layoutOf(op->getOperand(0)));
      appendKey(key, layoutOf(result));
      auto [it, fresh] = mapCosts.try_emplace(std::move(key), 0.0);
      if (fresh)
        it->second = mapCost(placedEntries(op, nullptr),
                             extentOf(op->getOperand(0)), extentOf(result));
      return it->second;
    }
    auto approximationCost = [&] {
      auto *a = std::get_if<approx::Approximation>(&approximation(*op));
      return a ? parts * (a->products * kProductCost + a->depth * kLevelCost)
               : 0.0;
    };
    if (isElementwiseBinary(op)) {
      Value lhs = op->getOperand(0), rhs = op->getOperand(1);
      double cost = isa<fhe::MaxMinOp>(op) ? approximationCost() : 0;
      if (isCipher(lhs) && isCipher(rhs)) {
        if (shapeOf(lhs) == shape && shapeOf(rhs) == shape)
          cost += conversionCost(lhs, layoutOf(result)) +
                  conversionCost(rhs, layoutOf(result));
        else
          cost += compactOperands() + parts * kLevelCost;
        if (isa<fhe::MulOp>(op))
          cost += parts * (kProductCost + kLevelCost);
        return cost;
      }
      if (shapeOf(isCipher(lhs) ? lhs : rhs) != shape)
        cost += parts * kLevelCost;
      return cost + (isa<fhe::MulOp, fhe::DivOp>(op) ? parts * kLevelCost : 0);
    }
    if (isa<fhe::NonlinearOp>(op))
      return approximationCost();
    if (auto p = dyn_cast<fhe::PolyOp>(op)) {
      approx::SeriesPlan plan = approx::planSeries(p.getCoefficients().vec(),
                                                   p.getBasis() == "chebyshev");
      return parts * (plan.products * kProductCost + plan.depth * kLevelCost);
    }
    if (isa<fhe::BootstrapOp>(op))
      return parts * kBootstrapCost;
    if (isa<fhe::NegOp>(op))
      return 0;
    if (isa<fhe::BatchNormOp>(op))
      return parts * kLevelCost;
    // Ops that read whole slot ranges take a compact copy first: reshape,
    // a sum or mean over everything, and a roll or a sum or mean over an
    // axis on one ciphertext (over several they are maps that read
    // positions).
    Value in = op->getOperand(0);
    auto overEverything = [&] {
      if (auto sum = dyn_cast<fhe::SumOp>(op))
        return !sum.getAxis();
      if (auto mean = dyn_cast<fhe::MeanOp>(op))
        return !mean.getAxis();
      return false;
    };
    const bool wholeSlots = isa<fhe::ReshapeOp>(op) || overEverything() ||
                            (isa<fhe::RollOp, fhe::SumOp, fhe::MeanOp>(op) &&
                             shapes::numElements(shapeOf(in)) <= slots);
    if (wholeSlots && isCipher(in))
      return conversionCost(in, paddedLayout(shapeOf(in))) +
             parts * (1 + kLevelCost);
    // The other maps (linear, matmul, slices, transpose, concat, rolls and
    // sums over several ciphertexts): a level and about a rotation per
    // output ciphertext; their cost moves little with their inputs'
    // layouts.
    return parts * (1 + kLevelCost);
  }

  /// Lays out every cipher value under the current placements (main's
  /// arguments keep theirs) and returns the program's estimated work.
  double programCost() {
    layouts = argumentLayouts;
    pricedCompactCopies.clear();
    offered.clear();
    double cost = 0;
    for (Operation *op : layoutOrder) {
      if (!isa<func::ReturnOp>(op))
        setLayout(op->getResult(0), resultLayout(op));
      cost += opCost(op);
    }
    return cost;
  }

  /// programCost with each elementwise op's converted operand chosen in
  /// turn while the total falls. The conversions are chosen for every
  /// placement of the maps tried: a map's placement alone, with the
  /// conversions of another one, would be priced against needless ones.
  /// Only meetings of differing layouts are tried (`offered`, from the
  /// last pass, which a rejected trial re-lays).
  double costWithConversions() {
    double cost = programCost();
    for (int sweep = 0; sweep < 4; ++sweep) {
      bool improved = false;
      for (Operation *op : layoutOrder) {
        if (!isElementwiseBinary(op) || !offered.count(op))
          continue;
        const Placement was = placements.lookup(op);
        placements[op] =
            was == Placement::Left ? Placement::Right : Placement::Left;
        // Relative: the totals are sums of doubles in one order.
        if (const double c = programCost(); c < cost * (1 - 1e-9)) {
          cost = c;
          improved = true;
        } else {
          placements[op] = was;
          programCost();
        }
      }
      if (!improved)
        break;
    }
    return cost;
  }

  /// Chooses the placements (see Layout assignment) and leaves every
  /// cipher value's layout in `layouts`.
  void assignLayouts() {
    argumentLayouts = layouts;
    main.walk([&](Operation *op) {
      if (isa<func::ReturnOp>(op) ||
          (op->getNumResults() == 1 && isCipher(op->getResult(0))))
        layoutOrder.push_back(op);
    });
    chosenCost = ruleOfThumbCost = programCost();
    if (layoutSearch) {
      chosenCost = costWithConversions();
      // Each map's placement offered now tried in turn, in program order,
      // while the total falls (a few sweeps: a later choice changes what
      // an earlier one is priced against).
      for (int sweep = 0; sweep < 4; ++sweep) {
        bool improved = false;
        for (Operation *op : layoutOrder) {
          if (!isa<fhe::Conv2dOp, fhe::AvgPool2dOp>(op))
            continue;
          for (Placement p :
               {Placement::Grid, Placement::Multiplexed, Placement::Compact}) {
            if (placements.lookup(op) == p || !offered.lookup(op).count(p))
              continue;
            auto before = placements;
            placements[op] = p;
            if (const double c = costWithConversions();
                c < chosenCost * (1 - 1e-9)) {
              chosenCost = c;
              improved = true;
            } else {
              placements = std::move(before);
              programCost();
            }
          }
        }
        if (!improved)
          break;
      }
    }
    describeLayouts();
  }

  /// For --emit stats: each conv2d's and avgpool2d's layout and each
  /// conversion between layouts an elementwise op makes.
  void describeLayouts() {
    auto lineOf = [](Operation *op) -> unsigned {
      if (auto fl = dyn_cast<FileLineColLoc>(op->getLoc()))
        return fl.getLine();
      return 0;
    };
    auto describe = [&](Value v) {
      const Layout l = layoutOf(v);
      const int64_t parts = partsFor(l.extent);
      std::string kind = l.mux != 1
                             ? "multiplexed (g = " + std::to_string(l.mux) + ")"
                         : isCompact(v)     ? "compact"
                         : l.padded.empty() ? "in its input's grid"
                                            : "padded rows";
      return kind + ", " + std::to_string(parts) +
             (parts == 1 ? " ciphertext" : " ciphertexts");
    };
    Builder b(main->getContext());
    std::set<std::vector<int64_t>> convertedOnce;
    for (Operation *op : layoutOrder) {
      const std::string at = "line " + std::to_string(lineOf(op)) + ": " +
                             op->getName().stripDialect().str();
      if (isa<fhe::Conv2dOp, fhe::AvgPool2dOp>(op)) {
        layoutNotes.push_back(
            b.getStringAttr(at + " -> " + describe(op->getResult(0))));
        continue;
      }
      auto it = placements.find(op);
      if (it == placements.end() || !isElementwiseBinary(op))
        continue;
      Value converted = op->getOperand(it->second == Placement::Left ? 1 : 0);
      const Layout to = layoutOf(op->getResult(0));
      if (layoutOf(converted) == to)
        continue;
      // A value converted to one layout twice is converted once (compact
      // copies are shared; relayout is not, but prices each).
      std::vector<int64_t> key{
          int64_t(reinterpret_cast<intptr_t>(converted.getAsOpaquePointer()))};
      appendKey(key, to);
      if (to == paddedLayout(shapeOf(converted)) &&
          !convertedOnce.insert(std::move(key)).second)
        continue;
      ++conversions;
      layoutNotes.push_back(
          b.getStringAttr(at + " converts its " +
                          (it->second == Placement::Left ? "right" : "left") +
                          " operand to " + describe(op->getResult(0))));
    }
  }

  //===--------------------------------------------------------------------===//
  // Approximations
  //===--------------------------------------------------------------------===//

  /// The approximation `op` gets (fhe::approximationOf: the evaluator of
  /// --plain --approx runs the same one), listed for --emit stats.
  FailureOr<approx::Approximation> approximationFor(Operation &op) {
    const auto &result = approximation(op);
    if (auto *why = std::get_if<std::string>(&result))
      return fail(op.getLoc(), *why);
    const auto &a = std::get<approx::Approximation>(result);
    unsigned line = 0;
    if (auto fl = dyn_cast<FileLineColLoc>(op.getLoc()))
      line = fl.getLine();
    approximations.push_back(StringAttr::get(
        op.getContext(), "line " + std::to_string(line) + ": " + a.describe()));
    return a;
  }

  func::FuncOp main;
  int64_t slots;
  /// The automatic slot count's cap.
  const int64_t maxSlots;
  /// The program's precision target (a nonlinear op's own, if set, wins).
  const double precision;
  /// Whether the layout assignment searches (else: its rule of thumb).
  const bool layoutSearch;
  /// "line L: <approximation>" for each nonlinear op lowered, in order.
  SmallVector<Attribute> approximations;
  /// The layout assignment's account for --emit stats: each conv2d's and
  /// avgpool2d's layout and each conversion, the estimated work of the
  /// chosen placements and of the rule of thumb they started from.
  SmallVector<Attribute> layoutNotes;
  double chosenCost = 0, ruleOfThumbCost = 0;
  int64_t conversions = 0;

private:
  /// Batched rows ([..., n] -> [..., m] linear maps) cost 2 P - 1 diagonals
  /// when input and output rows share a stride P >= n, m, and up to B |n -
  /// m| more when they are compact. So main's inputs whose values reach such
  /// a map elementwise get their last axis padded to the widest one's P.
  void chooseInputLayouts() {
    rowStride = 0;
    llvm::SmallVector<Value> reach;
    main.walk([&](Operation *op) {
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

  struct RecordedError {
    Location loc;
    /// The op to emit on (printed with the error where the tool prints
    /// ops), or null for `loc`.
    Operation *op;
    std::string what;
  };
  LogicalResult record(RecordedError e) {
    if (!error)
      error = std::move(e);
    return failure();
  }
  std::optional<RecordedError> error;
  /// The layouts of cipher values that are not compact (see Layouts).
  llvm::DenseMap<Value, Layout> layouts;
  /// Compact copies already made (compact()).
  llvm::DenseMap<Value, Parts> compacted;
  /// The layout assignment's state: main's argument layouts, the ops laid
  /// out in order, the placements, the cost caches (by op or shape and
  /// layouts) and the compact copies priced in the current pass.
  llvm::DenseMap<Value, Layout> argumentLayouts;
  std::vector<Operation *> layoutOrder;
  llvm::DenseMap<Operation *, Placement> placements;
  /// The placements each op could take in the last pass (programCost).
  llvm::DenseMap<Operation *, std::set<Placement>> offered;
  std::map<std::vector<int64_t>, double> mapCosts, relayoutCosts;
  llvm::DenseSet<Value> pricedCompactCopies;
  std::map<Operation *, std::variant<approx::Approximation, std::string>>
      approximationCache;
  /// The padded last extent of batched rows (chooseInputLayouts; 0: none).
  int64_t rowStride = 0;
  /// Compile-time plaintexts by value (std::map: references stay valid).
  std::map<const void *, PlainTensor> plainValues;
};

//===----------------------------------------------------------------------===//
// One pattern per op
//===----------------------------------------------------------------------===//

/// The pattern of one fhe op kind. `lower` emits the op's ciphertexts with
/// the emitter (at the op, levels managed as it goes) and returns them, the
/// result's parts; a plaintext result is folded into the state and has
/// none. On failure it has recorded the error.
template <class Op> class FheLowering : public OpConversionPattern<Op> {
public:
  using Adaptor = typename OpConversionPattern<Op>::OneToNOpAdaptor;

  FheLowering(MLIRContext *ctx, LoweringState &state)
      : OpConversionPattern<Op>(ctx), s(state) {}

  LogicalResult
  matchAndRewrite(Op op, Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const final {
    if (std::optional<std::string> why = s.runtimeUseError(op))
      return s.fail(op.getLoc(), *why);
    ckks::Emitter e(rewriter, s.slots);
    e.loc = op.getLoc();
    FailureOr<Parts> parts = lower(op, adaptor, e);
    if (failed(parts))
      return failure();
    // The range analysis' bound of the result, where bootstraps read it.
    if (auto bound = op->template getAttrOfType<FloatAttr>(fhe::kBoundAttr))
      for (Value part : *parts)
        if (Operation *def = part.getDefiningOp()) {
          auto had = def->getAttrOfType<FloatAttr>(ckks::kBoundAttr);
          if (!had || had.getValueAsDouble() > bound.getValueAsDouble())
            rewriter.modifyOpInPlace(
                def, [&] { def->setAttr(ckks::kBoundAttr, bound); });
        }
    ValueRange replacement(*parts);
    rewriter.replaceOpWithMultiple(op, ArrayRef<ValueRange>(replacement));
    return success();
  }

protected:
  virtual FailureOr<Parts> lower(Op op, Adaptor adaptor,
                                 ckks::Emitter &e) const = 0;

  LoweringState &s;
};

struct WeightLowering : FheLowering<fhe::WeightOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::WeightOp w, Adaptor,
                         ckks::Emitter &) const override {
    try {
      auto file = dsl::SafetensorsFile::open(w.getFile().str());
      s.setPlain(w.getResult(),
                 {shapeOf(w.getResult()), file->read(w.getName().str())});
    } catch (const std::exception &ex) {
      return s.failOnMain(ex.what());
    }
    return Parts();
  }
};

struct ConstantLowering : FheLowering<fhe::ConstantOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::ConstantOp c, Adaptor,
                         ckks::Emitter &) const override {
    s.setPlain(c.getResult(), {shapeOf(c.getResult()),
                               std::vector<double>(c.getValues().begin(),
                                                   c.getValues().end())});
    return Parts();
  }
};

/// add, sub, mul and div: cipher and plain operands in any combination
/// (div by a cipher is rejected by sema), NumPy broadcasting.
template <class Op> struct ElementwiseLowering : FheLowering<Op> {
  using Base = FheLowering<Op>;
  using Base::Base;
  using Base::s;
  using typename Base::Adaptor;

  FailureOr<Parts> lower(Op op, Adaptor a, ckks::Emitter &e) const override {
    Value lhs = op.getLhs(), rhs = op.getRhs(), result = op.getResult();
    Shape shape = shapeOf(result);
    bool cl = isCipher(lhs), cr = isCipher(rhs);
    if (!cl && !cr) {
      // Compile-time evaluation of plaintext arithmetic.
      auto x = broadcastTo(s.plain(lhs), shape);
      auto y = broadcastTo(s.plain(rhs), shape);
      for (size_t i = 0; i < x.size(); ++i) {
        if constexpr (std::is_same_v<Op, fhe::AddOp>)
          x[i] += y[i];
        else if constexpr (std::is_same_v<Op, fhe::SubOp>)
          x[i] -= y[i];
        else if constexpr (std::is_same_v<Op, fhe::MulOp>)
          x[i] *= y[i];
        else if (y[i] == 0)
          return s.fail(op.getLoc(),
                        "division by zero: the divisor is 0 at flat index " +
                            std::to_string(i));
        else
          x[i] /= y[i];
      }
      s.setPlain(result, {shape, std::move(x)});
      return Parts();
    }
    if (cl && cr) {
      // Both in the result's layout (assignLayouts: the left one's or the
      // right one's when both have the result's shape, else compact).
      Parts x, y;
      if (shapeOf(lhs) == shape && shapeOf(rhs) == shape) {
        const Layout layout = s.layoutOf(result);
        x = s.convert(e, lhs, a.getLhs(), layout);
        y = s.convert(e, rhs, a.getRhs(), layout);
      } else {
        x = shapeOf(lhs) == shape
                ? s.compact(e, lhs, a.getLhs())
                : s.broadcastCipher(e, lhs, a.getLhs(), shape);
        y = shapeOf(rhs) == shape
                ? s.compact(e, rhs, a.getRhs())
                : s.broadcastCipher(e, rhs, a.getRhs(), shape);
      }
      return eachPart(x, [&](Value xk, size_t k) {
        if constexpr (std::is_same_v<Op, fhe::AddOp>)
          return e.add(xk, y[k]);
        else if constexpr (std::is_same_v<Op, fhe::SubOp>)
          return e.sub(xk, y[k]);
        else
          return e.mul(xk, y[k]);
      });
    }
    Value cipherOperand = cl ? lhs : rhs;
    ValueRange cipherParts = cl ? a.getLhs() : a.getRhs();
    if (shapeOf(cipherOperand) != shape) {
      // Broadcast the cipher operand first; the plain one then has the
      // result's shape and the compact layout.
      Parts wide = s.broadcastCipher(e, cipherOperand, cipherParts, shape);
      return withPlain(op, e, wide, cl, cl ? rhs : lhs);
    }
    return withPlain(op, e, cipherParts, cl, cl ? rhs : lhs);
  }

  /// ct (of the result's shape, in the result's layout) op the plain
  /// operand.
  FailureOr<Parts> withPlain(Op op, ckks::Emitter &e, ValueRange ct,
                             bool cipherOnLeft, Value plainOperand) const {
    Value result = op.getResult();
    const Shape shape = shapeOf(result);
    const Layout layout = s.layoutOf(result);
    const PlainTensor &pt = s.plain(plainOperand);
    RuntimeEncodes runtime(e, pt);
    const bool scalar = pt.values.size() == 1;
    std::vector<double> values = broadcastTo(pt, shape);
    auto placed = [&](const std::vector<double> &v) {
      return place(shape, layout, v, scalar);
    };
    const int64_t extent = layout.extent;
    auto addPlain = [&](const std::vector<double> &v, bool negate) {
      return eachPart(ct, [&](Value x, size_t k) {
        return e.addPlain(negate ? e.negate(x) : x, s.partOf(v, k));
      });
    };
    auto mulValues = [&](const std::vector<double> &v) {
      return eachPart(ct, [&](Value x, size_t k) {
        return e.mulValues(x, s.partOf(v, k), s.partExtent(extent, k));
      });
    };
    // A sum adds at the elements only (a scalar too), so a layout's gaps keep
    // their 0 (gapMask); a product by a scalar is a constant product over
    // every slot, which keeps it too.
    auto atElements = [&](const std::vector<double> &v) {
      return place(shape, layout, v, false);
    };
    Parts out;
    if constexpr (std::is_same_v<Op, fhe::AddOp>) {
      out = addPlain(atElements(values), false);
    } else if constexpr (std::is_same_v<Op, fhe::SubOp>) {
      if (cipherOnLeft) {
        for (double &v : values)
          v = -v;
        out = addPlain(atElements(values), false);
      } else { // plain - cipher
        out = addPlain(atElements(values), true);
      }
    } else if constexpr (std::is_same_v<Op, fhe::MulOp>) {
      out = mulValues(placed(values));
    } else { // cipher / plain
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] == 0)
          return s.fail(
              op.getLoc(),
              scalar ? std::string("division by zero")
                     : "division by zero: the divisor is 0 at flat index " +
                           std::to_string(i));
        values[i] = 1 / values[i];
      }
      out = mulValues(placed(values));
    }
    return out;
  }
};

struct NegLowering : FheLowering<fhe::NegOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::NegOp n, Adaptor a,
                         ckks::Emitter &e) const override {
    Value in = n.getInput();
    if (isCipher(in)) {
      return eachPart(a.getInput(),
                      [&](Value ct, size_t) { return e.negate(ct); });
    }
    PlainTensor t = s.plain(in);
    for (double &v : t.values)
      v = -v;
    s.setPlain(n.getResult(), std::move(t));
    return Parts();
  }
};

struct RollLowering : FheLowering<fhe::RollOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::RollOp r, Adaptor a,
                         ckks::Emitter &e) const override {
    Value in = r.getInput();
    Shape shape = shapeOf(in);
    int64_t axis = static_cast<int64_t>(r.getAxis());
    shapes::normalizeAxis(axis, shape.size());
    const int64_t na = shape[axis], shift = static_cast<int64_t>(r.getShift());
    const int64_t k = ((shift % na) + na) % na;
    const int64_t stride = shapes::strides(shape)[axis];
    const int64_t n = shapes::numElements(shape);
    if (!isCipher(in)) {
      const PlainTensor &t = s.plain(in);
      s.setPlain(
          r.getResult(),
          {shape, shapes::rollValues(shape, t.values, shift, axis), t.input});
      return Parts();
    }
    if (n > s.slots) {
      // Over several ciphertexts: the permutation as a linear map.
      std::vector<double> index(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        index[size_t(i)] = double(i);
      auto source = shapes::rollValues(shape, index, shift, axis);
      return s.gather(e, r.getResult(), in, a.getInput(),
                      [&](int64_t i) { return int64_t(source[size_t(i)]); });
    }
    Value x = s.compact(e, in, a.getInput())[0];
    if (k == 0)
      return Parts{x};
    // out[i] = x[i - k stride] where idx_axis >= k, else x[i + (na - k)
    // stride]. A 1-D tensor filling every slot is one cyclic rotation.
    if (shape.size() == 1 && n == s.slots)
      return Parts{e.rotate(x, -k)};
    std::vector<double> keep(static_cast<size_t>(n)),
        wrap(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      bool shifted = (i / stride) % na >= k;
      keep[size_t(i)] = shifted ? 1 : 0;
      wrap[size_t(i)] = shifted ? 0 : 1;
    }
    Value part1 = e.mulPlain(e.rotate(x, -k * stride), keep);
    Value part2 = e.mulPlain(e.rotate(x, (na - k) * stride), wrap);
    return Parts{e.add(part1, part2)};
  }
};

/// sum and mean, over one axis or all.
template <class Op> struct ReduceLowering : FheLowering<Op> {
  using Base = FheLowering<Op>;
  using Base::Base;
  using Base::s;
  using typename Base::Adaptor;

  FailureOr<Parts> lower(Op op, Adaptor a, ckks::Emitter &e) const override {
    constexpr bool mean = std::is_same_v<Op, fhe::MeanOp>;
    Value in = op.getInput();
    const Shape shape = shapeOf(in);
    std::optional<int64_t> axis;
    if (auto axisAttr = op.getAxis()) {
      axis = static_cast<int64_t>(*axisAttr);
      shapes::normalizeAxis(*axis, shape.size());
    }
    if (!isCipher(in)) {
      s.setPlain(op.getResult(),
                 {shapeOf(op.getResult()),
                  shapes::reduceValues(shape, s.plain(in).values,
                                       axis ? &*axis : nullptr, mean)});
      return Parts();
    }
    const int64_t n = shapes::numElements(shape);
    if (!axis) {
      // The compact parts summed, then rotate-and-add leaves the total in
      // every slot (the padding is zero); keep slot 0 only, scaled by 1/n
      // for the mean.
      Parts parts = s.compact(e, in, a.getInput());
      Value sum = parts[0];
      for (Value part : ArrayRef<Value>(parts).drop_front())
        sum = e.add(sum, part);
      for (int64_t step = 1; step < s.slots; step <<= 1)
        sum = e.add(sum, e.rotate(sum, step));
      return Parts{e.mulPlain(sum, {mean ? 1.0 / double(n) : 1.0})};
    }
    const int64_t na = shape[*axis], stride = shapes::strides(shape)[*axis];
    const int64_t outer = n / (na * stride);
    const double weight = mean ? 1.0 / double(na) : 1.0;
    if (n > s.slots) {
      // Over several ciphertexts: the reduction as a linear map.
      auto pos = s.positionsOf(in);
      std::vector<MapEntry> entries;
      for (int64_t i = 0; i < n; ++i)
        entries.push_back(
            {i / (na * stride) * stride + i % stride, pos[size_t(i)], weight});
      return s.applyLinearMap(e, a.getInput(), s.extentOf(in), n / na, entries);
    }
    Value sum = s.compact(e, in, a.getInput())[0];
    // Along the axis: after the additions, the slots whose index on the
    // axis is 0 hold their block's sum (a power-of-two extent doubles the
    // reach; others add one shifted copy at a time).
    if ((na & (na - 1)) == 0) {
      for (int64_t step = stride; step < na * stride; step <<= 1)
        sum = e.add(sum, e.rotate(sum, step));
    } else {
      Value x = sum;
      for (int64_t t = 1; t < na; ++t)
        sum = e.add(sum, e.rotate(x, t * stride));
    }
    // Keep those slots (scaled for the mean) and close the gaps: block o
    // moves left by o (na - 1) stride, one masked rotation per block.
    Value out;
    for (int64_t o = 0; o < outer; ++o) {
      std::vector<double> mask(size_t(o * na * stride + stride), 0.0);
      for (int64_t j = 0; j < stride; ++j)
        mask[size_t(o * na * stride + j)] = weight;
      Value part = e.rotate(e.mulPlain(sum, mask), o * (na - 1) * stride);
      out = out ? e.add(out, part) : part;
    }
    return Parts{out};
  }
};

/// a[lo:hi] and a[i] on the first axis.
template <class Op> struct SelectLowering : FheLowering<Op> {
  using Base = FheLowering<Op>;
  using Base::Base;
  using Base::s;
  using typename Base::Adaptor;

  FailureOr<Parts> lower(Op op, Adaptor a, ckks::Emitter &e) const override {
    Value in = op.getInput();
    const Shape shape = shapeOf(in);
    const int64_t inner = shapes::numElements(shape) / shape[0];
    int64_t lo;
    if constexpr (std::is_same_v<Op, fhe::SliceOp>)
      lo = static_cast<int64_t>(op.getLo());
    else
      lo = static_cast<int64_t>(op.getIndex());
    return s.gather(e, op.getResult(), in, a.getInput(),
                    [&](int64_t i) { return lo * inner + i; });
  }
};

struct TransposeLowering : FheLowering<fhe::TransposeOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::TransposeOp t, Adaptor a,
                         ckks::Emitter &e) const override {
    const Shape in = shapeOf(t.getInput()), out = shapeOf(t.getResult());
    std::vector<int64_t> perm(t.getPerm().begin(), t.getPerm().end());
    if (perm.empty())
      for (size_t k = in.size(); k-- > 0;)
        perm.push_back(int64_t(k));
    const auto inStrides = shapes::strides(in);
    return s.gather(e, t.getResult(), t.getInput(), a.getInput(),
                    [&](int64_t i) {
                      // out index (o_0..o_r) reads in index with
                      // in[perm[k]] = o_k.
                      int64_t src = 0;
                      for (size_t k = out.size(); k-- > 0;) {
                        src += (i % out[k]) * inStrides[size_t(perm[k])];
                        i /= out[k];
                      }
                      return src;
                    });
  }
};

struct ReshapeLowering : FheLowering<fhe::ReshapeOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::ReshapeOp r, Adaptor a,
                         ckks::Emitter &e) const override {
    // Row-major order is unchanged: the same slots, once compact.
    if (isCipher(r.getInput()))
      return s.compact(e, r.getInput(), a.getInput());
    const PlainTensor &t = s.plain(r.getInput());
    s.setPlain(r.getResult(), {shapeOf(r.getResult()), t.values, t.input});
    return Parts();
  }
};

struct ConcatLowering : FheLowering<fhe::ConcatOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::ConcatOp c, Adaptor a,
                         ckks::Emitter &e) const override {
    const Shape out = shapeOf(c.getResult());
    int64_t axis = static_cast<int64_t>(c.getAxis());
    shapes::normalizeAxis(axis, out.size());
    const auto outStrides = shapes::strides(out);
    // Each part fills the result elements whose index on the axis falls in
    // its range.
    int64_t offset = 0;
    Parts acc;
    PlainTensor folded{out,
                       std::vector<double>(size_t(shapes::numElements(out)))};
    bool anyPlain = false;
    for (auto [part, partCts] : llvm::zip_equal(c.getInputs(), a.getInputs())) {
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
      if (!isCipher(part)) {
        // The plain parts are all known or all of one run-time input
        // (runtimeUseError).
        const PlainTensor &t = s.plain(part);
        for (int64_t i = 0; i < n; ++i)
          if (int64_t j = sourceOf(i); j >= 0)
            folded.values[size_t(i)] = t.values[size_t(j)];
        folded.input = t.input;
        anyPlain = true;
        continue;
      }
      auto pos = s.positionsOf(part);
      std::vector<MapEntry> entries;
      for (int64_t i = 0; i < n; ++i)
        if (int64_t j = sourceOf(i); j >= 0)
          entries.push_back({i, pos[size_t(j)], 1.0});
      // Output parts this part does not reach are not added (a zero part
      // would cost a product and a level).
      Parts placed =
          s.applyLinearMap(e, partCts, s.extentOf(part), n, entries, false);
      if (acc.empty())
        acc.resize(placed.size());
      for (auto [sum, add] : llvm::zip_equal(acc, placed))
        if (add)
          sum = sum ? e.add(sum, add) : add;
    }
    // A part no input reaches is zero.
    for (Value &part : acc)
      if (!part)
        part =
            e.mulConst(*llvm::find_if(acc, [](Value v) { return bool(v); }), 0);
    if (acc.empty()) {
      s.setPlain(c.getResult(), std::move(folded));
      return Parts();
    }
    if (!anyPlain)
      return acc;
    RuntimeEncodes runtime(e, folded);
    return eachPart(acc, [&](Value ct, size_t k) {
      return e.addPlain(ct, s.partOf(folded.values, k));
    });
  }
};

/// Σ c_k x^k, or Σ c_k T_k(t) with t the affine map of the range onto
/// [-1, 1] (chebyshev); constants fill the tensor's slots only.
struct PolyLowering : FheLowering<fhe::PolyOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::PolyOp p, Adaptor a,
                         ckks::Emitter &e) const override {
    Value in = p.getInput();
    const bool chebyshev = p.getBasis() == "chebyshev";
    if (!isCipher(in)) {
      PlainTensor t = s.plain(in);
      for (double &v : t.values)
        v = dsl::evaluatePolynomial(p.getCoefficients(), chebyshev,
                                    p.getRange()[0], p.getRange()[1], v);
      s.setPlain(p.getResult(), std::move(t));
      return Parts();
    }
    const int64_t extent = s.extentOf(in);
    return eachPart(a.getInput(), [&](Value x, size_t k) {
      const int64_t n = s.partExtent(extent, k);
      return chebyshev
                 ? e.chebyshevSeries(x, p.getCoefficients(), p.getRange()[0],
                                     p.getRange()[1], n, s.gapMask(in, k))
                 : e.powerSeries(x, p.getCoefficients(), p.getRange()[0],
                                 p.getRange()[1], n, s.gapMask(in, k));
    });
  }
};

struct NonlinearLowering : FheLowering<fhe::NonlinearOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::NonlinearOp nl, Adaptor a,
                         ckks::Emitter &e) const override {
    Value in = nl.getInput();
    const StringRef fn = nl.getFunction();
    if (!isCipher(in)) {
      PlainTensor t = s.plain(in);
      for (double &v : t.values)
        v = dsl::evaluateNonlinear(fn, v);
      s.setPlain(nl.getResult(), std::move(t));
      return Parts();
    }
    FailureOr<approx::Approximation> approximation = s.approximationFor(*nl);
    if (failed(approximation))
      return failure();
    const int64_t extent = s.extentOf(in);
    return eachPart(a.getInput(), [&](Value x, size_t k) {
      return emitApproximation(e, x, *approximation, s.partExtent(extent, k),
                               s.gapMask(in, k));
    });
  }
};

/// max(a, b) = (a + b) / 2 + |a - b| / 2 and min with the sign flipped,
/// |a - b| by the approximation of abs on [-(hi - lo), hi - lo].
struct MaxMinLowering : FheLowering<fhe::MaxMinOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::MaxMinOp mm, Adaptor a,
                         ckks::Emitter &e) const override {
    Value lhs = mm.getLhs(), rhs = mm.getRhs(), result = mm.getResult();
    const Shape shape = shapeOf(result);
    const bool cl = isCipher(lhs), cr = isCipher(rhs);
    const double sign = mm.getIsMax() ? 1 : -1;
    if (!cl && !cr) {
      auto x = broadcastTo(s.plain(lhs), shape);
      auto y = broadcastTo(s.plain(rhs), shape);
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = sign > 0 ? std::max(x[i], y[i]) : std::min(x[i], y[i]);
      s.setPlain(result, {shape, std::move(x)});
      return Parts();
    }
    // In the result's layout (resultLayout: an operand's, as for the other
    // elementwise ops), a broadcast operand gathered compact.
    const Layout layout = s.layoutOf(result);
    auto asCipher = [&](Value v, ValueRange parts) {
      return shapeOf(v) == shape ? s.convert(e, v, parts, layout)
                                 : s.broadcastCipher(e, v, parts, shape);
    };
    FailureOr<approx::Approximation> abs = s.approximationFor(*mm);
    if (failed(abs))
      return failure();
    std::vector<double> p;
    if (!(cl && cr))
      p = place(shape, layout, broadcastTo(s.plain(cl ? rhs : lhs), shape),
                false);
    Parts xs = asCipher(cl ? lhs : rhs, cl ? a.getLhs() : a.getRhs());
    Parts y = cl && cr ? asCipher(rhs, a.getRhs()) : Parts();
    return eachPart(xs, [&](Value x, size_t k) {
      Value sum, diff;
      if (cl && cr) {
        sum = e.add(x, y[k]);
        diff = e.sub(x, y[k]);
      } else {
        // cipher op plain: diff = +-(x - p), the same |.|.
        std::vector<double> pk = s.partOf(p, k);
        sum = e.addPlain(x, pk);
        for (double &v : pk)
          v = -v;
        diff = e.addPlain(x, pk);
      }
      Value magnitude = emitApproximation(
          e, diff, *abs, s.partExtent(layout.extent, k), s.gapMask(result, k));
      return e.add(e.mulConst(sum, 0.5), e.mulConst(magnitude, 0.5 * sign));
    });
  }
};

/// A fresh top; ckks-place-bootstraps lowers it to the level its uses need.
struct BootstrapLowering : FheLowering<fhe::BootstrapOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::BootstrapOp bs, Adaptor a,
                         ckks::Emitter &e) const override {
    return eachPart(a.getInput(), [&](Value ct, size_t) -> Value {
      return ckks::BootstrapOp::create(
          e.b, e.loc,
          ckks::CiphertextType::get(bs.getContext(), kProvisionalTop, 1, 2),
          ct);
    });
  }
};

struct LinearLowering : FheLowering<fhe::LinearOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::LinearOp l, Adaptor a,
                         ckks::Emitter &e) const override {
    const PlainTensor &w = s.plain(l.getWeight());
    const int64_t m = w.shape[0], n = w.shape[1];
    std::optional<PlainTensor> bias;
    if (l.getBias())
      bias = s.plain(l.getBias());
    if (!isCipher(l.getInput())) {
      const PlainTensor &x = s.plain(l.getInput());
      s.setPlain(l.getResult(),
                 {shapeOf(l.getResult()),
                  shapes::linearValues(x.shape, x.values, w.shape, w.values,
                                       bias ? &bias->shape : nullptr,
                                       bias ? &bias->values : nullptr)});
      return Parts();
    }
    return s.rowMap(
        e, l.getResult(), l.getInput(), a.getInput(), w, m,
        [&](int64_t i, int64_t j) { return w.values[size_t(i * n + j)]; },
        bias ? &*bias : nullptr);
  }
};

/// numpy.matmul's operands as stacks of matrices (a 1-D lhs a row, a 1-D
/// rhs a column): each operand's flat element index for result batch t.
struct MatMulIndex {
  int64_t m, k, n, batches;
  std::vector<int64_t> lhsBatch, rhsBatch;

  MatMulIndex(Shape a, Shape b) {
    if (a.size() == 1)
      a.insert(a.begin(), 1);
    if (b.size() == 1)
      b.push_back(1);
    m = a[a.size() - 2];
    k = a.back();
    n = b.back();
    const Shape batchA(a.begin(), a.end() - 2), batchB(b.begin(), b.end() - 2);
    const Shape batch = shapes::broadcast(batchA, batchB).shape;
    batches = shapes::numElements(batch);
    lhsBatch = shapes::broadcastSources(batchA, batch);
    rhsBatch = shapes::broadcastSources(batchB, batch);
  }
  int64_t lhs(int64_t t, int64_t i, int64_t l) const {
    return (lhsBatch[size_t(t)] * m + i) * k + l;
  }
  int64_t rhs(int64_t t, int64_t l, int64_t j) const {
    return (rhsBatch[size_t(t)] * k + l) * n + j;
  }
  int64_t out(int64_t t, int64_t i, int64_t j) const {
    return (t * m + i) * n + j;
  }
};

/// Every numpy.matmul form: cipher @ plain matrix by rows (rowMap), any
/// other product with one plain operand as the linear map of the cipher
/// one that the plain values define, and cipher @ cipher.
struct MatMulLowering : FheLowering<fhe::MatMulOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::MatMulOp mm, Adaptor a,
                         ckks::Emitter &e) const override {
    Value lhs = mm.getLhs(), rhs = mm.getRhs();
    const bool cl = isCipher(lhs), cr = isCipher(rhs);
    if (cl && cr)
      return cipherProduct(mm, a, e);
    if (!cl && !cr) {
      const PlainTensor &x = s.plain(lhs), &y = s.plain(rhs);
      s.setPlain(mm.getResult(),
                 {shapeOf(mm.getResult()),
                  shapes::matmulValues(x.shape, x.values, y.shape, y.values)});
      return Parts();
    }
    if (cl && shapeOf(rhs).size() == 2) {
      const PlainTensor &w = s.plain(rhs);
      const int64_t m = w.shape[1];
      return s.rowMap(
          e, mm.getResult(), lhs, a.getLhs(), w, m,
          [&](int64_t i, int64_t j) { return w.values[size_t(j * m + i)]; },
          nullptr);
    }
    return plainProduct(mm, a, e);
  }

  /// out[t, i, j] = sum_l A[t, i, l] B[t, l, j] with one operand plain: a
  /// map of the cipher operand's elements (e.g. plain [m, k] @ cipher [k,
  /// n], cipher [m, k] @ plain [k], a batch of plain matrices), the result
  /// compact.
  Parts plainProduct(fhe::MatMulOp mm, Adaptor ops, ckks::Emitter &e) const {
    const bool cl = isCipher(mm.getLhs());
    const Value c = cl ? mm.getLhs() : mm.getRhs();
    const PlainTensor &plain = s.plain(cl ? mm.getRhs() : mm.getLhs());
    const std::vector<double> &p = plain.values;
    const MatMulIndex g(shapeOf(mm.getLhs()), shapeOf(mm.getRhs()));
    const auto pos = s.positionsOf(c);
    std::vector<MapEntry> entries;
    for (int64_t t = 0; t < g.batches; ++t)
      for (int64_t i = 0; i < g.m; ++i)
        for (int64_t l = 0; l < g.k; ++l)
          for (int64_t j = 0; j < g.n; ++j) {
            const int64_t fromPlain = cl ? g.rhs(t, l, j) : g.lhs(t, i, l);
            const int64_t fromCipher = cl ? g.lhs(t, i, l) : g.rhs(t, l, j);
            if (const double v = p[size_t(fromPlain)]; v != 0)
              entries.push_back({g.out(t, i, j), pos[size_t(fromCipher)], v});
          }
    RuntimeEncodes runtime(e, plain);
    return s.applyLinearMap(e, cl ? ops.getLhs() : ops.getRhs(), s.extentOf(c),
                            g.batches * g.m * g.n, entries);
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
  Parts cipherProduct(fhe::MatMulOp mm, Adaptor ops, ckks::Emitter &e) const {
    Value lhs = mm.getLhs(), rhs = mm.getRhs();
    const bool vectors = shapeOf(lhs).size() == 1 || shapeOf(rhs).size() == 1;
    const MatMulIndex g(shapeOf(lhs), shapeOf(rhs));
    const int64_t m = g.m, k = g.k, n = g.n, nb = g.batches;
    auto posA = s.positionsOf(lhs), posB = s.positionsOf(rhs);
    auto atA = [&](int64_t t, int64_t i, int64_t l) {
      return posA[size_t(g.lhs(t, i, l))];
    };
    auto atB = [&](int64_t t, int64_t l, int64_t j) {
      return posB[size_t(g.rhs(t, l, j))];
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
            s.applyLinearMap(e, ops.getLhs(), s.extentOf(lhs), outExtent, ea),
            s.applyLinearMap(e, ops.getRhs(), s.extentOf(rhs), outExtent, eb));
        acc = acc.empty() ? term : addParts(e, acc, term);
      }
      return acc;
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
    Parts sa =
        s.applyLinearMap(e, ops.getLhs(), s.extentOf(lhs), extent, sigma);
    Parts tb = s.applyLinearMap(e, ops.getRhs(), s.extentOf(rhs), extent, tau);
    for (int64_t l = 0; l < d; ++l) {
      std::vector<MapEntry> phi, psi;
      for (int64_t t = 0; t < nb; ++t)
        for (int64_t i = 0; i < d; ++i)
          for (int64_t j = 0; j < d; ++j) {
            phi.push_back({at(t, i, j), at(t, i, (j + l) % d), 1.0});
            psi.push_back({at(t, i, j), at(t, (i + l) % d, j), 1.0});
          }
      Parts term = product(s.applyLinearMap(e, sa, extent, extent, phi),
                           s.applyLinearMap(e, tb, extent, extent, psi));
      acc = acc.empty() ? term : addParts(e, acc, term);
    }
    return acc;
  }
};

/// conv2d as the linear map it is (placedEntries), the output where the
/// layout assignment put it (gridPlacements): in the input's grid or
/// multiplexed, a kh x kw kernel's diagonals number about O C/groups kh kw;
/// compact, about that many per output row.
struct Conv2dLowering : FheLowering<fhe::Conv2dOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::Conv2dOp c, Adaptor a,
                         ckks::Emitter &e) const override {
    Value in = c.getInput();
    const PlainTensor &w = s.plain(c.getWeight());
    if (!isCipher(in)) {
      const PlainTensor &x = s.plain(in);
      s.setPlain(c.getResult(),
                 {shapeOf(c.getResult()),
                  shapes::conv2dValues(
                      x.shape, x.values, w.shape, w.values,
                      c.getBias() ? &s.plain(c.getBias()).values : nullptr,
                      int64_t(c.getStride()), int64_t(c.getPadding()),
                      int64_t(c.getGroups()))});
      return Parts();
    }
    std::vector<MapEntry> entries = s.placedEntries(c, &w);
    Parts y = [&] {
      RuntimeEncodes runtime(e, w);
      return s.applyLinearMap(e, a.getInput(), s.extentOf(in),
                              s.extentOf(c.getResult()), entries);
    }();
    if (!c.getBias())
      return y;
    const PlainTensor &bias = s.plain(c.getBias());
    RuntimeEncodes runtime(e, bias);
    const Shape out = shapeOf(c.getResult());
    const int64_t pixels = out[1] * out[2];
    std::vector<double> bv(size_t(shapes::numElements(out)));
    for (size_t i = 0; i < bv.size(); ++i)
      bv[i] = bias.values[i / size_t(pixels)];
    bv = s.place(c.getResult(), bv, false);
    return eachPart(
        y, [&](Value ct, size_t k) { return e.addPlain(ct, s.partOf(bv, k)); });
  }
};

/// avgpool2d and global_avgpool: linear maps with weights 1 / window.
template <class Op> struct PoolLowering : FheLowering<Op> {
  using Base = FheLowering<Op>;
  using Base::Base;
  using Base::s;
  using typename Base::Adaptor;

  FailureOr<Parts> lower(Op op, Adaptor a, ckks::Emitter &e) const override {
    Value in = op.getInput();
    if (!isCipher(in)) {
      const PlainTensor &x = s.plain(in);
      std::vector<double> y;
      if constexpr (std::is_same_v<Op, fhe::AvgPool2dOp>)
        y = shapes::avgpool2dValues(x.shape, x.values, int64_t(op.getKernel()),
                                    int64_t(op.getStride()));
      else
        y = shapes::globalAvgpoolValues(x.shape, x.values);
      s.setPlain(op.getResult(), {shapeOf(op.getResult()), std::move(y)});
      return Parts();
    }
    return s.applyLinearMap(e, a.getInput(), s.extentOf(in),
                            s.extentOf(op.getResult()),
                            s.placedEntries(op, nullptr));
  }
};

/// Eval-mode batch normalization over axis 0: x * scale_c + shift_c.
struct BatchNormLowering : FheLowering<fhe::BatchNormOp> {
  using FheLowering::FheLowering;
  FailureOr<Parts> lower(fhe::BatchNormOp bn, Adaptor a,
                         ckks::Emitter &e) const override {
    Value in = bn.getInput();
    const auto &gamma = s.plain(bn.getGamma()).values,
               &beta = s.plain(bn.getBeta()).values,
               &mean = s.plain(bn.getMean()).values,
               &var = s.plain(bn.getVariance()).values;
    const double eps = bn.getEps().convertToDouble();
    if (!isCipher(in)) {
      const PlainTensor &x = s.plain(in);
      s.setPlain(bn.getResult(),
                 {x.shape, shapes::batchnormValues(x.shape, x.values, gamma,
                                                   beta, mean, var, eps)});
      return Parts();
    }
    const Shape xs = shapeOf(in);
    const size_t inner = size_t(shapes::numElements(xs) / xs[0]);
    std::vector<double> scale(inner * size_t(xs[0])), shift(scale.size());
    for (size_t i = 0; i < scale.size(); ++i) {
      const size_t c = i / inner;
      scale[i] = gamma[c] / std::sqrt(var[c] + eps);
      shift[i] = beta[c] - mean[c] * scale[i];
    }
    const std::vector<double> scaled = s.place(in, scale, false),
                              shifted = s.place(in, shift, false);
    const int64_t extent = s.extentOf(in);
    return eachPart(a.getInput(), [&](Value x, size_t k) {
      return e.addPlain(
          e.mulValues(x, s.partOf(scaled, k), s.partExtent(extent, k)),
          s.partOf(shifted, k));
    });
  }
};

/// Ops no other pattern lowers: softmax, norm, anything not of fhe. Tried
/// after an op's own pattern, whose error (recorded first) then stands.
struct UnsupportedLowering : ConversionPattern {
  UnsupportedLowering(MLIRContext *ctx, LoweringState &state)
      : ConversionPattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), s(state) {}
  LogicalResult matchAndRewrite(Operation *op, ArrayRef<ValueRange>,
                                ConversionPatternRewriter &) const override {
    return s.unsupported(op, "'" + op->getName().getStringRef() +
                                 "' (its lowering to ckks is later work)");
  }
  LoweringState &s;
};

//===----------------------------------------------------------------------===//
// main's signature
//===----------------------------------------------------------------------===//

/// Each cipher argument of main becomes its parts, consecutive (the type
/// converter), each with the tensor's attributes (LoweringState::
/// tensorAttrs); a plain one goes (its encodes name it); the results are the
/// return's (ReturnLowering). Not the framework's function signature pattern:
/// it converts results by the type converter too, but a result's parts are at
/// the levels its ops left, and it keeps argument attributes per source
/// argument.
struct SignatureLowering : OpConversionPattern<func::FuncOp> {
  SignatureLowering(const TypeConverter &converter, MLIRContext *ctx,
                    LoweringState &state)
      : OpConversionPattern(converter, ctx), s(state) {}

  LogicalResult
  matchAndRewrite(func::FuncOp fn, OneToNOpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    TypeConverter::SignatureConversion conversion(fn.getNumArguments());
    if (failed(getTypeConverter()->convertSignatureArgs(
            ValueRange(fn.getArguments()), conversion)))
      return failure();
    SmallVector<Attribute> argAttrs;
    for (Value a : fn.getArguments())
      for (int64_t k = 0, n = isCipher(a) ? s.partsFor(s.extentOf(a)) : 0;
           k < n; ++k)
        argAttrs.push_back(s.tensorAttrs(shapeOf(a), s.layoutOf(a), k, n));
    Block *entry = rewriter.applySignatureConversion(
        &fn.getBody().front(), conversion, getTypeConverter());
    // Located at main, like the rest of the ckks function's interface
    // (artifacts carry locations).
    for (BlockArgument part : entry->getArguments())
      part.setLoc(fn.getLoc());
    rewriter.modifyOpInPlace(fn, [&] {
      fn.setFunctionType(FunctionType::get(fn.getContext(),
                                           conversion.getConvertedTypes(),
                                           fn.getResultTypes()));
      fn.setAllArgAttrs(argAttrs);
    });
    return success();
  }

  LoweringState &s;
};

/// main's results are padded row-major: strided ones are compacted. Their
/// parts complete main's signature.
struct ReturnLowering : OpConversionPattern<func::ReturnOp> {
  ReturnLowering(MLIRContext *ctx, LoweringState &state)
      : OpConversionPattern(ctx), s(state) {}

  LogicalResult
  matchAndRewrite(func::ReturnOp ret, OneToNOpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ckks::Emitter e(rewriter, s.slots);
    e.loc = ret.getLoc();
    SmallVector<Value> results;
    SmallVector<Attribute> resultAttrs;
    for (auto [v, parts] :
         llvm::zip_equal(ret.getOperands(), adaptor.getOperands())) {
      const Shape shape = shapeOf(v);
      Parts out = llvm::to_vector<1>(parts);
      Layout layout = s.layoutOf(v);
      if (s.isStrided(v)) {
        out = s.compact(e, v, parts);
        layout = paddedLayout(shape);
      }
      for (int64_t k = 0, n = int64_t(out.size()); k < n; ++k)
        resultAttrs.push_back(s.tensorAttrs(shape, layout, k, n));
      llvm::append_range(results, out);
    }
    auto fn = ret->getParentOfType<func::FuncOp>();
    rewriter.replaceOpWithNewOp<func::ReturnOp>(ret, results);
    rewriter.modifyOpInPlace(fn, [&] {
      fn.setFunctionType(FunctionType::get(fn.getContext(),
                                           fn.getArgumentTypes(),
                                           ValueRange(results).getTypes()));
      fn.setAllResultAttrs(resultAttrs);
    });
    return success();
  }

  LoweringState &s;
};

//===----------------------------------------------------------------------===//
// Level renumbering
//===----------------------------------------------------------------------===//

/// Shifts every level so that the deepest value sits at level 0; returns
/// the depth the parameters must provide.
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

/// Lowers `main` by the patterns above, then renumbers its levels and
/// records the slots, the depth and the approximations on `module`.
LogicalResult lowerMain(ModuleOp module, func::FuncOp main, int64_t slots,
                        int64_t maxSlots, double precision, bool layoutSearch) {
  LoweringState state(main, slots, maxSlots, precision, layoutSearch);
  if (failed(state.plan()))
    return failure();
  MLIRContext *ctx = module.getContext();

  // A cipher tensor converts to its parts: as many ciphertexts as its
  // layout takes, fresh; a plain one (a run-time plaintext, which its
  // encodes name) to none. Only main's arguments are converted by type:
  // other values' parts are what their patterns emitted, each at the level
  // its ops left, so the op patterns take no converter (their operands
  // come as mapped, no casts to a level the type would have to name).
  TypeConverter parts;
  parts.addConversion(
      [&](Value v, SmallVectorImpl<Type> &out) -> std::optional<LogicalResult> {
        if (!isCipher(v))
          return success();
        out.append(size_t(state.partsFor(state.extentOf(v))),
                   ckks::CiphertextType::get(ctx, kProvisionalTop, 1, 2));
        return success();
      });

  ConversionTarget target(*ctx);
  target.addLegalDialect<ckks::CKKSDialect>();
  auto ciphertexts = [](TypeRange types) {
    return llvm::all_of(types, llvm::IsaPred<ckks::CiphertextType>);
  };
  target.addDynamicallyLegalOp<func::FuncOp>(
      [&](func::FuncOp fn) { return ciphertexts(fn.getArgumentTypes()); });
  target.addDynamicallyLegalOp<func::ReturnOp>(
      [&](func::ReturnOp ret) { return ciphertexts(ret.getOperandTypes()); });

  RewritePatternSet patterns(ctx);
  patterns.add<SignatureLowering>(parts, ctx, state);
  patterns
      .add<WeightLowering, ConstantLowering, ElementwiseLowering<fhe::AddOp>,
           ElementwiseLowering<fhe::SubOp>, ElementwiseLowering<fhe::MulOp>,
           ElementwiseLowering<fhe::DivOp>, NegLowering, RollLowering,
           ReduceLowering<fhe::SumOp>, ReduceLowering<fhe::MeanOp>,
           SelectLowering<fhe::SliceOp>, SelectLowering<fhe::IndexOp>,
           TransposeLowering, ReshapeLowering, ConcatLowering, PolyLowering,
           NonlinearLowering, MaxMinLowering, BootstrapLowering, LinearLowering,
           MatMulLowering, Conv2dLowering, PoolLowering<fhe::AvgPool2dOp>,
           PoolLowering<fhe::GlobalAvgPoolOp>, BatchNormLowering,
           ReturnLowering, UnsupportedLowering>(ctx, state);

  // A failure has been recorded (the state's Errors); the driver's report
  // of it is dropped.
  LogicalResult converted = [&] {
    ScopedDiagnosticHandler recorded(
        ctx, [&](Diagnostic &) { return success(state.hasError()); });
    return applyFullConversion(main, target, std::move(patterns));
  }();
  if (failed(converted)) {
    state.emitRecordedError();
    return failure();
  }
  unsigned depth = renumberLevels(main);
  Builder b(ctx);
  module->setAttr("ckks.slots", b.getI64IntegerAttr(state.slots));
  module->setAttr("ckks.levels", b.getI64IntegerAttr(depth));
  if (!state.approximations.empty())
    module->setAttr(fhe::kApproximationsAttr,
                    b.getArrayAttr(state.approximations));
  // Programs with a layout choice (a convolution, pooling or conversion).
  if (!state.layoutNotes.empty()) {
    module->setAttr(
        fhe::kLayoutSummaryAttr,
        b.getStringAttr(llvm::formatv(
            "estimated work {0:F0} (rule of thumb {1:F0}), {2} conversion{3}",
            state.chosenCost, state.ruleOfThumbCost, state.conversions,
            state.conversions == 1 ? "" : "s")));
    module->setAttr(fhe::kLayoutsAttr, b.getArrayAttr(state.layoutNotes));
  }
  return success();
}

class FheToCkksPass
    : public PassWrapper<FheToCkksPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FheToCkksPass)

  FheToCkksPass() = default;
  FheToCkksPass(const FheToCkksPass &other) : PassWrapper(other) {}
  FheToCkksPass(int64_t slots, int64_t maxSlots, double precision,
                bool layoutSearch) {
    slotOption = slots;
    maxSlotsOption = maxSlots;
    precisionOption = precision;
    layoutSearchOption = layoutSearch;
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
    if (failed(lowerMain(module, main, slotOption, maxSlotsOption,
                         precisionOption, layoutSearchOption)))
      signalPassFailure();
  }

  Option<int64_t> slotOption{*this, "slots",
                             llvm::cl::desc("slot count (0: automatic)"),
                             llvm::cl::init(0)};
  Option<int64_t> maxSlotsOption{
      *this, "max-slots",
      llvm::cl::desc("the automatic slot count's cap (N / 2 of the ring)"),
      llvm::cl::init(kMaxAutomaticSlots)};
  Option<double> precisionOption{
      *this, "precision",
      llvm::cl::desc("the program's precision target: what approximations of "
                     "nonlinear functions meet unless an op sets its own"),
      llvm::cl::init(1e-3)};
  Option<bool> layoutSearchOption{
      *this, "layout-search",
      llvm::cl::desc("choose layouts by estimated work (false: the rule of "
                     "thumb the search starts from)"),
      llvm::cl::init(true)};
};

} // namespace

std::unique_ptr<Pass> createFheToCkksPass(int64_t slots, int64_t maxSlots,
                                          double precision, bool layoutSearch) {
  return std::make_unique<FheToCkksPass>(slots, maxSlots, precision,
                                         layoutSearch);
}

void registerFheToCkksPass() { PassRegistration<FheToCkksPass>(); }

} // namespace cerium
