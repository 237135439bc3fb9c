//===- PolyToRNS.cpp - Ring operations to limb kernels --------------------===//

#include "cerium/Conversion/PolyToRNS.h"
#include "cerium/Conversion/FunctionRebuilder.h"
#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace cerium {
namespace {

using Values = SmallVector<Value, 3>;

class Lowering {
public:
  Lowering(OpBuilder &b, Location loc, const RnsLayout &layout)
      : b(b), loc(loc), layout(layout) {}

  rns::LimbsType limbs(ArrayRef<uint32_t> primes) const {
    return rns::LimbsType::get(b.getContext(), primes);
  }
  rns::LimbsType limbsOf(Value v) const {
    return cast<rns::LimbsType>(v.getType());
  }
  /// Limbs [offset, offset + count) of v; v itself if that is all of it.
  Value slice(Value v, size_t offset, size_t count) {
    if (offset == 0 && count == limbsOf(v).getNumLimbs())
      return v;
    return rns::SliceOp::create(b, loc, limbsOf(v).slice(offset, count), v,
                                offset);
  }

  /// (kept - NTT(convert(INTT(dropped)))) * (prod dropped)^-1: x / D
  /// rounded, for x given by its limbs over the primes D it loses and over
  /// those it keeps. Shared by ModDown, rescale and their merged form.
  Value divideAndRound(Value dropped, Value kept) {
    Value coeffs = rns::InttOp::create(b, loc, dropped);
    Value conv = rns::BaseConvertOp::create(b, loc, kept.getType(), coeffs);
    Value nttConv = rns::NttOp::create(b, loc, conv);
    Value diff = rns::SubOp::create(b, loc, kept, nttConv);
    return rns::MulInvOp::create(b, loc, diff, primesOf(dropped));
  }

  SmallVector<int32_t> primesOf(Value v) const {
    SmallVector<int32_t> ids;
    for (uint32_t p : limbsOf(v).getPrimes())
      ids.push_back(int32_t(p));
    return ids;
  }

  /// round((e + P x) / (P q)) for e over [P, Q_l] and x over Q_l (none: 0),
  /// q the top level's primes: z = e_Q + P x (P x vanishes modulo P, so e_P
  /// is z's P part), divided by P and q at once.
  Value modDownRescale(Value e, Value x) {
    const size_t k = layout.special, q = limbsOf(e).getNumLimbs() - k;
    const size_t kept = q - layout.perLevel;
    Value pPart = slice(e, 0, k);
    Value z = slice(e, k, q);
    if (x)
      z = rns::AddOp::create(
          b, loc, z, rns::MulProdOp::create(b, loc, x, primesOf(pPart)));
    Value top = slice(z, kept, layout.perLevel);
    SmallVector<uint32_t> droppedIds(limbsOf(pPart).getPrimes());
    llvm::append_range(droppedIds, limbsOf(top).getPrimes());
    Value dropped = rns::ConcatOp::create(b, loc, limbs(droppedIds),
                                          ValueRange{pPart, top});
    Value keptPart = slice(z, 0, kept);
    return divideAndRound(dropped, keptPart);
  }

  /// The raised digit in [P, Q_l] order: the primes before the digit's
  /// own and those after it are converted separately, so each side is a
  /// whole array the memory planner can place inside the result (the
  /// concat then copies only the digit's own limbs).
  Value modUp(Value x, Value coeffs, unsigned level, size_t digit) {
    auto [first, count] = layout.digitRange(level, digit);
    std::vector<uint32_t> ext = layout.extendedIds(level);
    const size_t at = layout.special + first; // the digit's place in ext
    Value digitCoeffs = slice(coeffs, first, count);
    auto convertedNtt = [&](ArrayRef<uint32_t> primes) -> Value {
      Value conv =
          rns::BaseConvertOp::create(b, loc, limbs(primes), digitCoeffs);
      return rns::NttOp::create(b, loc, conv);
    };
    SmallVector<Value> parts;
    if (at > 0)
      parts.push_back(convertedNtt(ArrayRef(ext).take_front(at)));
    parts.push_back(slice(x, first, count));
    if (ext.size() > at + count)
      parts.push_back(convertedNtt(ArrayRef(ext).drop_front(at + count)));
    return rns::ConcatOp::create(b, loc, limbs(ext), parts);
  }

  OpBuilder &b;
  Location loc;
  const RnsLayout &layout;
};

FailureOr<LoweredValues> lowerOp(OpBuilder &b, Operation *op,
                                 ArrayRef<Values> in, const RnsLayout &layout,
                                 function_ref<Type(Type)> convert) {
  Lowering l(b, op->getLoc(), layout);
  auto one = [](Value v) -> FailureOr<LoweredValues> {
    return LoweredValues{Values{v}};
  };
  auto x = [&](unsigned i) { return in[i][0]; };
  auto result = [&] { return convert(op->getResult(0).getType()); };
  return llvm::TypeSwitch<Operation *, FailureOr<LoweredValues>>(op)
      .Case<poly::AddOp>(
          [&](auto) { return one(rns::AddOp::create(b, l.loc, x(0), x(1))); })
      .Case<poly::SubOp>(
          [&](auto) { return one(rns::SubOp::create(b, l.loc, x(0), x(1))); })
      .Case<poly::MulOp>(
          [&](auto) { return one(rns::MulOp::create(b, l.loc, x(0), x(1))); })
      .Case<poly::NegateOp>(
          [&](auto) { return one(rns::NegateOp::create(b, l.loc, x(0))); })
      .Case<poly::MulIntOp>([&](poly::MulIntOp m) {
        return one(rns::MulIntOp::create(b, l.loc, x(0), m.getValue()));
      })
      .Case<poly::NttOp>(
          [&](auto) { return one(rns::NttOp::create(b, l.loc, x(0))); })
      .Case<poly::InttOp>(
          [&](auto) { return one(rns::InttOp::create(b, l.loc, x(0))); })
      .Case<poly::DropOp>([&](auto) {
        return one(
            l.slice(x(0), 0, cast<rns::LimbsType>(result()).getNumLimbs()));
      })
      .Case<poly::AutomorphOp>([&](poly::AutomorphOp a) {
        return one(rns::AutomorphOp::create(b, l.loc, x(0), a.getGalois()));
      })
      .Case<poly::EncodeOp>([&](poly::EncodeOp e) {
        auto t = cast<poly::PolyType>(e.getType());
        return one(rns::EncodeOp::create(b, l.loc, result(), e.getValuesAttr(),
                                         e.getOffsetAttr(), e.getCountAttr(),
                                         e.getComplexAttr(),
                                         b.getI64IntegerAttr(t.getLevel()),
                                         e.getDegreeAttr(), e.getInputAttr()));
      })
      .Case<poly::ModRaiseOp>([&](auto) {
        // The base limbs stay; the rest are converted from the centered
        // coefficients (the lift ModRaise needs) and transformed back.
        auto ids = cast<rns::LimbsType>(result()).getPrimes();
        size_t base = l.limbsOf(x(0)).getNumLimbs();
        Value coeffs = rns::InttOp::create(b, l.loc, x(0));
        Value conv = rns::BaseConvertOp::create(
            b, l.loc, l.limbs(ids.drop_front(base)), coeffs);
        Value raised = rns::NttOp::create(b, l.loc, conv);
        return one(rns::ConcatOp::create(b, l.loc, result(),
                                         ValueRange{x(0), raised}));
      })
      .Case<poly::ModUpOp>([&](poly::ModUpOp m) {
        unsigned level = cast<poly::PolyType>(m.getX().getType()).getLevel();
        return one(l.modUp(x(0), x(1), level, m.getDigit()));
      })
      .Case<poly::KeySwitchOp>([&](poly::KeySwitchOp k) {
        SmallVector<Value> digits;
        for (const Values &d : in)
          digits.push_back(d[0]);
        auto ks = rns::KeySwitchOp::create(
            b, l.loc, digits[0].getType(), digits[0].getType(), digits,
            k.getGaloisAttr(), k.getSecretAttr(), IntegerAttr());
        return FailureOr<LoweredValues>(
            LoweredValues{Values{ks.getB()}, Values{ks.getA()}});
      })
      .Case<poly::ModDownOp>([&](auto) {
        size_t q = l.limbsOf(x(0)).getNumLimbs() - layout.special;
        Value dropped = l.slice(x(0), 0, layout.special);
        Value kept = l.slice(x(0), layout.special, q);
        return one(l.divideAndRound(dropped, kept));
      })
      .Case<poly::RescaleOp>([&](auto) {
        size_t numKept = l.limbsOf(x(0)).getNumLimbs() - layout.perLevel;
        Value dropped = l.slice(x(0), numKept, layout.perLevel);
        Value kept = l.slice(x(0), 0, numKept);
        return one(l.divideAndRound(dropped, kept));
      })
      .Case<poly::ModDownRescaleOp>([&](poly::ModDownRescaleOp m) {
        return one(l.modDownRescale(x(0), m.getAddend() ? x(1) : Value()));
      })
      .Default([&](Operation *o) -> FailureOr<LoweredValues> {
        return o->emitOpError("has no lowering to the rns dialect");
      });
}

class PolyToRnsPass
    : public LayoutLoweringPass<PolyToRnsPass, rns::RNSDialect> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PolyToRnsPass)

  StringRef getArgument() const final { return "poly-to-rns"; }
  StringRef getDescription() const final {
    return "Lower RNS ring operations to limb-level kernels";
  }

  static std::optional<unsigned> levelOf(Type t) {
    if (auto p = dyn_cast<poly::PolyType>(t))
      return p.getLevel();
    return std::nullopt;
  }
  static Type convert(Type t, const RnsLayout &layout) {
    auto p = dyn_cast<poly::PolyType>(t);
    if (!p)
      return t;
    return rns::LimbsType::get(
        t.getContext(), p.getExtended() ? layout.extendedIds(p.getLevel())
                                        : layout.qIds(p.getLevel()));
  }
  void convertType(Type t, SmallVectorImpl<Type> &out,
                   const RnsLayout &layout) {
    out.push_back(convert(t, layout));
  }
  FailureOr<LoweredValues> lowerOp(OpBuilder &b, Operation *op,
                                   ArrayRef<Values> in,
                                   const RnsLayout &layout) {
    return cerium::lowerOp(b, op, in, layout,
                           [&](Type t) { return convert(t, layout); });
  }
};

} // namespace

std::unique_ptr<Pass> createPolyToRnsPass() {
  return std::make_unique<PolyToRnsPass>();
}

void registerPolyToRnsPass() { PassRegistration<PolyToRnsPass>(); }

} // namespace cerium
