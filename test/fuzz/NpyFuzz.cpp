//===- NpyFuzz.cpp - Fuzzes the .npy reader --------------------------------===//
//
// Every layout of the header and data: versions, byte orders, dtypes,
// Fortran order, shapes whose element count overflows or exceeds the data.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "cerium/Support/Npy.h"

using namespace cerium;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    NpyArray a = parseNpy(std::span<const uint8_t>(data, size), "fuzz.npy");
    // What the reader returns must be self-consistent.
    uint64_t count = 1;
    for (int64_t d : a.shape)
      count *= uint64_t(d);
    if (count != a.values.size())
      __builtin_trap();
  } catch (const Error &) {
  }
  return 0;
}
