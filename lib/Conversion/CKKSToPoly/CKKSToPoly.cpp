//===- CKKSToPoly.cpp - Ciphertexts to ring operations --------------------===//

#include "cerium/Conversion/CKKSToPoly.h"
#include "cerium/Conversion/FunctionRebuilder.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "cerium/kernels/RnsContext.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace cerium {
namespace {

using Values = SmallVector<Value, 3>;

class Lowering {
public:
  Lowering(OpBuilder &b, Location loc, const RnsLayout &layout)
      : b(b), loc(loc), layout(layout) {}

  poly::PolyType q(unsigned level, bool ntt = true) const {
    return poly::PolyType::get(b.getContext(), level, false, ntt);
  }
  unsigned levelOf(Value v) const {
    return cast<poly::PolyType>(v.getType()).getLevel();
  }

  Value add(Value x, Value y) { return poly::AddOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return poly::MulOp::create(b, loc, x, y); }
  Value mulInt(Value x, int64_t m) {
    return poly::MulIntOp::create(b, loc, x.getType(), x, m);
  }

  /// The raised digits ModUp(d_j) over PQ_l (NTT): one inverse NTT of d
  /// shared by all digits.
  SmallVector<Value> raise(Value d) {
    unsigned level = levelOf(d);
    Value coeffs = poly::InttOp::create(b, loc, q(level, false), d);
    auto ext = poly::PolyType::get(b.getContext(), level, true, true);
    SmallVector<Value> digits;
    for (size_t j = 0; j < layout.digitCount(level); ++j)
      digits.push_back(poly::ModUpOp::create(b, loc, ext, d, coeffs, j));
    return digits;
  }

  /// (round(sum_j digits_j b_j / P), round(sum_j digits_j a_j / P)) over
  /// Q_l, with the relinearization key, the Galois key of `galois` or the
  /// encapsulation key `secret`.
  std::pair<Value, Value>
  keySwitch(ArrayRef<Value> digits, std::optional<int64_t> galois,
            std::optional<SecretSwitch> secret = std::nullopt) {
    Type ext = digits.front().getType();
    unsigned level = cast<poly::PolyType>(ext).getLevel();
    auto ks = poly::KeySwitchOp::create(
        b, loc, ext, ext, digits,
        galois ? b.getI64IntegerAttr(*galois) : IntegerAttr(),
        secret ? SecretSwitchAttr::get(b.getContext(), *secret)
               : SecretSwitchAttr());
    return {poly::ModDownOp::create(b, loc, q(level), ks.getB()),
            poly::ModDownOp::create(b, loc, q(level), ks.getA())};
  }

  /// (c0, c1) -> (sigma(c0) + ks(sigma(c1))_0, ks(sigma(c1))_1). When
  /// `hoisted`, ModUp comes before the automorphism: sigma(ModUp(c1)) =
  /// ModUp(sigma(c1)) (sigma permutes coefficients up to sign, and base
  /// conversion works coefficient by coefficient), so all rotations of one
  /// ciphertext share one inverse NTT and one ModUp (CSE merges them) and
  /// each pays for permuting the raised digits instead. A lone rotation
  /// permutes c1 alone, which moves fewer limbs.
  Values automorphism(ArrayRef<Value> ct, int64_t galois, bool hoisted) {
    auto permute = [&](Value v) -> Value {
      return poly::AutomorphOp::create(b, loc, v.getType(), v, galois);
    };
    Value r0 = permute(ct[0]);
    SmallVector<Value> digits;
    if (hoisted) {
      for (Value d : raise(ct[1]))
        digits.push_back(permute(d));
    } else {
      digits = raise(permute(ct[1]));
    }
    auto [k0, k1] = keySwitch(digits, galois);
    return {add(r0, k0), k1};
  }

  Values rescale(ArrayRef<Value> ct) {
    Values out;
    for (Value v : ct)
      out.push_back(poly::RescaleOp::create(b, loc, q(levelOf(v) - 1), v));
    return out;
  }

  OpBuilder &b;
  Location loc;
  const RnsLayout &layout;
};

/// Whether the operand of a rotation or conjugation is also rotated or
/// conjugated elsewhere (then hoisting its ModUp pays).
bool sharesOperand(Operation *op) {
  return llvm::count_if(op->getOperand(0).getUsers(), [](Operation *u) {
           return isa<ckks::RotateOp, ckks::ConjugateOp>(u);
         }) > 1;
}

FailureOr<LoweredValues> lowerOp(OpBuilder &b, Operation *op,
                                 ArrayRef<Values> in, const RnsLayout &layout) {
  Lowering l(b, op->getLoc(), layout);
  auto one = [](Values v) -> FailureOr<LoweredValues> {
    return LoweredValues{std::move(v)};
  };
  auto scaleOf = [&](ckks::CiphertextType t) {
    return std::pow(layout.scales[t.getLevel()], double(t.getDegree()));
  };
  return llvm::TypeSwitch<Operation *, FailureOr<LoweredValues>>(op)
      .Case<ckks::AddOp, ckks::SubOp>([&](auto) {
        const Values &x = in[0], &y = in[1];
        Values out;
        for (size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
          if (i < x.size() && i < y.size())
            out.push_back(isa<ckks::AddOp>(op) ? l.add(x[i], y[i])
                                               : Value(poly::SubOp::create(
                                                     b, l.loc, x[i], y[i])));
          else if (i < x.size())
            out.push_back(x[i]);
          else
            out.push_back(isa<ckks::AddOp>(op)
                              ? y[i]
                              : Value(poly::NegateOp::create(b, l.loc, y[i])));
        }
        return one(out);
      })
      .Case<ckks::NegateOp>([&](auto) {
        Values out;
        for (Value v : in[0])
          out.push_back(poly::NegateOp::create(b, l.loc, v));
        return one(out);
      })
      .Case<ckks::MulIntOp>([&](ckks::MulIntOp m) {
        Values out;
        for (Value v : in[0])
          out.push_back(l.mulInt(v, m.getValue()));
        return one(out);
      })
      .Case<ckks::MulOp>([&](auto) {
        const Values &x = in[0], &y = in[1];
        return one({l.mul(x[0], y[0]),
                    l.add(l.mul(x[0], y[1]), l.mul(x[1], y[0])),
                    l.mul(x[1], y[1])});
      })
      .Case<ckks::AddPlainOp>([&](auto) {
        Values out = in[0];
        out[0] = l.add(out[0], in[1][0]);
        return one(out);
      })
      .Case<ckks::MulPlainOp>([&](auto) {
        Values out;
        for (Value v : in[0])
          out.push_back(l.mul(v, in[1][0]));
        return one(out);
      })
      .Case<ckks::MulConstOp>(
          [&](ckks::MulConstOp m) -> FailureOr<LoweredValues> {
            auto t = cast<ckks::CiphertextType>(m.getInput().getType());
            const double exact =
                m.getValue().convertToDouble() * layout.scales[t.getLevel()];
            // c Delta_l past 62 bits (a constant above ~8 at a bootstrapping
            // program's 2^59 scale) is k round(c Delta_l / k): two integer
            // products, the same relative precision.
            const double k = std::ceil(std::fabs(exact) / 0x1p61);
            if (!(k < 0x1p61))
              return m.emitOpError("constant does not fit two 62-bit integers "
                                   "at this level's scale");
            const double scaled = std::round(exact / std::max(k, 1.0));
            Values out;
            for (Value v : in[0]) {
              Value y = l.mulInt(v, int64_t(scaled));
              out.push_back(k > 1 ? l.mulInt(y, int64_t(k)) : y);
            }
            return one(out);
          })
      .Case<ckks::EncodeOp>([&](ckks::EncodeOp e) {
        auto t = cast<ckks::PlaintextType>(e.getType());
        return one({poly::EncodeOp::create(
            b, l.loc, l.q(t.getLevel()), e.getValuesAttr(), e.getOffsetAttr(),
            e.getCountAttr(), e.getComplexAttr(),
            b.getI64IntegerAttr(t.getDegree()), e.getInputAttr())});
      })
      .Case<ckks::ModRaiseOp>([&](ckks::ModRaiseOp m) {
        unsigned level = cast<ckks::CiphertextType>(m.getType()).getLevel();
        Values out;
        for (Value v : in[0])
          out.push_back(poly::ModRaiseOp::create(b, l.loc, l.q(level), v));
        return one(out);
      })
      .Case<ckks::RelinearizeOp>([&](auto) {
        if (in[0].size() == 2)
          return one(in[0]);
        auto [k0, k1] = l.keySwitch(l.raise(in[0][2]), std::nullopt);
        return one({l.add(in[0][0], k0), l.add(in[0][1], k1)});
      })
      .Case<ckks::RotateOp>([&](ckks::RotateOp r) {
        uint32_t g =
            kernels::rotationGaloisElement(layout.degree(), r.getOffset());
        return one(g == 1 ? in[0] : l.automorphism(in[0], g, sharesOperand(r)));
      })
      .Case<ckks::ConjugateOp>([&](auto) {
        return one(l.automorphism(in[0], int64_t(2 * layout.degree() - 1),
                                  sharesOperand(op)));
      })
      .Case<ckks::SwitchSecretOp>([&](ckks::SwitchSecretOp s) {
        // A rotation without the permutation: (c0 + ks(c1)_0, ks(c1)_1).
        auto [k0, k1] =
            l.keySwitch(l.raise(in[0][1]), std::nullopt, s.getDirection());
        return one({l.add(in[0][0], k0), k1});
      })
      .Case<ckks::RescaleOp>([&](auto) { return one(l.rescale(in[0])); })
      .Case<ckks::LevelDownOp>(
          [&](ckks::LevelDownOp d) -> FailureOr<LoweredValues> {
            auto t = cast<ckks::CiphertextType>(d.getInput().getType());
            unsigned target = unsigned(d.getLevel());
            if (target == t.getLevel())
              return one(in[0]);
            // Drop to target + 1, scale so that rescaling lands exactly on
            // Delta_target, rescale.
            double top = 1;
            for (size_t i = layout.qCount(target);
                 i < layout.qCount(target + 1); ++i)
              top *= double(layout.moduli[i]);
            double m = std::round(layout.scales[target] * top / scaleOf(t));
            if (!(m >= 1 && m < 0x1p62))
              return d.emitOpError("scale ratio out of range");
            Values out;
            for (Value v : in[0]) {
              if (target + 1 < t.getLevel())
                v = poly::DropOp::create(b, l.loc, l.q(target + 1), v);
              out.push_back(l.mulInt(v, int64_t(m)));
            }
            return one(l.rescale(out));
          })
      .Default([&](Operation *o) -> FailureOr<LoweredValues> {
        return o->emitOpError("has no lowering to the poly dialect");
      });
}

class CkksToPolyPass
    : public LayoutLoweringPass<CkksToPolyPass, poly::PolyDialect> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CkksToPolyPass)

  StringRef getArgument() const final { return "ckks-to-poly"; }
  StringRef getDescription() const final {
    return "Lower ciphertext operations to RNS ring operations";
  }

  static std::optional<unsigned> levelOf(Type t) {
    if (auto ct = dyn_cast<ckks::CiphertextType>(t))
      return ct.getLevel();
    if (auto pt = dyn_cast<ckks::PlaintextType>(t))
      return pt.getLevel();
    return std::nullopt;
  }
  void prepare(func::FuncOp func) {
    func->setAttr("ckks.signature", TypeAttr::get(func.getFunctionType()));
  }
  void convertType(Type t, SmallVectorImpl<Type> &out, const RnsLayout &) {
    MLIRContext *ctx = t.getContext();
    if (auto ct = dyn_cast<ckks::CiphertextType>(t))
      out.append(ct.getSize(),
                 poly::PolyType::get(ctx, ct.getLevel(), false, true));
    else if (auto pt = dyn_cast<ckks::PlaintextType>(t))
      out.push_back(poly::PolyType::get(ctx, pt.getLevel(), false, true));
    else
      out.push_back(t);
  }
  FailureOr<LoweredValues> lowerOp(OpBuilder &b, Operation *op,
                                   ArrayRef<Values> in,
                                   const RnsLayout &layout) {
    return cerium::lowerOp(b, op, in, layout);
  }
};

} // namespace

std::unique_ptr<Pass> createCkksToPolyPass() {
  return std::make_unique<CkksToPolyPass>();
}

void registerCkksToPolyPass() { PassRegistration<CkksToPolyPass>(); }

} // namespace cerium
