//===- CkksInterpreter.h - Executing ckks programs --------------*- C++ -*-===//
//
// Runs a lowered func @main (ckks dialect) on ciphertexts, one Evaluator call
// per op, on any RnsBackend. This is the stage before the rns-level
// schedules of the architecture: it already gives every program the
// compiler lowers an executable meaning, so the lowering is tested by
// decrypting real results. The schedule executor replaces it op by op.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_CKKSINTERPRETER_H
#define CERIUM_RUNTIME_CKKSINTERPRETER_H

#include "cerium/CKKS/Ciphertext.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <vector>

namespace cerium::runtime {

/// The evaluation keys a program needs (what keygen must produce).
struct KeyRequirements {
  bool relinearization = false;
  std::vector<uint32_t> galoisElements; // sorted, unique
};

KeyRequirements requiredKeys(mlir::func::FuncOp main,
                             const ckks::Params &params);

/// Called after each op: ops done, ops in all, the op, its time in ms.
using OpObserver = std::function<void(
    size_t done, size_t total, mlir::Operation *op, double milliseconds)>;

/// Inputs are fresh ciphertexts at the top level, in main's argument order.
std::vector<ckks::Ciphertext>
runCkks(mlir::func::FuncOp main, ckks::ParamsPtr params,
        kernels::RnsBackend &backend, const ckks::EvalKeys &keys,
        std::vector<ckks::Ciphertext> inputs, const OpObserver &observer = {});

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_CKKSINTERPRETER_H
