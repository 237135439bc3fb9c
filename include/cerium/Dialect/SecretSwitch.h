//===- SecretSwitch.h - Keys of sparse-secret encapsulation -----*- C++ -*-===//
//
// The enum (and its i32 attribute) naming the two keys of sparse-secret
// encapsulation, shared by the ckks, poly and rns dialects
// (SecretSwitch.td).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_SECRETSWITCH_H
#define CERIUM_DIALECT_SECRETSWITCH_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include "cerium/Dialect/SecretSwitch.h.inc"

#endif // CERIUM_DIALECT_SECRETSWITCH_H
