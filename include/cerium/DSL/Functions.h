//===- Functions.h - The meaning of the language's functions ----*- C++ -*-===//
//
// One definition of the nonlinear functions (exact, in float64) and of the
// explicit polynomials, used by the front end (range propagation), the fhe
// verifier (the set of names) and the reference evaluator (`--plain`).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DSL_FUNCTIONS_H
#define CERIUM_DSL_FUNCTIONS_H

#include <span>
#include <string>
#include <string_view>

namespace cerium::dsl {

/// relu gelu silu sigmoid tanh exp log inv sqrt inv_sqrt square sign.
bool isNonlinearFunction(std::string_view name);
/// The exact value of a nonlinear function (name must be one of them).
double evaluateNonlinear(std::string_view name, double x);
/// sum_k c_k x^k (power) or sum_k c_k T_k(t), t = (2x - lo - hi)/(hi - lo)
/// (chebyshev on [lo, hi]).
double evaluatePolynomial(std::span<const double> coeffs, bool chebyshev,
                          double lo, double hi, double x);

/// Levenshtein distance (for "did you mean" suggestions).
size_t editDistance(std::string_view a, std::string_view b);

} // namespace cerium::dsl

#endif // CERIUM_DSL_FUNCTIONS_H
