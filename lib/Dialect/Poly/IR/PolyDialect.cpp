//===- PolyDialect.cpp - The poly dialect ---------------------------------===//

#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "cerium/Dialect/SlotValues.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace cerium::poly;

#include "cerium/Dialect/Poly/IR/PolyOpsDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "cerium/Dialect/Poly/IR/PolyOpsTypes.cpp.inc"

#define GET_OP_CLASSES
#include "cerium/Dialect/Poly/IR/PolyOps.cpp.inc"

void PolyDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "cerium/Dialect/Poly/IR/PolyOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "cerium/Dialect/Poly/IR/PolyOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Type syntax: `!poly.poly<Q3, ntt>` or `!poly.poly<PQ3, coeff>`.
//===----------------------------------------------------------------------===//

Type PolyType::parse(AsmParser &parser) {
  StringRef basis, domain;
  if (parser.parseLess() || parser.parseKeyword(&basis) ||
      parser.parseComma() || parser.parseKeyword(&domain) ||
      parser.parseGreater())
    return {};
  bool extended = basis.consume_front("PQ");
  unsigned level = 0;
  if ((!extended && !basis.consume_front("Q")) ||
      basis.getAsInteger(10, level)) {
    parser.emitError(parser.getNameLoc(),
                     "expected a basis Q<level> or PQ<level>");
    return {};
  }
  if (domain != "ntt" && domain != "coeff") {
    parser.emitError(parser.getNameLoc(), "expected domain 'ntt' or 'coeff'");
    return {};
  }
  return get(parser.getContext(), level, extended, domain == "ntt");
}

void PolyType::print(AsmPrinter &printer) const {
  printer << '<' << (getExtended() ? "PQ" : "Q") << getLevel() << ", "
          << (getNtt() ? "ntt" : "coeff") << '>';
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

namespace {

PolyType polyType(Value v) { return cast<PolyType>(v.getType()); }

LogicalResult expect(Operation *op, bool ok, const Twine &message) {
  return ok ? success() : op->emitOpError(message);
}

} // namespace

LogicalResult MulOp::verify() {
  return expect(*this, polyType(getResult()).getNtt(),
                "multiplies pointwise: operands must be in the NTT domain");
}

LogicalResult NttOp::verify() {
  PolyType in = polyType(getInput()), out = polyType(getResult());
  return expect(*this, !in.getNtt() && out == in.withNtt(true),
                "maps a coefficient-form polynomial to the same basis in the "
                "NTT domain");
}

LogicalResult InttOp::verify() {
  PolyType in = polyType(getInput()), out = polyType(getResult());
  return expect(*this, in.getNtt() && out == in.withNtt(false),
                "maps an NTT-domain polynomial to the same basis in "
                "coefficient form");
}

LogicalResult AutomorphOp::verify() {
  return expect(*this, getGalois() > 0 && getGalois() % 2 == 1,
                "needs an odd positive Galois element");
}

LogicalResult DropOp::verify() {
  PolyType in = polyType(getInput()), out = polyType(getResult());
  return expect(*this,
                !in.getExtended() && !out.getExtended() &&
                    out.getLevel() < in.getLevel() &&
                    out.getNtt() == in.getNtt(),
                "drops Q primes: the result must be a lower level of Q in the "
                "same domain");
}

LogicalResult ModUpOp::verify() {
  PolyType x = polyType(getX()), c = polyType(getCoeffs()),
           out = polyType(getResult());
  if (x.getExtended() || !x.getNtt() || c != x.withNtt(false))
    return emitOpError("takes a Q polynomial in the NTT domain and the same "
                       "polynomial in coefficient form");
  if (out != PolyType::get(getContext(), x.getLevel(), true, true))
    return emitOpError("produces the PQ basis of the operand's level (NTT)");
  if (auto layout = RnsLayout::of(*this))
    return expect(*this, size_t(getDigit()) < layout->digitCount(x.getLevel()),
                  "digit " + Twine(getDigit()) + " does not exist at level " +
                      Twine(x.getLevel()));
  return failure();
}

LogicalResult ModRaiseOp::verify() {
  PolyType in = polyType(getInput()), out = polyType(getResult());
  return expect(*this,
                in == PolyType::get(getContext(), 0, false, true) &&
                    !out.getExtended() && out.getNtt() && out.getLevel() > 0,
                "maps Q_0 to Q_l (l > 0), in the NTT domain");
}

LogicalResult KeySwitchOp::verify() {
  if (getDigits().empty())
    return emitOpError("needs at least one digit");
  PolyType t = polyType(getDigits().front());
  for (Value d : getDigits())
    if (polyType(d) != t)
      return emitOpError("digits must share one type");
  if (!t.getExtended() || !t.getNtt())
    return emitOpError("works on PQ polynomials in the NTT domain");
  if (polyType(getB()) != t || polyType(getA()) != t)
    return emitOpError("results have the digits' type");
  if (getGalois() && getSecret())
    return emitOpError("names one key: a Galois element or an encapsulation "
                       "key, not both");
  // The key s -> s' is stored over [P, Q_0] only.
  if (getSecret() == cerium::SecretSwitch::ToSparse && t.getLevel() != 0)
    return emitOpError("switches to the sparse secret at level 0 only, got "
                       "level ")
           << t.getLevel();
  if (auto layout = RnsLayout::of(*this))
    return expect(*this, getDigits().size() == layout->digitCount(t.getLevel()),
                  "needs one operand per digit of level " +
                      Twine(t.getLevel()));
  return failure();
}

LogicalResult ModDownOp::verify() {
  PolyType in = polyType(getInput()), out = polyType(getResult());
  return expect(*this,
                in.getExtended() && in.getNtt() &&
                    out ==
                        PolyType::get(getContext(), in.getLevel(), false, true),
                "maps PQ_l to Q_l, in the NTT domain");
}

LogicalResult ModDownRescaleOp::verify() {
  PolyType in = polyType(getInput()), out = polyType(getResult());
  unsigned level = in.getLevel();
  return expect(
      *this,
      in.getExtended() && in.getNtt() && level > 0 &&
          (!getAddend() ||
           polyType(getAddend()) ==
               PolyType::get(getContext(), level, false, true)) &&
          out == PolyType::get(getContext(), level - 1, false, true),
      "maps PQ_l (and an optional addend over Q_l) to Q_{l-1} (l > 0), in the "
      "NTT domain");
}

LogicalResult RescaleOp::verify() {
  PolyType in = polyType(getInput()), out = polyType(getResult());
  return expect(
      *this,
      !in.getExtended() && in.getNtt() && in.getLevel() > 0 &&
          out == PolyType::get(getContext(), in.getLevel() - 1, false, true),
      "maps Q_l to Q_{l-1} (l > 0), in the NTT domain");
}

LogicalResult EncodeOp::verify() {
  if (failed(cerium::verifySlotValues(*this, cerium::slotValueData(getValues()),
                                      getOffset(), getCount(), getComplex())))
    return failure();
  PolyType t = polyType(getResult());
  return expect(*this,
                !t.getExtended() && t.getNtt() && getDegree() >= 0 &&
                    getDegree() <= 2,
                "encodes over Q in the NTT domain at degree 0, 1 or 2");
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult MulIntOp::fold(FoldAdaptor) {
  return getValue() == 1 ? getInput() : OpFoldResult();
}

/// ntt(intt(x)) = x: a round trip through coefficient form.
OpFoldResult NttOp::fold(FoldAdaptor) {
  if (auto inverse = getInput().getDefiningOp<InttOp>())
    return inverse.getInput();
  return {};
}
