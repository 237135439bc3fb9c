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
// On several devices (GPUs, or processes on this host: `cpux2`) the estimate
// partitions a copy of the schedule with rns-partition, as the runtime does
// (the link priced for the target), and keeps one timeline per process:
// limb-wise ops cost each process its own limbs (call by call, as the
// executor runs its runs of owned limbs), ops placed on one process cost
// that process, and every all-gather is a synchronisation point followed
// by its transfer. The latency is the slowest process's.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_COMPILER_ESTIMATE_H
#define CERIUM_COMPILER_ESTIMATE_H

#include "cerium/CKKS/Params.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"
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

/// "cpu" or a GPU model, with an optional count: H100, H200x8, A100x4,
/// cpux2 (processes on this host, each at the calibrated speed: set
/// OMP_NUM_THREADS to the threads each process gets).
struct EstimateTarget {
  const GpuModel *gpu = nullptr; // null: this host's CPU
  int devices = 1;               // GPUs, or processes on this host
  std::string name() const;
};

/// Throws cerium::Error (one line, the known models) on an unknown name.
EstimateTarget parseEstimateTarget(const std::string &text);

/// One op kind's share of an estimate. On several devices `seconds` is the
/// slowest process's time in that kind (kind "wait": its idle time at
/// collectives), so the kinds sum to the latency; `calls` counts the
/// schedule's ops; bytes, modmuls and butterflies are the work of all
/// processes together; `linkBytes` the bytes all processes receive.
struct KindCost {
  int calls = 0;
  double seconds = 0, bytes = 0, modmuls = 0, butterflies = 0, linkBytes = 0;
};

struct Estimate {
  EstimateTarget target;
  double seconds = 0;
  double bytesMoved = 0, linkBytes = 0;
  /// Per device: the planned arena (the largest process's plan: the arrays
  /// of limb-wise work hold that process's limbs only), the evaluation keys
  /// divided by the devices (each process holds the keys, or key limbs, its
  /// share uses), and the plaintexts a device backend keeps (whole while
  /// they fit beside the arena and keys, then compact, as cerium-run's
  /// --plaintexts auto) divided by the devices (what a split would need;
  /// today each device keeps every one it uses: `heldBytesPerProcess`).
  double arenaBytes = 0, keyBytes = 0, plaintextBytes = 0;
  /// How the schedule was split: ops limb-wise, ops on one process, and
  /// the all-gathers (0 on one device).
  int limbWiseOps = 0, placedOps = 0, gathers = 0;
  std::map<std::string, KindCost> byKind;
  double peakBytesPerDevice() const {
    return arenaBytes + keyBytes + plaintextBytes;
  }
  /// What one process of a run on target.devices holds today: its arena,
  /// its share of the keys (on average) and at most every plaintext.
  double heldBytesPerProcess() const {
    return arenaBytes + double(target.devices) * plaintextBytes + keyBytes;
  }
};

/// The estimate of the planned schedule `main` under `params`. For the CPU
/// this may run the calibration (about a second) when it is not cached.
Estimate estimate(mlir::func::FuncOp main, const ckks::ParamsPtr &params,
                  const EstimateTarget &target);

/// rns-partition's options for `target` (ranks = devices, mode auto): the
/// link's price per word and per collective in modular products of the
/// target (on the CPU from the calibration, which this may run).
rns::PartitionOptions partitionOptions(const EstimateTarget &target,
                                       const ckks::ParamsPtr &params);

/// Bytes of each of the evaluation keys `keys` under `params` (all digits,
/// both halves, over P and Q).
std::map<ckks::KeyName, double>
evalKeyBytesByName(const ckks::Params &params,
                   const runtime::KeyRequirements &keys);
/// Their sum.
double evalKeyBytes(const ckks::Params &params,
                    const runtime::KeyRequirements &keys);

/// The report cerium-cc prints.
std::string estimateReport(const Estimate &e);

} // namespace cerium

#endif // CERIUM_COMPILER_ESTIMATE_H
