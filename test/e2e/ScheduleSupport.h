//===- ScheduleSupport.h - Hand-written programs for e2e tests --*- C++ -*-===//
#ifndef CERIUM_TEST_E2E_SCHEDULESUPPORT_H
#define CERIUM_TEST_E2E_SCHEDULESUPPORT_H

#include "cerium/CKKS/Params.h"
#include "cerium/Compiler/Compiler.h"
#include "cerium/Support/Error.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <string>

namespace cerium::test {

/// A ckks-level module of one `main`, parsed and lowered for `params` to a
/// planned schedule.
inline mlir::OwningOpRef<mlir::ModuleOp> scheduleOf(mlir::MLIRContext &context,
                                                    const ckks::Params &params,
                                                    const std::string &text) {
  loadCompilerDialects(context);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(
      text, mlir::ParserConfig(&context));
  if (!module)
    throw Error("test program does not parse");
  lowerToSchedule(*module, params);
  return module;
}

} // namespace cerium::test

#endif // CERIUM_TEST_E2E_SCHEDULESUPPORT_H
