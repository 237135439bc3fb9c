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

  /// (x_kept - NTT(convert(INTT(x_dropped)))) * (prod dropped)^-1: the
  /// divide-and-round shared by ModDown and rescale. x's limbs are
  /// [kept..., dropped...] or, with droppedFirst, [dropped..., kept...].
  Value divideAndRound(Value x, size_t numDropped, bool droppedFirst) {
    size_t total = limbsOf(x).getNumLimbs(), numKept = total - numDropped;
    Value dropped = slice(x, droppedFirst ? 0 : numKept, numDropped);
    Value kept = slice(x, droppedFirst ? numDropped : 0, numKept);
    Value coeffs = rns::InttOp::create(b, loc, dropped);
    Value conv = rns::BaseConvertOp::create(b, loc, kept.getType(), coeffs);
    Value nttConv = rns::NttOp::create(b, loc, conv);
    Value diff = rns::SubOp::create(b, loc, kept, nttConv);
    SmallVector<int32_t> divisor;
    for (uint32_t p : limbsOf(dropped).getPrimes())
      divisor.push_back(int32_t(p));
    return rns::MulInvOp::create(b, loc, diff, divisor);
  }

  Value modUp(Value x, Value coeffs, unsigned level, size_t digit) {
    auto [first, count] = layout.digitRange(level, digit);
    std::vector<uint32_t> ext = layout.extendedIds(level);
    const size_t at = layout.special + first; // the digit's place in ext
    std::vector<uint32_t> others(ext.begin(), ext.begin() + at);
    others.insert(others.end(), ext.begin() + at + count, ext.end());
    Value conv = rns::BaseConvertOp::create(b, loc, limbs(others),
                                            slice(coeffs, first, count));
    Value nttConv = rns::NttOp::create(b, loc, conv);
    SmallVector<Value> parts;
    if (at > 0)
      parts.push_back(slice(nttConv, 0, at));
    parts.push_back(slice(x, first, count));
    if (others.size() > at)
      parts.push_back(slice(nttConv, at, others.size() - at));
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
                                         t.getLevel(), e.getDegree()));
      })
      .Case<poly::ModUpOp>([&](poly::ModUpOp m) {
        unsigned level = cast<poly::PolyType>(m.getX().getType()).getLevel();
        return one(l.modUp(x(0), x(1), level, m.getDigit()));
      })
      .Case<poly::KeySwitchOp>([&](poly::KeySwitchOp k) {
        SmallVector<Value> digits;
        for (const Values &d : in)
          digits.push_back(d[0]);
        auto ks = rns::KeySwitchOp::create(b, l.loc, digits[0].getType(),
                                           digits[0].getType(), digits,
                                           k.getGaloisAttr());
        return FailureOr<LoweredValues>(
            LoweredValues{Values{ks.getB()}, Values{ks.getA()}});
      })
      .Case<poly::ModDownOp>([&](auto) {
        return one(l.divideAndRound(x(0), layout.special, true));
      })
      .Case<poly::RescaleOp>([&](auto) {
        return one(l.divideAndRound(x(0), layout.perLevel, false));
      })
      .Default([&](Operation *o) -> FailureOr<LoweredValues> {
        return o->emitOpError("has no lowering to the rns dialect");
      });
}

class PolyToRnsPass
    : public PassWrapper<PolyToRnsPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PolyToRnsPass)

  StringRef getArgument() const final { return "poly-to-rns"; }
  StringRef getDescription() const final {
    return "Lower RNS ring operations to limb-level kernels";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<rns::RNSDialect>();
  }

  void runOnOperation() override {
    std::optional<RnsLayout> layout = RnsLayout::of(getOperation());
    if (!layout)
      return signalPassFailure();
    MLIRContext *ctx = &getContext();
    auto convert = [&](Type t) -> Type {
      auto p = dyn_cast<poly::PolyType>(t);
      if (!p)
        return t;
      std::vector<uint32_t> ids = p.getExtended()
                                      ? layout->extendedIds(p.getLevel())
                                      : layout->qIds(p.getLevel());
      return rns::LimbsType::get(ctx, ids);
    };
    auto convertType = [&](Type t, SmallVectorImpl<Type> &out) {
      out.push_back(convert(t));
    };
    auto lower = [&](OpBuilder &b, Operation *op, ArrayRef<Values> in) {
      return lowerOp(b, op, in, *layout, convert);
    };
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(rebuildFunction(func, {convertType, lower})))
        return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createPolyToRnsPass() {
  return std::make_unique<PolyToRnsPass>();
}

void registerPolyToRnsPass() { PassRegistration<PolyToRnsPass>(); }

} // namespace cerium
