//===- CudaTarget.h - Generated kernels compiled for GPUs -------*- C++ -*-===//
//
// `cerium-cc --target cuda|all` generates the program's fused kernels as
// CUDA C++ and, when nvcc is at hand, compiles them into a fatbin (a cubin
// per listed architecture plus PTX of the newest, which later GPUs JIT).
// Both go into the artifact; without a fatbin the CUDA backend compiles the
// source with NVRTC when it loads the artifact.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_COMPILER_CUDATARGET_H
#define CERIUM_COMPILER_CUDATARGET_H

#include <cstdint>
#include <string>
#include <vector>

namespace cerium {

/// The GPU architectures fatbins are built for (compute capability x 10).
inline const std::vector<unsigned> kCudaArchitectures = {80, 90};

/// nvcc from $CERIUM_NVCC, the PATH or /usr/local/cuda/bin; empty if none.
std::string findNvcc();

/// Compiles `source` with `nvcc` into a fatbin for `architectures`; throws
/// cerium::Error with nvcc's first error line on failure.
std::vector<uint8_t> compileFatbin(const std::string &source,
                                   const std::string &nvcc,
                                   const std::vector<unsigned> &architectures);

} // namespace cerium

#endif // CERIUM_COMPILER_CUDATARGET_H
