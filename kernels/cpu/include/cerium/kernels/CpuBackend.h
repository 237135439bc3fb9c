//===- CpuBackend.h - Multithreaded, vectorized CPU kernels -----*- C++ -*-===//
//
// The CPU implementation of RnsBackend: the reference backend and the one CI
// measures. Limbs are processed in parallel with OpenMP; the NTT uses AVX2
// when the running CPU has it (chosen at run time) and a portable path
// otherwise.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_CPUBACKEND_H
#define CERIUM_KERNELS_CPUBACKEND_H

#include "cerium/kernels/RnsBackend.h"

#include <memory>

namespace cerium::kernels {

enum class NttPath { Auto, Portable, Avx2, Avx512 };

struct CpuBackendOptions {
  /// Worker threads; 0 means all hardware threads.
  int threads = 0;
  /// NTT implementation; Auto picks AVX-512, else AVX2, as the CPU allows.
  NttPath ntt = NttPath::Auto;
};

std::unique_ptr<RnsBackend> createCpuBackend(const RnsContext &ctx,
                                             CpuBackendOptions options = {});

/// True if this CPU executes AVX2.
bool cpuHasAvx2();
bool cpuHasAvx512();

namespace cpu {
/// Single-limb NTTs (in place, output fully reduced into [0, p)).
void nttForwardPortable(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttInversePortable(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttForwardAvx2(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttInverseAvx2(uint32_t *a, const PrimeTables &t, unsigned logN);
/// The AVX2 forward stages from the one with `m` groups of span `half` to
/// the last, then the reduction to [0, p) (what the AVX-512 NTT finishes
/// with).
void nttForwardAvx2Stages(uint32_t *a, const PrimeTables &t, unsigned logN,
                          size_t m, size_t half);
/// The AVX2 inverse stages of span below `stopHalf`, from span 1; returns
/// the span of the next stage (no scaling by 1/N).
size_t nttInverseAvx2Stages(uint32_t *a, const PrimeTables &t, unsigned logN,
                            size_t stopHalf);
void nttForwardAvx512(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttInverseAvx512(uint32_t *a, const PrimeTables &t, unsigned logN);
} // namespace cpu

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_CPUBACKEND_H
