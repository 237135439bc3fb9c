//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reads every .npy layout NumPy writes for numeric arrays: format versions
// 1.0, 2.0 and 3.0; C or Fortran order (Fortran is transposed into C order);
// either byte order; float16/32/64, signed and unsigned integers of 1-8
// bytes and bool, all converted to double. Complex, object, string,
// datetime and structured dtypes are refused. Writes float64 arrays,
// atomically. Errors name the file and say what is wrong in one line; no
// allocation is larger than the file.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_SUPPORT_NPY_H
#define CERIUM_SUPPORT_NPY_H

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cerium {

struct NpyArray {
  std::vector<int64_t> shape; // empty for a 0-d array
  std::vector<double> values; // row-major
};

NpyArray readNpy(const std::string &path);
/// Parses the contents of a .npy file; `name` is what errors call it.
NpyArray parseNpy(std::span<const uint8_t> bytes, const std::string &name);
void writeNpy(const std::string &path, const NpyArray &array);

} // namespace cerium

#endif // CERIUM_SUPPORT_NPY_H
