//===- Compiler.cpp - The compilation pipeline ----------------------------===//

#include "cerium/Compiler/Compiler.h"
#include "cerium/Conversion/CKKSToPoly.h"
#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/Conversion/PolyToRNS.h"
#include "cerium/DSL/Parser.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/Transforms/Bootstrap.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "cerium/Dialect/Poly/Transforms/Passes.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace cerium {

/// The secret's Hamming weight in programs that bootstrap.
constexpr unsigned kBootstrapHammingWeight = 64;

void loadCompilerDialects(mlir::MLIRContext &context) {
  context.loadDialect<fhe::FHEDialect, ckks::CKKSDialect, poly::PolyDialect,
                      rns::RNSDialect, mlir::func::FuncDialect>();
}

RnsLayout layoutOf(const ckks::Params &p) {
  RnsLayout l;
  l.logN = p.logN();
  l.base = unsigned(p.baseCount());
  l.perLevel = unsigned(p.primesPerLevel());
  l.special = unsigned(p.numP());
  l.digitSize = unsigned(p.digitSize());
  for (uint32_t id = 0; id < p.numQ() + p.numP(); ++id)
    l.moduli.push_back(p.prime(id));
  for (unsigned level = 0; level <= p.maxLevel(); ++level)
    l.scales.push_back(p.levelScale(level));
  return l;
}

void lowerToSchedule(mlir::ModuleOp module, const ckks::Params &params,
                     Stage stopAfter) {
  mlir::MLIRContext &context = *module.getContext();
  module->setAttr(RnsLayout::kAttrName, layoutOf(params).toAttr(&context));
  mlir::PassManager pm(&context);
  pm.addPass(ckks::createExpandBootstrapPass());
  pm.addNestedPass<mlir::func::FuncOp>(ckks::createLazyRelinearizePass());
  pm.addPass(createCkksToPolyPass());
  // Rotations of one ciphertext raise it once (see ckks-to-poly).
  pm.addPass(mlir::createCSEPass());
  pm.addNestedPass<mlir::func::FuncOp>(poly::createMergeModDownRescalePass());
  if (stopAfter == Stage::Rns) {
    pm.addPass(createPolyToRnsPass());
    pm.addNestedPass<mlir::func::FuncOp>(rns::createFuseElementwisePass());
    pm.addNestedPass<mlir::func::FuncOp>(rns::createPlanMemoryPass());
  }
  if (mlir::failed(pm.run(module)))
    throw Error("compilation failed");
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
  unsigned levels = static_cast<unsigned>(
      module->getAttrOfType<mlir::IntegerAttr>("ckks.levels").getInt());
  // Bootstraps need their own depth on top of the deepest segment, and a
  // sparse secret (encapsulation, which keeps a dense one, is later work).
  unsigned hammingWeight = 0;
  mlir::Operation *firstBootstrap = nullptr;
  module.walk([&](ckks::BootstrapOp op) {
    if (!firstBootstrap)
      firstBootstrap = op;
  });
  if (firstBootstrap) {
    if (!(options.insecure || c.program.options.security == 0)) {
      dsl::SourceLoc at{1, 1};
      if (auto fl =
              mlir::dyn_cast<mlir::FileLineColLoc>(firstBootstrap->getLoc()))
        at = {fl.getLine(), fl.getColumn()};
      throw dsl::SourceError(
          *source, at,
          "bootstrapping runs with a sparse secret below 128-bit security "
          "for now (sparse-secret encapsulation is not yet supported): "
          "compile with --insecure");
    }
    hammingWeight = kBootstrapHammingWeight;
    auto config = ckks::BootstrapConfig::forHammingWeight(hammingWeight);
    module->setAttr(ckks::BootstrapConfig::kAttrName, config.toAttr(&context));
    levels += config.depth();
  }
  unsigned logN = 0;
  if (int64_t ring = c.program.options.ringDim)
    while ((int64_t(1) << logN) < ring)
      ++logN;
  try {
    c.params =
        ckks::chooseParams(slots.getInt(), levels, c.program.options.precision,
                           options.insecure || c.program.options.security == 0,
                           logN, hammingWeight);
  } catch (const Error &e) {
    // main's depth and the precision option decide: point at main.
    dsl::SourceLoc at{1, 1};
    auto main = c.fheModule->lookupSymbol<mlir::func::FuncOp>("main");
    if (auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(main.getLoc()))
      at = {fl.getLine(), fl.getColumn()};
    throw dsl::SourceError(*source, at, e.what());
  }
  if (firstBootstrap) {
    // Expanded here, so that the kept ckks module (statistics) holds it.
    module.walk([&](ckks::BootstrapOp op) {
      auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(op.getLoc());
      c.bootstrapLines.push_back(fl ? fl.getLine() : 0);
    });
    module->setAttr(RnsLayout::kAttrName, layoutOf(*c.params).toAttr(&context));
    mlir::PassManager expand(&context);
    expand.addPass(ckks::createExpandBootstrapPass());
    if (mlir::failed(expand.run(module)))
      throw Error(source->path() + ": compilation failed");
  }
  if (options.stopAfter == Stage::Ckks)
    return c;

  c.ckksModule = module.clone();
  try {
    lowerToSchedule(module, *c.params, options.stopAfter);
  } catch (const Error &) {
    throw Error(source->path() + ": compilation failed");
  }
  return c;
}

} // namespace cerium
