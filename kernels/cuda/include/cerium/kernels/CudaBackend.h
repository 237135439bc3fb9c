//===- CudaBackend.h - RNS kernels on NVIDIA GPUs ---------------*- C++ -*-===//
//
// The CUDA implementation of RnsBackend. Views passed to it point into device
// memory (RnsBackend::allocate). All work is queued on one stream;
// copyToHost and synchronize wait for it. The element arithmetic is the
// shared ModArith.h, so results are bit-identical to the CPU backend.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_CUDABACKEND_H
#define CERIUM_KERNELS_CUDABACKEND_H

#include "cerium/kernels/RnsBackend.h"

#include <memory>
#include <string>

namespace cerium::kernels {

/// True if a CUDA device can be used; otherwise `why` says why not (no
/// driver, no device, ...).
bool cudaDeviceAvailable(std::string *why = nullptr);

/// Throws std::runtime_error with one line if no device can be used.
std::unique_ptr<RnsBackend> createCudaBackend(const RnsContext &ctx,
                                              int device = 0);

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_CUDABACKEND_H
