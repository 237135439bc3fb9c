//===- CKKSDialect.cpp - The ckks dialect ---------------------------------===//

#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace cerium::ckks;

#include "cerium/Dialect/CKKS/IR/CKKSOpsDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "cerium/Dialect/CKKS/IR/CKKSOpsTypes.cpp.inc"

void CKKSDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "cerium/Dialect/CKKS/IR/CKKSOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "cerium/Dialect/CKKS/IR/CKKSOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

LogicalResult
CiphertextType::verify(function_ref<InFlightDiagnostic()> emitError,
                       unsigned level, unsigned degree, unsigned size) {
  if (degree < 1 || degree > 2)
    return emitError() << "ciphertext scale degree must be 1 or 2, got "
                       << degree;
  if (size < 2 || size > 3)
    return emitError() << "ciphertext size must be 2 or 3 polynomials, got "
                       << size;
  return success();
}

LogicalResult
PlaintextType::verify(function_ref<InFlightDiagnostic()> emitError,
                      unsigned level, unsigned degree) {
  // Degree 0 (scale 1) holds exact integer polynomials: the monomial
  // X^(N/2) is i in every slot.
  if (degree > 2)
    return emitError() << "plaintext scale degree must be 0, 1 or 2, got "
                       << degree;
  return success();
}
