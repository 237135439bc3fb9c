//===- CKKSDialect.h - The ckks dialect -------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_CKKS_IR_CKKSDIALECT_H
#define CERIUM_DIALECT_CKKS_IR_CKKSDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "cerium/Dialect/SecretSwitch.h"

#include "cerium/Dialect/CKKS/IR/CKKSOpsDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "cerium/Dialect/CKKS/IR/CKKSOpsTypes.h.inc"

#define GET_OP_CLASSES
#include "cerium/Dialect/CKKS/IR/CKKSOps.h.inc"

namespace cerium::ckks {

/// On a ckks op: the largest magnitude of its result's slots, from the fhe
/// op it lowers (fhe.bound, the range analysis') or from the lowering that
/// made it (an approximation's series); the compiler reads it at the
/// bootstraps' inputs and then drops it.
inline constexpr llvm::StringLiteral kBoundAttr = "ckks.bound";

} // namespace cerium::ckks

#endif // CERIUM_DIALECT_CKKS_IR_CKKSDIALECT_H
