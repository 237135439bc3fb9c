//===- Approximation.h - Polynomials for nonlinear functions ----*- C++ -*-===//
//
// Chooses how a nonlinear function is evaluated on encrypted data: as a
// program of Chebyshev series, ciphertext products and affine combinations
// over the reals, whose error on a range is measured, not assumed, and whose
// cost (levels, products) follows the compiler's evaluator:
//
//   Chebyshev series of degree d on [lo, hi]: 1 level for the map onto
//     [-1, 1] unless [lo, hi] = [-1, 1], plus ceil(log2(d + 1)); the
//     products of its plan (SeriesPlan.h, about 2 sqrt(d) + log2(d)).
//   Product: max of the operands' levels + 1; one product.
//   Affine ca a + cb b + c0: + 1 level if ca or cb is not in {0, 1, -1}.
//
// Smooth functions are Chebyshev interpolants (inv, inv_sqrt, sqrt may add
// Newton iterations); sign, relu and abs are composite minimax polynomials
// with a dead zone around 0.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_APPROX_APPROXIMATION_H
#define CERIUM_APPROX_APPROXIMATION_H

#include <cmath>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cerium::approx {

/// One step of an approximation program over reals: value 0 is the input x,
/// then each step adds one value computed from earlier ones.
struct Step {
  enum class Kind { Chebyshev, Product, Affine };
  Kind kind = Kind::Affine;
  /// Operand value indices (earlier values).
  unsigned a = 0, b = 0;
  /// Chebyshev: sum_k coeffs[k] T_k(t), t = (2 v[a] - lo - hi) / (hi - lo).
  std::vector<double> coeffs;
  double lo = -1, hi = 1;
  /// Affine: ca v[a] + cb v[b] + c0; an operand with a zero coefficient is
  /// not read.
  double ca = 0, cb = 0, c0 = 0;
};

/// A nonzero integer factor of an Affine step, which the evaluator applies
/// exactly at no level (ckks.mul_int) instead of as a rounded constant.
inline bool isIntegerFactor(double c) {
  return c != 0 && c == std::rint(c) && std::fabs(c) <= 1 << 20;
}

struct Approximation {
  /// What is approximated, and where.
  std::string function;
  double lo = 0, hi = 0;
  /// How, in words ("Chebyshev", "composite sign", ...), for describe().
  std::string method;
  /// The result is the last step's value.
  std::vector<Step> steps;
  /// max |approx - f| on [lo, hi] for |x| >= deadZone, from dense sampling
  /// times 1.05 (and never below the construction's own bound).
  double errorBound = 0;
  /// Half-width of the interval around 0 where errorBound does not hold; 0
  /// for all but sign, relu and abs.
  double deadZone = 0;
  /// max |approx - f| for |x| < deadZone: relu deadZone / 2, abs deadZone,
  /// sign 1 (the approximation keeps the sign of x and stays within
  /// [-1 - errorBound, 1 + errorBound]); raised if sampling finds more.
  double deadZoneError = 0;
  /// Levels and ciphertext products, by the model above.
  unsigned depth = 0;
  unsigned products = 0;
  /// Degrees of the Chebyshev steps, in order.
  std::vector<unsigned> degrees;

  /// One line, e.g. "relu on [-16, 16]: composite sign degrees 15, 15, 27,
  /// depth 19, 40 products, error <= 9.8e-04 outside |x| < 2.4e-04
  /// (<= 1.2e-04 inside)".
  std::string describe() const;
};

/// The float64 value of the approximation's program at x.
double evaluate(const Approximation &approx, double x);

/// An approximation of `function` (a DSL nonlinear function; max and min
/// lower to abs) on [lo, hi] with errorBound <= precision, of minimal
/// depth, then minimal products. For relu and abs the dead zone is chosen so
/// that the error is <= precision inside it too, unless that needs more than
/// 24 levels: then the dead zone grows until 24 suffice. Deterministic: the
/// same arguments give bit-identical steps. Returns a one-sentence message
/// when there is none: unknown function, a range where the function is
/// undefined or infinite, or a precision out of reach within the limits.
std::variant<Approximation, std::string>
approximate(std::string_view function, double lo, double hi, double precision);

} // namespace cerium::approx

#endif // CERIUM_APPROX_APPROXIMATION_H
