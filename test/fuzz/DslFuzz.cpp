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

#include "FuzzContext.h"
#include "FuzzSupport.h"

#include "cerium/Compiler/Compiler.h"

#include <memory>

using namespace cerium;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto source = std::make_shared<const dsl::SourceFile>(
      CERIUM_FUZZ_SOURCE_DIR "/fuzz.fhe",
      std::string(reinterpret_cast<const char *>(data), size));
  CompileOptions options;
  options.insecure = true;
  options.stopAfter = Stage::Ckks;
  try {
    compile(source, fuzz::context(), options);
  } catch (const Error &) {
  }
  return 0;
}
