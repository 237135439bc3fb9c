//===- FHEDialect.cpp - The fhe dialect and its verifiers -----------------===//

#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/DSL/Functions.h"
#include "cerium/DSL/Shapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace cerium::fhe;
namespace shapes = cerium::shapes;

#include "cerium/Dialect/FHE/IR/FHEOpsDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "cerium/Dialect/FHE/IR/FHEOpsTypes.cpp.inc"

#define GET_OP_CLASSES
#include "cerium/Dialect/FHE/IR/FHEOps.cpp.inc"

void FHEDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "cerium/Dialect/FHE/IR/FHEOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "cerium/Dialect/FHE/IR/FHEOps.cpp.inc"
      >();
}

LogicalResult CipherType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape) {
  if (shape.empty())
    return emitError() << "a cipher tensor needs rank 1 or more";
  for (int64_t d : shape)
    if (d < 1)
      return emitError() << "cipher dimensions must be positive";
  return success();
}

namespace cerium::fhe {

SmallVector<int64_t> shapeOf(Type type) {
  if (auto c = dyn_cast<CipherType>(type))
    return SmallVector<int64_t>(c.getShape());
  if (auto t = dyn_cast<RankedTensorType>(type))
    return SmallVector<int64_t>(t.getShape());
  return {};
}

bool isCipher(Type type) { return isa<CipherType>(type); }

Type tensorType(MLIRContext *ctx, ArrayRef<int64_t> shape, bool cipher) {
  if (cipher)
    return CipherType::get(ctx, shape);
  if (shape.empty())
    return Float64Type::get(ctx);
  return RankedTensorType::get(shape, Float64Type::get(ctx));
}

} // namespace cerium::fhe

namespace {

shapes::Shape toShape(Type t) {
  auto s = shapeOf(t);
  return shapes::Shape(s.begin(), s.end());
}

/// The result must be exactly the rule's shape, ciphered iff `cipher`.
LogicalResult checkResult(Operation *op, const shapes::Result &r, bool cipher) {
  if (!r.ok())
    return op->emitOpError(r.error);
  Type want = tensorType(op->getContext(), r.shape, cipher);
  if (op->getResult(0).getType() != want)
    return op->emitOpError("result type should be ") << want;
  return success();
}

LogicalResult checkRange(Operation *op, ArrayRef<double> range) {
  if (!(range[0] < range[1]))
    return op->emitOpError("range must have lo < hi");
  return success();
}

template <class Op> LogicalResult verifyElementwise(Op op) {
  Type l = op.getLhs().getType(), r = op.getRhs().getType();
  return checkResult(op, shapes::broadcast(toShape(l), toShape(r)),
                     isCipher(l) || isCipher(r));
}

template <class Op> LogicalResult verifySameShape(Op op) {
  Type in = op.getInput().getType();
  return checkResult(op, {toShape(in), ""}, isCipher(in));
}

} // namespace

LogicalResult WeightOp::verify() { return success(); }

LogicalResult ConstantOp::verify() {
  if (static_cast<int64_t>(getValues().size()) !=
      shapes::numElements(toShape(getType())))
    return emitOpError("has ")
           << getValues().size() << " values for a tensor of "
           << shapes::numElements(toShape(getType()));
  return success();
}

LogicalResult AddOp::verify() { return verifyElementwise(*this); }
LogicalResult SubOp::verify() { return verifyElementwise(*this); }
LogicalResult MulOp::verify() { return verifyElementwise(*this); }
LogicalResult DivOp::verify() {
  if (isCipher(getRhs().getType()))
    return emitOpError("cannot divide by an encrypted value");
  return verifyElementwise(*this);
}
LogicalResult MaxMinOp::verify() {
  if (failed(checkRange(*this, getRange())))
    return failure();
  return verifyElementwise(*this);
}

LogicalResult MatMulOp::verify() {
  Type l = getLhs().getType(), r = getRhs().getType();
  return checkResult(*this, shapes::matmul(toShape(l), toShape(r)),
                     isCipher(l) || isCipher(r));
}

LogicalResult NegOp::verify() {
  if (getInput().getType() != getType())
    return emitOpError("result type must equal the operand type");
  return success();
}

LogicalResult TransposeOp::verify() {
  Type in = getInput().getType();
  return checkResult(*this,
                     shapes::transpose(toShape(in), shapes::Shape(getPerm())),
                     isCipher(in));
}

LogicalResult ReshapeOp::verify() {
  Type in = getInput().getType();
  return checkResult(*this,
                     shapes::reshape(toShape(in), shapes::Shape(getShape())),
                     isCipher(in));
}

LogicalResult IndexOp::verify() {
  Type in = getInput().getType();
  auto s = toShape(in);
  const int64_t index = static_cast<int64_t>(getIndex());
  if (s.empty() || index < 0 || index >= s[0])
    return emitOpError("index ") << index << " out of range";
  return checkResult(*this, shapes::index(s), isCipher(in));
}

LogicalResult SliceOp::verify() {
  Type in = getInput().getType();
  return checkResult(*this, shapes::slice(toShape(in), getLo(), getHi()),
                     isCipher(in));
}

LogicalResult RollOp::verify() {
  Type in = getInput().getType();
  return checkResult(*this, shapes::roll(toShape(in), getAxis()), isCipher(in));
}

template <class Op> static LogicalResult verifyReduce(Op op) {
  Type in = op.getInput().getType();
  std::optional<int64_t> axis = op.getAxis();
  return checkResult(op, shapes::reduce(toShape(in), axis ? &*axis : nullptr),
                     isCipher(in));
}
LogicalResult SumOp::verify() { return verifyReduce(*this); }
LogicalResult MeanOp::verify() { return verifyReduce(*this); }

LogicalResult GlobalAvgPoolOp::verify() {
  Type in = getInput().getType();
  return checkResult(*this, shapes::globalAvgpool(toShape(in)), isCipher(in));
}

LogicalResult AvgPool2dOp::verify() {
  Type in = getInput().getType();
  return checkResult(*this,
                     shapes::avgpool2d(toShape(in), getKernel(), getStride()),
                     isCipher(in));
}

LogicalResult BootstrapOp::verify() {
  if (!isCipher(getInput().getType()))
    return emitOpError("bootstraps encrypted values only");
  return verifySameShape(*this);
}

LogicalResult ConcatOp::verify() {
  std::vector<shapes::Shape> parts;
  bool cipher = false;
  for (Value v : getInputs()) {
    parts.push_back(toShape(v.getType()));
    cipher |= isCipher(v.getType());
  }
  return checkResult(*this, shapes::concat(parts, getAxis()), cipher);
}

LogicalResult LinearOp::verify() {
  Type in = getInput().getType();
  shapes::Shape bias;
  if (getBias())
    bias = toShape(getBias().getType());
  return checkResult(*this,
                     shapes::linear(toShape(in), toShape(getWeight().getType()),
                                    getBias() ? &bias : nullptr),
                     isCipher(in));
}

LogicalResult Conv2dOp::verify() {
  Type in = getInput().getType();
  shapes::Shape bias;
  if (getBias())
    bias = toShape(getBias().getType());
  return checkResult(*this,
                     shapes::conv2d(toShape(in), toShape(getWeight().getType()),
                                    getBias() ? &bias : nullptr, getStride(),
                                    getPadding(), getGroups()),
                     isCipher(in));
}

LogicalResult BatchNormOp::verify() {
  Type in = getInput().getType();
  for (Value p : {getGamma(), getBeta(), getMean(), getVariance()}) {
    auto r = shapes::batchnorm(toShape(in), toShape(p.getType()));
    if (!r.ok())
      return emitOpError(r.error);
  }
  return verifySameShape(*this);
}

LogicalResult NormOp::verify() {
  if (getKind() != "layernorm" && getKind() != "rmsnorm")
    return emitOpError("kind must be layernorm or rmsnorm");
  if ((getKind() == "layernorm") != static_cast<bool>(getBeta()))
    return emitOpError("layernorm takes beta, rmsnorm does not");
  if (failed(checkRange(*this, getRange())))
    return failure();
  Type in = getInput().getType();
  auto r = shapes::lastAxisNorm(toShape(in), toShape(getGamma().getType()));
  if (!r.ok())
    return emitOpError(r.error);
  if (getBeta()) {
    r = shapes::lastAxisNorm(toShape(in), toShape(getBeta().getType()));
    if (!r.ok())
      return emitOpError(r.error);
  }
  return verifySameShape(*this);
}

LogicalResult SoftmaxOp::verify() {
  if (failed(checkRange(*this, getRange())))
    return failure();
  Type in = getInput().getType();
  return checkResult(*this, shapes::roll(toShape(in), getAxis()), isCipher(in));
}

LogicalResult NonlinearOp::verify() {
  if (!cerium::dsl::isNonlinearFunction(getFunction().str()))
    return emitOpError("unknown function '") << getFunction() << "'";
  if (failed(checkRange(*this, getRange())))
    return failure();
  return verifySameShape(*this);
}

LogicalResult PolyOp::verify() {
  if (getBasis() != "power" && getBasis() != "chebyshev")
    return emitOpError("basis must be \"power\" or \"chebyshev\"");
  if (getCoefficients().empty())
    return emitOpError("needs at least one coefficient");
  if (failed(checkRange(*this, getRange())))
    return failure();
  return verifySameShape(*this);
}
