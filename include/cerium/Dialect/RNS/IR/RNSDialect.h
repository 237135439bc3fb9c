//===- RNSDialect.h - The rns dialect ----------------------------*- C++
//-*-===//
#ifndef CERIUM_DIALECT_RNS_IR_RNSDIALECT_H
#define CERIUM_DIALECT_RNS_IR_RNSDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "cerium/Dialect/SecretSwitch.h"
#include "cerium/Dialect/SlotValues.h"

#include "cerium/Dialect/RNS/IR/RNSOpsDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "cerium/Dialect/RNS/IR/RNSOpsTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "cerium/Dialect/RNS/IR/RNSOpsAttributes.h.inc"

#define GET_OP_CLASSES
#include "cerium/Dialect/RNS/IR/RNSOps.h.inc"

#endif // CERIUM_DIALECT_RNS_IR_RNSDIALECT_H
