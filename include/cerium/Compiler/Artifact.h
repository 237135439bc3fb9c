//===- Artifact.h - The .cerium artifact ------------------------*- C++ -*-===//
//
// What cerium-cc writes and every other tool reads: one checksummed
// container (Support/Container.h, kind Artifact) holding the parameter set,
// the inputs and outputs of main (names, shapes), the precision target, the
// evaluation keys the program needs, the lowered program (the planned rns
// schedule, MLIR bytecode), the reference program (fhe dialect with its
// weights folded in) for `cerium-run --plain`, and the constant section: the
// stored values of the schedule's plaintext constants, which its encodes
// name by place (#rns.stored). A file is read through a mapping: the
// constants are read from it as the run uses them (streamed under
// `cerium-run --memory-limit`) and the reference program is parsed only when
// asked for, so neither is in memory by default.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_COMPILER_ARTIFACT_H
#define CERIUM_COMPILER_ARTIFACT_H

#include "cerium/CKKS/Params.h"
#include "cerium/Compiler/Compiler.h"
#include "cerium/Runtime/Schedule.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <span>

namespace cerium {

class MappedContainer;

/// An artifact file's payload as read: mapped in place (a regular file) or
/// copied (anything else).
struct ArtifactBytes {
  std::unique_ptr<MappedContainer> mapped;
  std::vector<uint8_t> copy;
  std::span<const uint8_t> payload;
  ~ArtifactBytes();
};

struct Artifact {
  ckks::ParamsPtr params;
  /// Identifies the compiled program (set when written or read): keys and
  /// ciphertexts made for it carry it (ckks::Provenance).
  uint64_t fingerprint = 0;
  std::vector<dsl::TensorInfo> inputs, outputs;
  double precision = 1e-3;
  runtime::KeyRequirements keys;
  mlir::OwningOpRef<mlir::ModuleOp> program; // rns dialect, memory planned
  /// fhe dialect, weights folded; parsed from the file at the first
  /// referenceMain().
  mlir::OwningOpRef<mlir::ModuleOp> reference;
  /// Read from a file: its bytes, the constant section (in its payload,
  /// 8-byte aligned) and the reference program's bytecode, unparsed until
  /// asked for.
  std::shared_ptr<const ArtifactBytes> file;
  std::span<const uint8_t> constants;
  /// --target cuda|all: the generated kernels' CUDA C++ and, if nvcc was
  /// found, their fatbin (both empty for --target cpu).
  std::string cudaSource;
  std::vector<uint8_t> cudaImage;

  mlir::func::FuncOp main() {
    return program->lookupSymbol<mlir::func::FuncOp>("main");
  }
  /// Throws cerium::Error with one line when the file's reference program
  /// does not parse or has no main.
  mlir::func::FuncOp referenceMain();

private:
  friend Artifact readArtifact(const std::string &, mlir::MLIRContext &);
  std::string path;
  std::span<const uint8_t> referenceBytes;
  mlir::MLIRContext *context = nullptr;
};

/// Builds the artifact of a compilation lowered to ckks (its weights are
/// read and folded into the reference program's constants).
Artifact makeArtifact(Compilation &lowered);

/// Writes the program with its constants moved to the constant section
/// (the artifact's own program keeps them inline).
void writeArtifact(const std::string &path, Artifact &artifact);
/// Throws cerium::Error with one line on a bad file. `context` must outlive
/// the artifact's modules. Every #rns.stored of the program is checked to
/// lie in the constant section.
Artifact readArtifact(const std::string &path, mlir::MLIRContext &context);

} // namespace cerium

#endif // CERIUM_COMPILER_ARTIFACT_H
