//===- SafetensorsFuzz.cpp - Fuzzes the safetensors reader -----------------===//
//
// Opens the input as a weights file and reads every tensor it lists, as the
// front end does for `weights w = load(...)`, and looks up close matches of
// a name (the "did you mean" of an unknown tensor).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "cerium/DSL/Safetensors.h"

using namespace cerium;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    auto file = dsl::SafetensorsFile::open(fuzz::scratchFile(data, size));
    for (const auto &[name, tensor] : file->tensors()) {
      std::vector<double> values = file->read(name);
      uint64_t count = 1;
      for (int64_t d : tensor.shape)
        count *= uint64_t(d);
      if (count != values.size())
        __builtin_trap();
    }
    file->closeMatches("fc1.weight");
  } catch (const Error &) {
  }
  return 0;
}
