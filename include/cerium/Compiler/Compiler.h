//===- Compiler.h - The compilation pipeline --------------------*- C++ -*-===//
//
// .fhe source -> fhe dialect -> ckks dialect, and the parameter set chosen
// for the result. One pipeline, used by cerium-cc and the tests.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_COMPILER_COMPILER_H
#define CERIUM_COMPILER_COMPILER_H

#include "cerium/CKKS/Params.h"
#include "cerium/DSL/Sema.h"
#include "cerium/DSL/Source.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <string>
#include <vector>

namespace cerium {

/// The levels of the pipeline, in order: a compilation stops after one.
enum class Stage { Fhe, Ckks, Poly, Rns };

struct CompileOptions {
  std::map<std::string, std::string> overrides; // --opt KEY=VALUE
  bool insecure = false;
  Stage stopAfter = Stage::Rns;
};

struct Compilation {
  dsl::FheProgram program; // module, options, input and output shapes
  ckks::ParamsPtr params;  // set when lowered to ckks
  /// The program at the fhe level, kept when lowered (the reference).
  mlir::OwningOpRef<mlir::ModuleOp> fheModule;
  /// The program at the ckks level, kept when lowered further (statistics).
  mlir::OwningOpRef<mlir::ModuleOp> ckksModule;
  /// Each bootstrap (forced or placed), in program order: the source line
  /// of the op it serves, the level it refreshes to and its iterations (2
  /// when the program's precision is finer than one bootstrap's error).
  struct Bootstrap {
    unsigned line, level, iterations;
  };
  std::vector<Bootstrap> bootstraps;
  /// The level bootstraps take their inputs at (BootstrapConfig::inputLevel:
  /// SlotToCoeff's levels when it comes first, else 0).
  unsigned bootstrapInputLevel = 0;
  mlir::func::FuncOp main() {
    return program.module->lookupSymbol<mlir::func::FuncOp>("main");
  }
};

/// Registers the dialects the pipeline uses in `context`.
void loadCompilerDialects(mlir::MLIRContext &context);

/// The prime layout the lower dialects read (ckks.rns) for a parameter set.
struct RnsLayout layoutOf(const ckks::Params &params);

/// Runs the pipeline. Source errors throw dsl::SourceError; errors of the
/// lowerings are reported through `context`'s diagnostic handler and then
/// thrown as cerium::Error.
/// Lowers a ckks-level module for `params` to the poly level or to a planned
/// rns schedule (stopAfter Poly or Rns). Throws cerium::Error ending in
/// "compilation failed" after the diagnostics.
void lowerToSchedule(mlir::ModuleOp module, const ckks::Params &params,
                     Stage stopAfter = Stage::Rns);

Compilation compile(std::shared_ptr<const dsl::SourceFile> source,
                    mlir::MLIRContext &context, const CompileOptions &options);

} // namespace cerium

#endif // CERIUM_COMPILER_COMPILER_H
