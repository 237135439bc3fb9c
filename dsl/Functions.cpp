//===- Functions.cpp - The meaning of the language's functions ------------===//

#include "cerium/DSL/Functions.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace cerium::dsl {

static constexpr std::array<std::string_view, 13> kNonlinear = {
    "relu", "gelu", "silu",     "sigmoid", "tanh", "exp", "log",
    "inv",  "sqrt", "inv_sqrt", "square",  "sign", "abs"};

bool isNonlinearFunction(std::string_view name) {
  return std::find(kNonlinear.begin(), kNonlinear.end(), name) !=
         kNonlinear.end();
}

double evaluateNonlinear(std::string_view fn, double x) {
  if (fn == "relu")
    return std::max(0.0, x);
  if (fn == "gelu")
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (fn == "silu")
    return x / (1 + std::exp(-x));
  if (fn == "sigmoid")
    return 1 / (1 + std::exp(-x));
  if (fn == "tanh")
    return std::tanh(x);
  if (fn == "exp")
    return std::exp(x);
  if (fn == "log")
    return std::log(x);
  if (fn == "inv")
    return 1 / x;
  if (fn == "sqrt")
    return std::sqrt(x);
  if (fn == "inv_sqrt")
    return 1 / std::sqrt(x);
  if (fn == "square")
    return x * x;
  if (fn == "abs")
    return std::fabs(x);
  return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); // sign
}

double evaluatePolynomial(std::span<const double> c, bool chebyshev, double lo,
                          double hi, double x) {
  if (!chebyshev) {
    double y = 0;
    for (size_t i = c.size(); i-- > 0;)
      y = y * x + c[i];
    return y;
  }
  double t = (2 * x - (lo + hi)) / (hi - lo), t0 = 1, t1 = t;
  double y = c[0];
  for (size_t k = 1; k < c.size(); ++k) {
    if (k >= 2) {
      double t2 = 2 * t * t1 - t0;
      t0 = t1;
      t1 = t2;
    }
    y += c[k] * t1;
  }
  return y;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

} // namespace cerium::dsl
