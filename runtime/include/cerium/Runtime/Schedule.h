//===- Schedule.h - Executing rns schedules ---------------------*- C++ -*-===//
//
// A compiled program is an rns-dialect function with a memory plan (see
// rns-plan-memory): every limb array has an offset in one arena. The
// executor allocates the arena once on the backend, copies the input
// ciphertexts to their places and runs the ops in order, each one kernel
// call (or a copy) on views into the arena: fused elementwise kernels as
// ElementwisePrograms, NTTs, base conversions, automorphisms and the
// key-switching inner product. Keys stay where they are on a backend whose
// memory is host memory; other backends get a copy on first use.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_SCHEDULE_H
#define CERIUM_RUNTIME_SCHEDULE_H

#include "cerium/CKKS/Ciphertext.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/Dialect/SlotValues.h"
#include "cerium/Runtime/Communicator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <memory>
#include <set>
#include <vector>

namespace cerium::runtime {

/// The evaluation keys a program needs (what keygen must produce).
struct KeyRequirements {
  bool relinearization = false;
  /// Each Galois element with the highest level the program switches it at.
  ckks::GaloisLevels galois;
  /// The two keys of sparse-secret encapsulation (s -> s' over [P, Q_0],
  /// s' -> s): the program switches secrets around its bootstraps' ModRaise.
  bool encapsulation = false;
};

/// The keys named by the program's rns.key_switch ops.
KeyRequirements requiredKeys(mlir::func::FuncOp main);

/// The program's ciphertext-level signature (ckks types of inputs and
/// outputs), recorded by the ckks -> poly lowering.
mlir::FunctionType ciphertextSignature(mlir::func::FuncOp main);

/// Bytes of the program's arena (its peak memory for ciphertext data).
size_t arenaBytes(mlir::func::FuncOp main);

/// The elementwise program of an rns.kernel, its constants reduced for the
/// kernel's primes.
kernels::ElementwiseProgram compileKernel(mlir::Operation *kernel,
                                          const ckks::Params &params);

/// Names every rns.kernel of the program (attribute `rns.kernel_name`;
/// kernels with the same program share a name) and returns self-contained
/// CUDA C++ defining each named kernel once, with ModArith.h inlined: what
/// `cerium-cc --emit cuda` prints and `--target cuda` compiles.
std::string generateCudaKernels(mlir::func::FuncOp main,
                                const ckks::Params &params);

/// The key an rns.key_switch op uses.
ckks::KeyName keyName(mlir::Operation *keySwitch);

/// Where the executor takes switching keys from, one key switch at a time.
class KeySource {
public:
  virtual ~KeySource();
  /// The key `name`, for the key switch about to run; valid until the next
  /// call. Throws cerium::Error when there is no such key.
  virtual const ckks::SwitchingKey &key(const ckks::KeyName &name) = 0;
};

/// Every key in memory.
class ResidentKeys : public KeySource {
public:
  explicit ResidentKeys(const ckks::EvalKeys &keys) : keys(keys) {}
  const ckks::SwitchingKey &key(const ckks::KeyName &name) override;

private:
  const ckks::EvalKeys &keys;
};

/// Where the executor takes the values of plaintext constants kept outside
/// the program (rns.encode's #rns.stored: an artifact's constant section).
class PlaintextSource {
public:
  virtual ~PlaintextSource();
  /// The stored period of `encode`, for the encode about to run; valid
  /// until the next call.
  virtual SlotValueData values(mlir::Operation *encode) = 0;
};

/// A constant section in memory (or mapped: its pages come in as they are
/// read and stay).
class SectionPlaintexts : public PlaintextSource {
public:
  explicit SectionPlaintexts(std::span<const uint8_t> section)
      : section(section) {}
  SlotValueData values(mlir::Operation *encode) override;

private:
  std::span<const uint8_t> section;
};

/// Called after each op: ops done, ops in all, the op, its time in ms.
using OpObserver = std::function<void(
    size_t done, size_t total, mlir::Operation *op, double milliseconds)>;

/// A planned rns program prepared to run on a backend: the arena is
/// allocated once, and kernel programs and base-conversion tables are built
/// on first use and kept, so repeated runs pay only for the kernels.
class ScheduleExecutor {
public:
  /// A schedule partitioned over several ranks (rns-partition: `rns.ranks`)
  /// runs with a communicator of that size, this process being its rank:
  /// it computes its share of each op and exchanges limbs at the
  /// rns.all_gather ops; every rank ends with all the outputs.
  ScheduleExecutor(mlir::func::FuncOp main, ckks::ParamsPtr params,
                   kernels::RnsBackend &backend,
                   Communicator *communicator = nullptr);
  ~ScheduleExecutor();
  /// Runs on ciphertexts given in the order of the ciphertext signature;
  /// returns the output ciphertexts. The three steps of a run, separately:
  /// copy the inputs to their places, run the ops, copy the outputs back.
  std::vector<ckks::Ciphertext> run(const ckks::EvalKeys &keys,
                                    const std::vector<ckks::Ciphertext> &inputs,
                                    const OpObserver &observer = {});
  void setInputs(const std::vector<ckks::Ciphertext> &inputs);
  /// Runs every op and waits for the backend to finish. On a device
  /// backend the keys are copied to the device on the first run with a
  /// given EvalKeys object (kept unchanged while runs use it), the second
  /// run is recorded and later ones replay the recording (unless a run
  /// copied keys or constants past the device budget: setDeviceBudget).
  void execute(const ckks::EvalKeys &keys, const OpObserver &observer = {});
  /// The same with keys from `keys` (e.g. StreamedKeys). A device's copies
  /// belong to the source object: a new set of keys needs a new source
  /// object (not one made again at the same address).
  void execute(KeySource &keys, const OpObserver &observer = {});
  /// Where the values of constants kept outside the program (#rns.stored)
  /// come from; without a source a run refuses them. Set before running.
  void setPlaintexts(PlaintextSource *source);
  std::vector<ckks::Ciphertext> outputs();

  /// How a device backend keeps the program's plaintext constants after
  /// their first use (a host backend encodes each at its use from the
  /// artifact's compact values): Whole, as encoded limbs, copied into place
  /// at each use (most memory, least work); Compact, as the integer
  /// coefficients of one period of their slots (8 bytes x 2 x period),
  /// made into limbs at each use on the device (a spread and the limbs'
  /// NTTs); Auto, whole while the kept constants (both forms) take at most
  /// `wholeBudget` bytes, then compact. Set before the first run; the
  /// default is Whole.
  enum class DeviceConstants { Auto, Whole, Compact };
  void setDeviceConstants(DeviceConstants form, size_t wholeBudget = SIZE_MAX);
  /// What the kept constants take on the device, by form.
  struct ConstantBytes {
    size_t whole = 0, compact = 0;
    int wholeCount = 0, compactCount = 0;
    /// Uses of constants past the device budget (setDeviceBudget), each
    /// copied from the host.
    int stagedCount = 0;
  };
  ConstantBytes deviceConstantBytes() const;
  /// What a device backend may keep besides the arena: keys first (in
  /// order of first use; constants never take the room this process's keys
  /// need, nor, when not all keys fit, the room of the staging copy of the
  /// largest), then constants while they fit; a key or constant past it is
  /// copied from the host at each use (the run is then not recorded).
  /// Unbounded by default.
  void setDeviceBudget(size_t bytes);

private:
  class Impl;
  std::unique_ptr<Impl> impl;
};

/// Whether the CPU executor of one process may keep the constant an
/// rns.encode makes (`encoded`) compact, as its size-2q transforms read
/// in place by the kernel that is its one use (elementwiseRepeated); the
/// constant's period decides at the run (a full-period one is spread).
bool constantMayStayCompact(mlir::Value encoded);

/// The limb copies an rns.concat (`concat`) makes, as the executor runs
/// them and --estimate prices them: for each operand, runs (operand limb,
/// result limb, count) by the limb's place in each one's storage. A whole
/// value stores every limb; one held owned-only (`heldOwned`) stores only
/// this process's, the runs `ownedRuns` gives for its type ((first limb,
/// count) in order). Copies that would write a run onto itself (an operand
/// computed in place) are the caller's to skip.
void forEachConcatCopy(
    mlir::Operation *concat, llvm::function_ref<bool(mlir::Value)> heldOwned,
    llvm::function_ref<llvm::ArrayRef<std::pair<size_t, size_t>>(mlir::Type)>
        ownedRuns,
    llvm::function_ref<void(mlir::Value operand, size_t from, size_t to,
                            size_t count)>
        copy);

/// The number of processes a schedule was partitioned for (1 if none).
int64_t scheduleRanks(mlir::func::FuncOp main);

/// Whether process `rank` runs `op` (rns-partition's `rns.on`: an op placed
/// on one process runs there only; a limb-wise or unplaced one on every
/// process).
bool runsOn(mlir::Operation *op, int rank);

/// What process `rank` of a partitioned schedule needs of each evaluation
/// key (whole, its primes' limbs, or nothing): what it loads.
ckks::KeySelection keySelection(mlir::func::FuncOp main, int rank);

/// How many times over the schedule's key switches read a key's uniform
/// limbs, at least, for it to be held whole where keys are otherwise held
/// compact (KeySelection::keepWhole): made at every use, its limbs would be
/// remade that often, while held whole they cost one more read each.
inline constexpr double kReusedKeyFactor = 3;

/// The keys the schedule's key switches read, in all, at least
/// kReusedKeyFactor times over (digit limbs summed over their uses against
/// the largest use, which reads the whole key): a bootstrap's
/// relinearization key (~20 times: EvalMod's products), not its rotation
/// keys (~1.5: one CoeffToSlot and one SlotToCoeff use each).
std::set<ckks::KeyName> reusedKeys(mlir::func::FuncOp main);

/// Binds the encodes of run-time plaintexts (rns.encode's `input`) to their
/// values: `inputs[k]` holds main's argument k's values, row-major (null
/// for a cipher argument). A ScheduleExecutor refuses a schedule with an
/// encode left unbound.
void bindPlainInputs(mlir::func::FuncOp main,
                     const std::vector<const std::vector<double> *> &inputs);

/// Runs a planned rns program once (a ScheduleExecutor made for the call).
std::vector<ckks::Ciphertext>
runSchedule(mlir::func::FuncOp main, ckks::ParamsPtr params,
            kernels::RnsBackend &backend, const ckks::EvalKeys &keys,
            std::vector<ckks::Ciphertext> inputs,
            const OpObserver &observer = {},
            Communicator *communicator = nullptr,
            PlaintextSource *plaintexts = nullptr);

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_SCHEDULE_H
