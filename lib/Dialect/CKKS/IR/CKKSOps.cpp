//===- CKKSOps.cpp - ckks op type inference, verifiers, folders -----------===//
//
// Result types are inferred from operand types, so every level and scale
// rule of the scheme lives in one place: an op whose operands break a rule
// fails to infer (with a diagnostic) whether it was parsed or built.
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/SlotValues.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace cerium::ckks;

namespace {

LogicalResult fail(std::optional<Location> loc, const Twine &message) {
  return emitOptionalError(loc, message);
}

std::string describe(CiphertextType t) {
  return "level " + std::to_string(t.getLevel()) + ", degree " +
         std::to_string(t.getDegree()) + ", size " +
         std::to_string(t.getSize());
}

/// Add/sub: operands must agree exactly (level, degree); the result keeps
/// the larger size (a size-3 operand stays unrelinearized).
LogicalResult inferSameScale(MLIRContext *ctx, std::optional<Location> loc,
                             CiphertextType lhs, CiphertextType rhs,
                             SmallVectorImpl<Type> &out) {
  if (lhs.getLevel() != rhs.getLevel() || lhs.getDegree() != rhs.getDegree())
    return fail(loc, "operands must have the same level and scale degree (" +
                         describe(lhs) + " vs " + describe(rhs) + ")");
  out.push_back(CiphertextType::get(ctx, lhs.getLevel(), lhs.getDegree(),
                                    std::max(lhs.getSize(), rhs.getSize())));
  return success();
}

/// Ops that key-switch (rotate, conjugate) need a relinearized input.
LogicalResult inferKeySwitched(MLIRContext *ctx, std::optional<Location> loc,
                               CiphertextType in, SmallVectorImpl<Type> &out) {
  if (in.getSize() != 2)
    return fail(loc, "operand must be relinearized (size 2), got size " +
                         std::to_string(in.getSize()));
  out.push_back(in);
  return success();
}

} // namespace

#define GET_OP_CLASSES
#include "cerium/Dialect/CKKS/IR/CKKSOps.cpp.inc"

LogicalResult AddOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &out) {
  return inferSameScale(ctx, loc,
                        cast<CiphertextType>(adaptor.getLhs().getType()),
                        cast<CiphertextType>(adaptor.getRhs().getType()), out);
}

LogicalResult SubOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &out) {
  return inferSameScale(ctx, loc,
                        cast<CiphertextType>(adaptor.getLhs().getType()),
                        cast<CiphertextType>(adaptor.getRhs().getType()), out);
}

LogicalResult MulOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &out) {
  auto lhs = cast<CiphertextType>(adaptor.getLhs().getType());
  auto rhs = cast<CiphertextType>(adaptor.getRhs().getType());
  if (lhs.getSize() != 2 || rhs.getSize() != 2)
    return fail(loc, "multiplication operands must be relinearized (size 2)");
  if (lhs.getLevel() != rhs.getLevel())
    return fail(loc, "multiplication operands must be at the same level (" +
                         std::to_string(lhs.getLevel()) + " vs " +
                         std::to_string(rhs.getLevel()) + ")");
  if (lhs.getDegree() + rhs.getDegree() > 2)
    return fail(loc, "product would have scale degree " +
                         std::to_string(lhs.getDegree() + rhs.getDegree()) +
                         "; rescale an operand first");
  out.push_back(CiphertextType::get(ctx, lhs.getLevel(),
                                    lhs.getDegree() + rhs.getDegree(), 3));
  return success();
}

LogicalResult NegateOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &out) {
  out.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult MulIntOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &out) {
  out.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult AddPlainOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &out) {
  auto ct = cast<CiphertextType>(adaptor.getCiphertext().getType());
  auto pt = cast<PlaintextType>(adaptor.getPlaintext().getType());
  if (ct.getLevel() != pt.getLevel() || ct.getDegree() != pt.getDegree())
    return fail(loc, "plaintext must match the ciphertext's level and scale "
                     "degree (" +
                         describe(ct) + " vs level " +
                         std::to_string(pt.getLevel()) + ", degree " +
                         std::to_string(pt.getDegree()) + ")");
  out.push_back(ct);
  return success();
}

LogicalResult MulPlainOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &out) {
  auto ct = cast<CiphertextType>(adaptor.getCiphertext().getType());
  auto pt = cast<PlaintextType>(adaptor.getPlaintext().getType());
  if (ct.getLevel() != pt.getLevel())
    return fail(loc, "plaintext must be at the ciphertext's level (" +
                         std::to_string(ct.getLevel()) + " vs " +
                         std::to_string(pt.getLevel()) + ")");
  if (ct.getDegree() + pt.getDegree() > 2)
    return fail(loc, "product would have scale degree " +
                         std::to_string(ct.getDegree() + pt.getDegree()) +
                         "; rescale first");
  out.push_back(CiphertextType::get(
      ctx, ct.getLevel(), ct.getDegree() + pt.getDegree(), ct.getSize()));
  return success();
}

LogicalResult MulConstOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &out) {
  auto ct = cast<CiphertextType>(adaptor.getInput().getType());
  if (ct.getDegree() + 1 > 2)
    return fail(loc, "product would have scale degree " +
                         std::to_string(ct.getDegree() + 1) +
                         "; rescale first");
  out.push_back(CiphertextType::get(ctx, ct.getLevel(), ct.getDegree() + 1,
                                    ct.getSize()));
  return success();
}

LogicalResult EncodeOp::verify() {
  if (getInput() && getComplex())
    return emitOpError("indexes a run-time input with complex values");
  return cerium::verifySlotValues(*this, cerium::slotValueData(getValues()),
                                  getOffset(), getCount(), getComplex());
}

/// Both ends of a bootstrap are rescaled, relinearized ciphertexts.
static LogicalResult verifyRefresh(Operation *op, bool inputAtZero) {
  auto in = cast<CiphertextType>(op->getOperand(0).getType());
  auto out = cast<CiphertextType>(op->getResult(0).getType());
  if (in.getDegree() != 1 || in.getSize() != 2 || out.getDegree() != 1 ||
      out.getSize() != 2)
    return op->emitOpError("maps a degree-1, size-2 ciphertext to another");
  if (inputAtZero && in.getLevel() != 0)
    return op->emitOpError("expects its input at level 0, got level ")
           << in.getLevel();
  if (inputAtZero && out.getLevel() == 0)
    return op->emitOpError("must raise to a level above 0");
  return success();
}

LogicalResult ModRaiseOp::verify() { return verifyRefresh(*this, true); }
LogicalResult BootstrapOp::verify() {
  // A third iteration would gain nothing: two already reach the level-0
  // noise.
  if (IntegerAttr n = getIterationsAttr();
      n && (n.getInt() < 1 || n.getInt() > 2))
    return emitOpError("iterations must be 1 or 2, got ") << n.getInt();
  return verifyRefresh(*this, false);
}

LogicalResult RotateOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &out) {
  return inferKeySwitched(
      ctx, loc, cast<CiphertextType>(adaptor.getInput().getType()), out);
}

OpFoldResult RotateOp::fold(FoldAdaptor) {
  // Rotation by 0 is the identity.
  if (getOffset() == 0)
    return getInput();
  return {};
}

LogicalResult ConjugateOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &out) {
  return inferKeySwitched(
      ctx, loc, cast<CiphertextType>(adaptor.getInput().getType()), out);
}

LogicalResult SwitchSecretOp::inferReturnTypes(MLIRContext *ctx,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &out) {
  auto in = cast<CiphertextType>(adaptor.getInput().getType());
  // The key s -> s' is generated over [P, Q_0] alone: a sparse secret is
  // secure only under a small modulus, so there is no key to switch with
  // anywhere else.
  if (adaptor.getDirection() == cerium::SecretSwitch::ToSparse &&
      in.getLevel() != 0)
    return fail(loc, "switch_secret to_sparse needs a level-0 operand (its "
                     "key exists over [P, Q_0] only), got level " +
                         std::to_string(in.getLevel()));
  return inferKeySwitched(ctx, loc, in, out);
}

LogicalResult RelinearizeOp::inferReturnTypes(MLIRContext *ctx,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &out) {
  auto in = cast<CiphertextType>(adaptor.getInput().getType());
  if (in.getSize() != 3)
    return fail(loc, "relinearize expects a size-3 ciphertext");
  out.push_back(CiphertextType::get(ctx, in.getLevel(), in.getDegree(), 2));
  return success();
}

LogicalResult RescaleOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &out) {
  auto in = cast<CiphertextType>(adaptor.getInput().getType());
  if (in.getLevel() == 0)
    return fail(loc, "cannot rescale at level 0: no primes left to drop");
  if (in.getDegree() != 2)
    return fail(loc, "rescale expects scale degree 2 (a product), got " +
                         std::to_string(in.getDegree()));
  out.push_back(CiphertextType::get(ctx, in.getLevel() - 1, 1, in.getSize()));
  return success();
}

LogicalResult LevelDownOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &out) {
  auto in = cast<CiphertextType>(adaptor.getInput().getType());
  // The attribute is unsigned; a negative level reads as a huge one.
  const int64_t target = static_cast<int32_t>(adaptor.getLevel());
  if (target < 0 || target > int64_t(in.getLevel()))
    return fail(loc, "level_down target " + std::to_string(target) +
                         " is not at or below the input level " +
                         std::to_string(in.getLevel()));
  if (in.getDegree() != 1 || in.getSize() != 2)
    return fail(loc, "level_down expects a rescaled, relinearized value "
                     "(degree 1, size 2)");
  out.push_back(CiphertextType::get(ctx, static_cast<unsigned>(target), 1, 2));
  return success();
}

OpFoldResult LevelDownOp::fold(FoldAdaptor) {
  if (cast<CiphertextType>(getInput().getType()).getLevel() ==
      static_cast<unsigned>(getLevel()))
    return getInput();
  return {};
}
