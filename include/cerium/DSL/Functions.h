//===- Functions.h - The meaning of the language's functions ----*- C++ -*-===//
//
// One definition of the nonlinear functions (exact, in float64) and of the
// explicit polynomials, used by the front end (range propagation), the fhe
// verifier (the set of names) and the reference evaluator (`--plain`).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DSL_FUNCTIONS_H
#define CERIUM_DSL_FUNCTIONS_H

#include <algorithm>
#include <cmath>
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

/// f sampled at `samples` + 1 evenly spaced points of [lo, hi]: its
/// smallest and largest value and the largest difference quotient between
/// neighbouring points (ranges for the front end, ranges and Lipschitz
/// estimates for the error budgets of approximations).
struct SampledFunction {
  double lo, hi, slope;
};
template <class F>
SampledFunction sampleFunction(F f, double lo, double hi, int samples) {
  const double step = (hi - lo) / samples;
  SampledFunction s{INFINITY, -INFINITY, 0};
  double prev = 0;
  for (int k = 0; k <= samples; ++k) {
    const double y = f(lo + (hi - lo) * k / double(samples));
    s.lo = std::min(s.lo, y);
    s.hi = std::max(s.hi, y);
    if (k > 0)
      s.slope = std::max(s.slope, std::fabs(y - prev) / step);
    prev = y;
  }
  return s;
}

/// Levenshtein distance (for "did you mean" suggestions).
size_t editDistance(std::string_view a, std::string_view b);

} // namespace cerium::dsl

#endif // CERIUM_DSL_FUNCTIONS_H
