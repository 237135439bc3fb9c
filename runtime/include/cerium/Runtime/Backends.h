//===- Backends.h - Choosing the backend that runs a schedule ---*- C++ -*-===//
#ifndef CERIUM_RUNTIME_BACKENDS_H
#define CERIUM_RUNTIME_BACKENDS_H

#include "cerium/kernels/RnsBackend.h"

#include <memory>
#include <string>

namespace cerium::runtime {

/// The backend named by `--backend`: "cpu", "cuda", or "auto" (CUDA when
/// this build has it and a GPU is usable, else the CPU). Throws
/// cerium::Error with one line when "cuda" cannot be had. `threads` is the
/// CPU backend's worker count (0: all cores).
std::unique_ptr<kernels::RnsBackend>
createBackend(const std::string &name, const kernels::RnsContext &ctx,
              int threads = 0);

/// "cpu" or "cuda": what a backend made by createBackend is.
std::string backendName(const kernels::RnsBackend &backend);

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_BACKENDS_H
