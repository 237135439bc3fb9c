//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reads version 1-3 .npy files of float64, float32, int64 or int32 in either
// byte order (C order), converting to double; writes float64 arrays,
// atomically. Errors name the file and say what is wrong in one line.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_SUPPORT_NPY_H
#define CERIUM_SUPPORT_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace cerium {

struct NpyArray {
  std::vector<int64_t> shape; // empty for a 0-d array
  std::vector<double> values; // row-major
};

NpyArray readNpy(const std::string &path);
void writeNpy(const std::string &path, const NpyArray &array);

} // namespace cerium

#endif // CERIUM_SUPPORT_NPY_H
