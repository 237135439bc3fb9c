//===- FuzzContext.h - The MLIR context of the MLIR harnesses ---*- C++ -*-===//
#ifndef CERIUM_TEST_FUZZ_FUZZCONTEXT_H
#define CERIUM_TEST_FUZZ_FUZZCONTEXT_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>

namespace cerium::fuzz {

/// One context for many inputs (creating one per input would dominate the
/// run time), replaced every 1000 inputs so that what each parse uniques
/// into it does not accumulate without bound. Diagnostics of mutated
/// programs are expected and kept quiet.
inline mlir::MLIRContext &context() {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static unsigned uses = 0;
  if (!ctx || ++uses % 1000 == 0) {
    ctx.reset();
    ctx = std::make_unique<mlir::MLIRContext>(
        mlir::MLIRContext::Threading::DISABLED);
    ctx->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
  }
  return *ctx;
}

} // namespace cerium::fuzz

#endif // CERIUM_TEST_FUZZ_FUZZCONTEXT_H
