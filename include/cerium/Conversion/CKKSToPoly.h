//===- CKKSToPoly.h - Ciphertexts to ring operations ------------*- C++ -*-===//
//
// Lowers every function from the ckks dialect to the poly dialect: a
// ciphertext of size s becomes s polynomials over Q_level (NTT domain);
// multiplication becomes the tensor product; relinearization, rotation and
// conjugation become hybrid key switching (one inverse NTT, ModUp of each
// digit, the key inner product, ModDown; automorphisms permute the raised
// digits, so rotations of one ciphertext share their ModUp after CSE);
// rescale divides by the level's
// primes; level_down drops primes, multiplies by an integer and rescales;
// constants become integers (mul_const) or encodings. Reads the prime
// layout from the module (cerium/Dialect/Poly/IR/RnsLayout.h) and records
// each function's ciphertext signature as `ckks.signature`.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CONVERSION_CKKSTOPOLY_H
#define CERIUM_CONVERSION_CKKSTOPOLY_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cerium {

std::unique_ptr<mlir::Pass> createCkksToPolyPass();
void registerCkksToPolyPass();

} // namespace cerium

#endif // CERIUM_CONVERSION_CKKSTOPOLY_H
