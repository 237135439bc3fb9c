//===- Sema.h - From .fhe syntax to the fhe dialect -------------*- C++ -*-===//
//
// Semantic analysis evaluates everything known at compile time (constants,
// options, loops, if, function calls, which are inlined), checks names,
// arities, kinds and shapes, tracks value ranges for the nonlinear functions
// (`assume`, `range = [...]`, and interval arithmetic through the ops), and
// emits one func.func @main in the fhe dialect. Every error is a SourceError
// at the offending expression.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DSL_SEMA_H
#define CERIUM_DSL_SEMA_H

#include "cerium/DSL/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cerium::dsl {

/// The program's options after `option` items and command-line overrides.
struct ProgramOptions {
  int security = 128;      // 128, or 0 (only with --insecure)
  double precision = 1e-3; // target absolute error of the outputs
  int64_t ringDim = 0;     // 0: auto
  int64_t slots = 0;       // 0: auto
  /// Cap on the modulus chain's levels (0: what the ring allows); a deeper
  /// program gets bootstraps placed automatically.
  int64_t maxLevels = 0;
  /// Cap on distinct rotation keys (0: none); other rotations are composed
  /// of power-of-two ones.
  int64_t maxRotationKeys = 0;
  /// Cap on the evaluation keys' memory in MiB (0: none): the compiler
  /// turns it into a rotation-key cap once the parameters are known.
  int64_t maxKeyMemory = 0;
  /// Layouts chosen by estimated work (else the rule of thumb alone).
  bool layoutSearch = true;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;
  bool cipher = true;
  /// The range `assume` declares for one of main's inputs: the compiled
  /// approximations hold only there, so encryption refuses values outside.
  std::optional<std::pair<double, double>> range;
  /// Where a cipher tensor's elements sit in its ciphertext's slots: the
  /// row-major order of these padded extents (shapes::paddedPositions);
  /// empty when the tensor fills slots [0, n) in its own row-major order.
  /// Chosen by the fhe -> ckks lowering.
  std::vector<int64_t> layout;
};

struct FheProgram {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  ProgramOptions options;
  std::vector<TensorInfo> inputs;  // main's parameters, in order
  std::vector<TensorInfo> outputs; // main's results, in order
};

/// `overrides` are --opt KEY=VALUE pairs (they win over `option` items).
/// The MLIR context must have the fhe and func dialects loaded.
FheProgram buildFhe(const Program &program, mlir::MLIRContext &context,
                    const std::map<std::string, std::string> &overrides = {},
                    bool insecure = false);

} // namespace cerium::dsl

#endif // CERIUM_DSL_SEMA_H
