//===- RNSDialect.cpp - The rns dialect -----------------------------------===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/SlotValues.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace cerium::rns;

#include "cerium/Dialect/RNS/IR/RNSOpsDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "cerium/Dialect/RNS/IR/RNSOpsTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "cerium/Dialect/RNS/IR/RNSOpsAttributes.cpp.inc"

/// rns.encode's values: as ckks.encode's (SlotValues.h), or
/// `stored<1024 x f32 at 4096>` (#rns.stored).
static ParseResult parseEncodeValues(OpAsmParser &parser, Attribute &values) {
  if (succeeded(parser.parseOptionalKeyword("stored"))) {
    values = StoredValuesAttr::parse(parser, Type());
    return success(values != nullptr);
  }
  return cerium::parseSlotValues(parser, values);
}

static void printEncodeValues(OpAsmPrinter &printer, Operation *op,
                              Attribute values) {
  if (auto stored = dyn_cast<StoredValuesAttr>(values)) {
    printer << "stored";
    stored.print(printer);
    return;
  }
  cerium::printSlotValues(printer, op, values);
}

#define GET_OP_CLASSES
#include "cerium/Dialect/RNS/IR/RNSOps.cpp.inc"

void RNSDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "cerium/Dialect/RNS/IR/RNSOpsAttributes.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "cerium/Dialect/RNS/IR/RNSOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "cerium/Dialect/RNS/IR/RNSOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Type syntax: runs of consecutive ids print as `first to last`:
// `!rns.limbs<4 to 6, 0 to 2>`.
//===----------------------------------------------------------------------===//

Type LimbsType::parse(AsmParser &parser) {
  SmallVector<uint32_t> primes;
  auto parseRun = [&]() -> ParseResult {
    uint32_t first = 0, last = 0;
    if (parser.parseInteger(first))
      return failure();
    last = first;
    if (succeeded(parser.parseOptionalKeyword("to")) &&
        parser.parseInteger(last))
      return failure();
    if (last < first)
      return parser.emitError(parser.getCurrentLocation(), "empty prime range");
    for (uint32_t id = first; id <= last; ++id)
      primes.push_back(id);
    return success();
  };
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::LessGreater,
                                     parseRun))
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); },
                    parser.getContext(), primes);
}

void LimbsType::print(AsmPrinter &printer) const {
  ArrayRef<uint32_t> p = getPrimes();
  printer << '<';
  for (size_t i = 0; i < p.size();) {
    size_t j = i;
    while (j + 1 < p.size() && p[j + 1] == p[j] + 1)
      ++j;
    printer << (i ? ", " : "") << p[i];
    if (j > i)
      printer << " to " << p[j];
    i = j + 1;
  }
  printer << '>';
}

LogicalResult LimbsType::verify(function_ref<InFlightDiagnostic()> emitError,
                                ArrayRef<uint32_t> primes) {
  if (primes.empty())
    return emitError() << "a limb array needs at least one prime";
  llvm::SmallSet<uint32_t, 16> seen;
  for (uint32_t p : primes)
    if (!seen.insert(p).second)
      return emitError() << "prime " << p << " appears twice";
  return success();
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

namespace {

LimbsType limbs(Value v) { return cast<LimbsType>(v.getType()); }

bool disjoint(ArrayRef<uint32_t> a, ArrayRef<uint32_t> b) {
  return llvm::none_of(a, [&](uint32_t p) { return llvm::is_contained(b, p); });
}

} // namespace

LogicalResult KernelOp::verify() {
  if (getOutputs().empty())
    return emitOpError("needs at least one result");
  Type t = getOutputs().front().getType();
  for (Value v : getInputs())
    if (v.getType() != t)
      return emitOpError("operands and results must share one limbs type");
  for (Value v : getOutputs())
    if (v.getType() != t)
      return emitOpError("operands and results must share one limbs type");
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body needs one argument per operand");
  for (BlockArgument a : body.getArguments())
    if (!a.getType().isInteger(32))
      return emitOpError("body arguments are residues (i32)");
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getValues().size() != getOutputs().size())
    return emitOpError("body yields one residue per result");
  for (Operation &op : body.without_terminator())
    if (!isa<AddOp, SubOp, MulOp, NegateOp, MulIntOp, MulProdOp, MulInvOp>(op))
      return op.emitOpError(
          "is not elementwise arithmetic; kernels hold "
          "only add, sub, mul, neg, mul_int, mul_prod and mul_inv");
  return success();
}

cerium::SlotValueData EncodeOp::getStoredValues() {
  if (auto stored = dyn_cast<StoredValuesAttr>(getValues()))
    return {nullptr, size_t(stored.getCount()), stored.getF32()};
  return cerium::slotValueData(getValues());
}

LogicalResult EncodeOp::verify() {
  if (getInput() && isa<StoredValuesAttr>(getValues()))
    return emitOpError("indexes a run-time input with values kept outside "
                       "the program");
  return cerium::verifySlotValues(*this, getStoredValues(), getOffset(),
                                  getCount(), getComplex());
}

//===----------------------------------------------------------------------===//
// #rns.stored<COUNT x f32|f64 at OFFSET>
//===----------------------------------------------------------------------===//

Attribute StoredValuesAttr::parse(AsmParser &parser, Type) {
  uint64_t count = 0, offset = 0;
  if (parser.parseLess() || parser.parseInteger(count) ||
      parser.parseKeyword("x"))
    return {};
  bool f32 = false;
  if (succeeded(parser.parseOptionalKeyword("f32")))
    f32 = true;
  else if (parser.parseKeyword("f64"))
    return {};
  if (parser.parseKeyword("at") || parser.parseInteger(offset) ||
      parser.parseGreater())
    return {};
  return get(parser.getContext(), offset, count, f32);
}

void StoredValuesAttr::print(AsmPrinter &printer) const {
  printer << "<" << getCount() << " x " << (getF32() ? "f32" : "f64") << " at "
          << getOffset() << ">";
}

LogicalResult MulInvOp::verify() {
  if (auto t = dyn_cast<LimbsType>(getType())) {
    SmallVector<uint32_t> divisor(getPrimes().begin(), getPrimes().end());
    if (!disjoint(t.getPrimes(), divisor))
      return emitOpError("divides by primes the operand lives on");
  }
  return success();
}

LogicalResult SliceOp::verify() {
  size_t in = limbs(getInput()).getNumLimbs();
  size_t count = limbs(getResult()).getNumLimbs();
  if (size_t(getOffset()) + count > in ||
      limbs(getInput()).slice(getOffset(), count) != limbs(getResult()))
    return emitOpError("result must be limbs [offset, offset + count) of the "
                       "operand");
  return success();
}

LogicalResult ConcatOp::verify() {
  SmallVector<uint32_t> all;
  for (Value v : getInputs())
    llvm::append_range(all, limbs(v).getPrimes());
  if (ArrayRef<uint32_t>(all) != limbs(getResult()).getPrimes())
    return emitOpError("result primes must be the operands' primes in order");
  return success();
}

LogicalResult BaseConvertOp::verify() {
  if (!disjoint(limbs(getInput()).getPrimes(), limbs(getResult()).getPrimes()))
    return emitOpError("converts between disjoint bases");
  return success();
}

LogicalResult KeySwitchOp::verify() {
  if (getDigits().empty())
    return emitOpError("needs at least one digit");
  Type t = getDigits().front().getType();
  for (Value v : getDigits())
    if (v.getType() != t)
      return emitOpError("digits must share one limbs type");
  if (getB().getType() != t || getA().getType() != t)
    return emitOpError("results have the digits' type");
  if (getGalois() && getSecret())
    return emitOpError("names one key: a Galois element or an encapsulation "
                       "key, not both");
  if (auto g = getPermute(); g && (int64_t(*g) <= 0 || (*g & 1) == 0))
    return emitOpError("permutes its digits by an odd Galois element");
  return success();
}

LogicalResult AllGatherOp::verify() {
  if (getSourceAttr().getInt() < -1)
    return emitOpError("source is a rank, or -1 for limb-wise arrays");
  return success();
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult MulIntOp::fold(FoldAdaptor) {
  return getValue() == 1 ? getInput() : OpFoldResult();
}

/// A slice of all the limbs is the array itself; a slice of a slice is one
/// slice of the original.
OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getType() == getInput().getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<SliceOp>()) {
    getInputMutable().assign(inner.getInput());
    setOffset(getOffset() + inner.getOffset());
    return getResult();
  }
  return {};
}
