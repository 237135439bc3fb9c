//===- CpuBackend.h - Multithreaded, vectorized CPU kernels -----*- C++ -*-===//
//
// The CPU implementation of RnsBackend: the reference backend and the one CI
// measures. Limbs are processed in parallel with OpenMP. Every kernel exists
// in three code paths -- portable (baseline x86-64), AVX2 and AVX-512 -- that
// agree bit for bit; the best one the running CPU has is chosen at run time,
// and the environment variable CERIUM_CPU=portable|avx2|avx512 forces a
// lower one (so each path can be tested and measured on one machine).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_CPUBACKEND_H
#define CERIUM_KERNELS_CPUBACKEND_H

#include "cerium/kernels/RnsBackend.h"

#include <array>
#include <memory>
#include <span>

namespace cerium::kernels {

/// The CPU code path of every kernel (NTT, base conversion, inner product,
/// elementwise, automorphism).
enum class CpuPath { Auto, Portable, Avx2, Avx512 };
/// The option's former name, from when it chose the NTT alone.
using NttPath = CpuPath;

struct CpuBackendOptions {
  /// Worker threads; 0 means all hardware threads.
  int threads = 0;
  /// Code path; Auto takes CERIUM_CPU if set, else the best the CPU has.
  CpuPath path = CpuPath::Auto;
};

std::unique_ptr<RnsBackend> createCpuBackend(const RnsContext &ctx,
                                             CpuBackendOptions options = {});

/// True if this CPU executes AVX2.
bool cpuHasAvx2();
/// True if this CPU has the AVX-512 subsets the AVX-512 path is compiled for
/// (x86-64-v4: F, BW, CD, DQ, VL).
bool cpuHasAvx512();
/// Whether this CPU can run `path` (Auto and Portable: always).
bool cpuSupports(CpuPath path);
/// "portable", "avx2", "avx512" ("auto" for Auto).
const char *cpuPathName(CpuPath path);
/// The best path this CPU has (what Auto means without CERIUM_CPU).
CpuPath bestCpuPath();
/// The path a backend created with `requested` runs: Auto becomes
/// CERIUM_CPU's path when the variable is set, else the best this CPU has.
/// Throws std::runtime_error (one line: the variable, the path, what the CPU
/// lacks) for an unknown name or a path this CPU cannot run.
CpuPath resolveCpuPath(CpuPath requested = CpuPath::Auto);
/// The resolved path of a backend made by createCpuBackend; Auto for other
/// backends.
CpuPath cpuPathOf(const RnsBackend &backend);

/// The AES instructions a sampler of key halves runs on: none (the
/// table-driven reference), AES-NI on one block per register (the 16-byte
/// form, with the test and reduction in AVX2), or VAES on two (256-bit) or
/// four (512-bit) blocks per register.
enum class AesUnit { Software, AesNi, Vaes256, Vaes512 };
/// Whether this CPU has `unit` and the vector extension its sampler uses.
bool cpuSupports(AesUnit unit);
/// The unit `path`'s sampler takes on this CPU: the widest VAES the path's
/// registers hold, else AES-NI, else the reference (and the portable path
/// always the reference).
AesUnit aesUnitFor(CpuPath path);
/// "software", "aes-ni", "vaes256", "vaes512".
const char *aesUnitName(AesUnit unit);

/// `out` uniform in [0, bound) from the AES-256-CTR keystream of (key,
/// nonce) from block `counter` on, each word kept if below the largest
/// multiple of `bound` that fits 32 bits and reduced: the values
/// cerium::expandUniform (Support/Random.h, the reference) draws, on
/// `unit` (which the CPU must have) with the test and the reduction on
/// vectors. For the uniform halves of switching keys; it does not throw,
/// so parallel loops call it.
void expandUniform(AesUnit unit, const std::array<uint32_t, 8> &key,
                   uint64_t nonce, uint64_t counter, uint32_t bound,
                   std::span<uint32_t> out) noexcept;
/// The same on aesUnitFor(path) (Auto: bestCpuPath(), CERIUM_CPU aside;
/// callers pass resolveCpuPath()'s answer).
void expandUniform(CpuPath path, const std::array<uint32_t, 8> &key,
                   uint64_t nonce, uint64_t counter, uint32_t bound,
                   std::span<uint32_t> out) noexcept;

/// The CPU path for host work beside `backend` (e.g. making a compact key's
/// limbs): a CPU backend's own, else resolveCpuPath()'s.
CpuPath hostCpuPath(const RnsBackend &backend);

namespace cpu {
/// Single-limb NTTs (in place, output fully reduced into [0, p)).
void nttForwardPortable(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttInversePortable(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttForwardAvx2(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttInverseAvx2(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttForwardAvx512(uint32_t *a, const PrimeTables &t, unsigned logN);
void nttInverseAvx512(uint32_t *a, const PrimeTables &t, unsigned logN);
} // namespace cpu

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_CPUBACKEND_H
