//===- Artifact.h - The .cerium artifact ------------------------*- C++ -*-===//
//
// What cerium-cc writes and every other tool reads: one checksummed
// container (Support/Container.h, kind Artifact) holding the parameter set,
// the inputs and outputs of main (names, shapes), the precision target, the
// evaluation keys the program needs, the lowered program (ckks dialect,
// MLIR bytecode, plaintext constants inside) and the reference program (fhe
// dialect with its weights folded in) for `cerium-run --plain`.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_COMPILER_ARTIFACT_H
#define CERIUM_COMPILER_ARTIFACT_H

#include "cerium/CKKS/Params.h"
#include "cerium/Compiler/Compiler.h"
#include "cerium/Runtime/Schedule.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace cerium {

struct Artifact {
  ckks::ParamsPtr params;
  /// Identifies the compiled program (set when written or read): keys and
  /// ciphertexts made for it carry it (ckks::Provenance).
  uint64_t fingerprint = 0;
  std::vector<dsl::TensorInfo> inputs, outputs;
  double precision = 1e-3;
  runtime::KeyRequirements keys;
  mlir::OwningOpRef<mlir::ModuleOp> program;   // rns dialect, memory planned
  mlir::OwningOpRef<mlir::ModuleOp> reference; // fhe dialect, weights folded
  /// --target cuda|all: the generated kernels' CUDA C++ and, if nvcc was
  /// found, their fatbin (both empty for --target cpu).
  std::string cudaSource;
  std::vector<uint8_t> cudaImage;

  mlir::func::FuncOp main() {
    return program->lookupSymbol<mlir::func::FuncOp>("main");
  }
  mlir::func::FuncOp referenceMain() {
    return reference->lookupSymbol<mlir::func::FuncOp>("main");
  }
};

/// Builds the artifact of a compilation lowered to ckks (its weights are
/// read and folded into the reference program's constants).
Artifact makeArtifact(Compilation &lowered);

void writeArtifact(const std::string &path, Artifact &artifact);
/// Throws cerium::Error with one line on a bad file. `context` must outlive
/// the artifact's modules.
Artifact readArtifact(const std::string &path, mlir::MLIRContext &context);

} // namespace cerium

#endif // CERIUM_COMPILER_ARTIFACT_H
