//===- ArtifactFuzz.cpp - Fuzzes the artifact reader -----------------------===//
//
// readArtifact on the input as it came (the container checks) and with its
// length and checksum made consistent (the payload: parameters, tensor
// shapes, key requirements, both programs as MLIR bytecode, CUDA image).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "cerium/Compiler/Artifact.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>

using namespace cerium;

namespace {

/// One context for many inputs (creating one per input would dominate the
/// run time), replaced now and then so that what each parse uniques into it
/// does not accumulate without bound.
mlir::MLIRContext &context() {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static unsigned uses = 0;
  if (!ctx || ++uses % 1000 == 0) {
    ctx.reset();
    ctx = std::make_unique<mlir::MLIRContext>(
        mlir::MLIRContext::Threading::DISABLED);
    // Parse errors of a mutated program are expected; keep them quiet.
    ctx->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
  }
  return *ctx;
}

void read(const std::vector<uint8_t> &bytes) {
  try {
    Artifact a = readArtifact(fuzz::scratchFile(bytes.data(), bytes.size()),
                              context());
    (void)a.main();
    (void)a.referenceMain();
  } catch (const Error &) {
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  try {
    parseContainer(bytes, "fuzz", FileKind::Artifact);
  } catch (const Error &) {
  }
  fuzz::fixContainer(bytes);
  read(bytes);
  return 0;
}
