//===- Nvrtc.h - Compiling generated kernels at load time -------*- C++ -*-===//
//
// When an artifact carries no binary for the GPU at hand (or nvcc was absent
// when it was compiled), the CUDA backend compiles the generated source with
// NVRTC. NVRTC needs no GPU, so CI tests this path.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_NVRTC_H
#define CERIUM_KERNELS_NVRTC_H

#include <string>

namespace cerium::kernels {

/// PTX for compute capability `major.minor` (e.g. 9.0); throws
/// std::runtime_error with NVRTC's log on a compilation error.
std::string compileToPtx(const std::string &source, int major, int minor);

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_NVRTC_H
