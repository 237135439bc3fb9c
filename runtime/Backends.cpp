//===- Backends.cpp - Choosing the backend that runs a schedule -----------===//

#include "cerium/Runtime/Backends.h"
#include "cerium/Support/Error.h"
#include "cerium/kernels/CpuBackend.h"
#ifdef CERIUM_HAVE_CUDA
#include "cerium/kernels/CudaBackend.h"
#endif

namespace cerium::runtime {

std::unique_ptr<kernels::RnsBackend>
createBackend(const std::string &name, const kernels::RnsContext &ctx,
              int threads) {
  if (name != "auto" && name != "cpu" && name != "cuda")
    throw Error("--backend " + name + ": expected auto, cpu or cuda");
  if (name != "cpu") {
#ifdef CERIUM_HAVE_CUDA
    std::string why;
    if (kernels::cudaDeviceAvailable(&why))
      return kernels::createCudaBackend(ctx);
    if (name == "cuda")
      throw Error("--backend cuda: no usable CUDA device (" + why + ")");
#else
    if (name == "cuda")
      throw Error("--backend cuda: this build of Cerium has no CUDA backend "
                  "(configure with nvcc present)");
#endif
  }
  return kernels::createCpuBackend(ctx, kernels::CpuBackendOptions{threads});
}

std::string backendName(const kernels::RnsBackend &backend) {
  return backend.hostAccessible() ? "cpu" : "cuda";
}

} // namespace cerium::runtime
