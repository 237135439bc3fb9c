//===- Compiler.cpp - The compilation pipeline ----------------------------===//

#include "cerium/Compiler/Compiler.h"
#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/DSL/Parser.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"

#include "mlir/Pass/PassManager.h"

namespace cerium {

void loadCompilerDialects(mlir::MLIRContext &context) {
  context.loadDialect<fhe::FHEDialect, ckks::CKKSDialect,
                      mlir::func::FuncDialect>();
}

Compilation compile(std::shared_ptr<const dsl::SourceFile> source,
                    mlir::MLIRContext &context, const CompileOptions &options) {
  loadCompilerDialects(context);
  Compilation c;
  dsl::Program ast = dsl::parse(source);
  c.program = dsl::buildFhe(ast, context, options.overrides, options.insecure);
  if (options.stopAfter == Stage::Fhe)
    return c;
  c.fheModule = c.program.module->clone();
  mlir::PassManager pm(&context);
  pm.addPass(createFheToCkksPass(c.program.options.slots));
  pm.addNestedPass<mlir::func::FuncOp>(ckks::createLazyRelinearizePass());
  if (mlir::failed(pm.run(*c.program.module)))
    throw Error(source->path() + ": compilation failed");
  auto module = *c.program.module;
  auto slots = module->getAttrOfType<mlir::IntegerAttr>("ckks.slots");
  auto levels = module->getAttrOfType<mlir::IntegerAttr>("ckks.levels");
  unsigned logN = 0;
  if (int64_t ring = c.program.options.ringDim)
    while ((int64_t(1) << logN) < ring)
      ++logN;
  c.params = ckks::chooseParams(
      slots.getInt(), static_cast<unsigned>(levels.getInt()),
      c.program.options.precision,
      options.insecure || c.program.options.security == 0, logN);
  return c;
}

} // namespace cerium
