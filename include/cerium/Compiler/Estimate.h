//===- Estimate.h - What a compiled program will cost on a target -*- C++
//-*-===//
//
// `cerium-cc --estimate TARGET`: a cost model over the planned rns schedule,
// before anything runs. Every kernel call is described by the work it does
// (bytes it moves, modular multiplications, NTT butterflies, bytes between
// devices) and timed by the target's model: on a GPU a roofline of memory
// bandwidth against 32-bit integer throughput plus a launch cost; on this
// host, unit costs measured once by a short micro-benchmark of the CPU
// backend's own primitives (cached per machine, code path, thread count and
// ring degree).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_COMPILER_ESTIMATE_H
#define CERIUM_COMPILER_ESTIMATE_H

#include "cerium/CKKS/Params.h"
#include "cerium/Runtime/Schedule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <string>

namespace cerium {

/// A GPU model's published characteristics (datasheet figures, not
/// measurements).
struct GpuModel {
  const char *name;
  double memoryBandwidth; // bytes/s, device memory
  double int32Throughput; // 32-bit integer multiply-adds/s
  double memoryBytes;     // device memory
  double linkBandwidth;   // bytes/s per device, NVLink
  double launchSeconds;   // per kernel node in a replayed CUDA graph
};

/// "cpu", or a GPU model with an optional count: H100, H200x8, A100x4.
struct EstimateTarget {
  const GpuModel *gpu = nullptr; // null: this host's CPU
  int devices = 1;
  std::string name() const;
};

/// Throws cerium::Error (one line, the known models) on an unknown name.
EstimateTarget parseEstimateTarget(const std::string &text);

/// One op kind's share of an estimate.
struct KindCost {
  int calls = 0;
  double seconds = 0, bytes = 0, modmuls = 0, butterflies = 0, linkBytes = 0;
};

struct Estimate {
  EstimateTarget target;
  double seconds = 0;
  double bytesMoved = 0, linkBytes = 0;
  /// Per device: the planned arena, the evaluation keys, and the encoded
  /// plaintexts a device backend keeps.
  double arenaBytes = 0, keyBytes = 0, plaintextBytes = 0;
  std::map<std::string, KindCost> byKind;
  double peakBytesPerDevice() const {
    return arenaBytes + keyBytes + plaintextBytes;
  }
};

/// The estimate of the planned schedule `main` under `params`. For the CPU
/// this may run the calibration (about a second) when it is not cached.
Estimate estimate(mlir::func::FuncOp main, const ckks::ParamsPtr &params,
                  const EstimateTarget &target);

/// Bytes of the evaluation keys `keys` under `params` (all digits, both
/// halves, over P and Q).
double evalKeyBytes(const ckks::Params &params,
                    const runtime::KeyRequirements &keys);

/// The report cerium-cc prints.
std::string estimateReport(const Estimate &e);

} // namespace cerium

#endif // CERIUM_COMPILER_ESTIMATE_H
