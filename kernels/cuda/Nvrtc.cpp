//===- Nvrtc.cpp - Compiling generated kernels at load time ---------------===//

#include "cerium/kernels/Nvrtc.h"

#include <nvrtc.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace cerium::kernels {

std::string compileToPtx(const std::string &source, int major, int minor) {
  auto check = [](nvrtcResult r, const char *what) {
    if (r != NVRTC_SUCCESS)
      throw std::runtime_error(std::string("NVRTC ") + what + ": " +
                               nvrtcGetErrorString(r));
  };
  nvrtcProgram prog;
  check(nvrtcCreateProgram(&prog, source.c_str(), "cerium_kernels.cu", 0,
                           nullptr, nullptr),
        "create");
  std::unique_ptr<nvrtcProgram, void (*)(nvrtcProgram *)> guard(
      &prog, [](nvrtcProgram *p) { nvrtcDestroyProgram(p); });
  const std::string arch = "--gpu-architecture=compute_" +
                           std::to_string(major) + std::to_string(minor);
  const char *options[] = {arch.c_str(), "--std=c++17"};
  nvrtcResult compiled = nvrtcCompileProgram(prog, 2, options);
  if (compiled != NVRTC_SUCCESS) {
    size_t size = 0;
    nvrtcGetProgramLogSize(prog, &size);
    std::string log(size, '\0');
    nvrtcGetProgramLog(prog, log.data());
    throw std::runtime_error("NVRTC cannot compile the generated kernels: " +
                             log);
  }
  size_t size = 0;
  check(nvrtcGetPTXSize(prog, &size), "PTX size");
  std::string ptx(size, '\0');
  check(nvrtcGetPTX(prog, ptx.data()), "PTX");
  return ptx;
}

} // namespace cerium::kernels
