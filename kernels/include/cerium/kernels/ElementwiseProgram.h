//===- ElementwiseProgram.h - Fused elementwise limb kernels ----*- C++ -*-===//
//
// The executable form of an `rns.kernel`: a straight-line program over
// registers holding one residue each. Registers 0 .. numInputs-1 are the
// operands; instruction k writes register numInputs + k. Both backends run
// the same program (the CPU over blocks of a limb, CUDA per element), and
// `cerium-cc --emit cuda` prints it as a CUDA kernel, so a fused kernel has
// one definition.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_ELEMENTWISEPROGRAM_H
#define CERIUM_KERNELS_ELEMENTWISEPROGRAM_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cerium::kernels {

struct ElementwiseProgram {
  enum class Opcode : uint8_t { Add, Sub, Mul, Negate, MulConstant };
  struct Instruction {
    Opcode op;
    /// Operand registers; for MulConstant, rhs is the constant's index.
    uint16_t lhs = 0, rhs = 0;
  };

  uint16_t numInputs = 0;
  std::vector<Instruction> code;
  /// The registers the kernel writes out, in result order.
  std::vector<uint16_t> outputs;
  /// Per-limb constants: constants[c * numLimbs + i] is constant c reduced
  /// modulo limb i's prime, constantsShoup its Shoup quotient.
  size_t numLimbs = 0;
  std::vector<uint32_t> constants, constantsShoup;

  /// The generated kernel compiled for this program (the executor takes it
  /// from the op's `rns.kernel_name`); empty if none. The CUDA backend
  /// launches it when its generated kernels are loaded, and interprets the
  /// program otherwise.
  std::string kernelName;

  size_t numRegisters() const { return numInputs + code.size(); }
  /// Throws std::invalid_argument unless `numOutputs` outputs and
  /// `numInputs` inputs of `limbs` limbs each fit this program.
  void checkOperands(size_t numOutputs, size_t numInputs, size_t limbs) const;
  /// The CUDA C++ source of this program as a kernel named `name` (one
  /// thread per residue; element arithmetic from ModArith.h). Arguments:
  /// output and input pointer arrays, the Modulus of each limb, the
  /// constants as (value, Shoup quotient) pairs, the limb count, log2 N and
  /// the number of residues.
  std::string cudaSource(const std::string &name) const;
};

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_ELEMENTWISEPROGRAM_H
