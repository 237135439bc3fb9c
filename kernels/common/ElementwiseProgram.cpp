//===- ElementwiseProgram.cpp - CUDA source of fused kernels --------------===//

#include "cerium/kernels/ElementwiseProgram.h"

#include <sstream>
#include <stdexcept>

namespace cerium::kernels {

void ElementwiseProgram::checkOperands(size_t numOutputs, size_t inputs,
                                       size_t limbs) const {
  if (inputs != numInputs || numOutputs != outputs.size() || numOutputs == 0)
    throw std::invalid_argument("elementwise: operand count mismatch");
  if (limbs != numLimbs)
    throw std::invalid_argument("elementwise: constants for another basis");
}

std::string ElementwiseProgram::cudaSource(const std::string &name) const {
  std::ostringstream os;
  os << "// Fused elementwise kernel: " << numInputs << " inputs, "
     << outputs.size() << " outputs, " << code.size() << " operations.\n"
     << "// constants[2 (c limbs + i)] = (constant c mod p_i, its Shoup "
        "quotient).\n"
     << "extern \"C\" __global__ void " << name
     << "(uint32_t *const *outputs, const uint32_t *const *inputs,\n"
     << "    const cerium::modarith::Modulus *moduli, const uint32_t "
        "*constants,\n"
     << "    unsigned limbs, unsigned logN, unsigned long long words) {\n"
     << "  using namespace cerium::modarith;\n"
     << "  using u64 = unsigned long long;\n"
     << "  for (u64 idx = blockIdx.x * u64(blockDim.x) + threadIdx.x;\n"
     << "       idx < words; idx += u64(gridDim.x) * blockDim.x) {\n"
     << "    const u64 limb = idx >> logN;\n"
     << "    const Modulus m = moduli[limb];\n"
     << "    const uint32_t p = m.value;\n"
     << "    (void)p;\n";
  for (unsigned r = 0; r < numInputs; ++r)
    os << "    const uint32_t r" << r << " = inputs[" << r << "][idx];\n";
  for (size_t k = 0; k < code.size(); ++k) {
    const Instruction &ins = code[k];
    os << "    const uint32_t r" << numInputs + k << " = ";
    switch (ins.op) {
    case Opcode::Add:
      os << "add(r" << ins.lhs << ", r" << ins.rhs << ", p)";
      break;
    case Opcode::Sub:
      os << "sub(r" << ins.lhs << ", r" << ins.rhs << ", p)";
      break;
    case Opcode::Mul:
      os << "mul(r" << ins.lhs << ", r" << ins.rhs << ", m)";
      break;
    case Opcode::Negate:
      os << "negate(r" << ins.lhs << ", p)";
      break;
    case Opcode::MulConstant:
      os << "mulShoup(r" << ins.lhs << ", constants[2 * (" << ins.rhs
         << " * u64(limbs) + limb)], constants[2 * (" << ins.rhs
         << " * u64(limbs) + limb) + 1], p)";
      break;
    }
    os << ";\n";
  }
  for (size_t o = 0; o < outputs.size(); ++o)
    os << "    outputs[" << o << "][idx] = r" << outputs[o] << ";\n";
  os << "  }\n}\n";
  return os.str();
}

} // namespace cerium::kernels
