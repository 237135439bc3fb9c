//===- DslFuzz.cpp - Fuzzes the .fhe front end down to the ckks dialect ---===//
//
// The input is a program: lexed, parsed, analysed into the fhe dialect,
// lowered to ckks (levels and scales managed, lazy relinearization) and
// given a parameter set -- cerium-cc --emit ckks --insecure. It sits in
// examples/digits, so `load("digits.safetensors")` finds real weights.
// Source errors and failed lowerings are cerium::Error; anything else is a
// bug.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "cerium/Compiler/Compiler.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>

using namespace cerium;

namespace {

/// As in ArtifactFuzz.cpp: one context, replaced every 1000 inputs.
mlir::MLIRContext &context() {
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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto source = std::make_shared<const dsl::SourceFile>(
      CERIUM_FUZZ_SOURCE_DIR "/fuzz.fhe",
      std::string(reinterpret_cast<const char *>(data), size));
  CompileOptions options;
  options.insecure = true;
  options.stopAfter = Stage::Ckks;
  try {
    compile(source, context(), options);
  } catch (const Error &) {
  }
  return 0;
}
