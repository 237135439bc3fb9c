//===- PolyToRNS.h - Ring operations to limb kernels ------------*- C++ -*-===//
//
// Lowers every function from the poly dialect to the rns dialect: each
// polynomial becomes a limb array over explicit prime ids; ring arithmetic
// becomes limb-wise arithmetic; ModUp, ModDown and rescale become their
// limb-level steps, with an (inverse) NTT only where a step changes domain:
//
//   mod_up digit j:  slice coefficients of digit j -> base_convert to the
//                    primes before it and to those after it -> ntt ->
//                    concat with the digit's own NTT limbs (the planner
//                    places both converted sides inside the result)
//   mod_down / rescale (divide by the primes D = P, or the top level's):
//                    intt of the D limbs -> base_convert to the kept primes
//                    -> ntt -> (x_kept - that) * D^-1
//
// A double rescale (two primes per level) is one conversion from both
// primes at once: one inverse NTT and one NTT per kept limb, not two.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_CONVERSION_POLYTORNS_H
#define CERIUM_CONVERSION_POLYTORNS_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cerium {

std::unique_ptr<mlir::Pass> createPolyToRnsPass();
void registerPolyToRnsPass();

} // namespace cerium

#endif // CERIUM_CONVERSION_POLYTORNS_H
