//===- SeriesPlanTest.cpp - Polynomial evaluation plans against float64 ---===//
//
// A plan is the circuit the ckks emitter builds: its splits must compute the
// same polynomial (checked in float64 against the direct sum at fresh random
// points), at the least depth a product tree allows, ceil(log2(d + 1)), with
// each node's depth following from its parts.
//
//===----------------------------------------------------------------------===//

#include "cerium/Approx/SeriesPlan.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>

namespace {

using cerium::approx::basisDepth;
using cerium::approx::planSeries;
using cerium::approx::SeriesNode;
using cerium::approx::SeriesPlan;

double basis(bool chebyshev, size_t j, double t) {
  return chebyshev ? std::cos(double(j) * std::acos(t))
                   : std::pow(t, double(j));
}

double direct(const std::vector<double> &c, bool chebyshev, double t) {
  double sum = 0;
  for (size_t j = 0; j < c.size(); ++j)
    sum += c[j] * basis(chebyshev, j, t);
  return sum;
}

/// The plan's value at t, and a check of each node's depth.
double evaluate(const SeriesPlan &plan, size_t index, double t) {
  const SeriesNode &node = plan.nodes[index];
  if (!node.split) {
    unsigned depth = 0;
    double sum = node.coeffs.empty() ? 0 : node.coeffs[0];
    for (size_t i = 1; i < node.coeffs.size(); ++i)
      if (node.coeffs[i] != 0) {
        sum += node.coeffs[i] * basis(plan.chebyshev, i, t);
        depth = std::max(depth, basisDepth(i) + 1);
      }
    EXPECT_EQ(node.depth, depth);
    return sum;
  }
  const SeriesNode &q = plan.nodes[node.q], &r = plan.nodes[node.r];
  EXPECT_EQ(node.depth,
            std::max(std::max(q.depth, basisDepth(node.split)) + 1, r.depth));
  return evaluate(plan, node.q, t) * basis(plan.chebyshev, node.split, t) +
         evaluate(plan, node.r, t);
}

std::mt19937_64 seededRng() {
  const char *env = std::getenv("CERIUM_SERIES_SEED");
  uint64_t seed =
      env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::cout << "coefficients and points seeded with " << seed
            << " (rerun with CERIUM_SERIES_SEED=" << seed << ")\n";
  return std::mt19937_64(seed);
}

void checkDegrees(bool chebyshev, bool odd) {
  std::mt19937_64 rng = seededRng();
  std::uniform_real_distribution<double> coefficient(-1, 1), point(-1, 1);
  for (size_t d = 0; d <= 130; ++d) {
    std::vector<double> c(d + 1, 0.0);
    for (size_t j = 0; j <= d; ++j)
      if (!odd || j % 2 == 1)
        c[j] = coefficient(rng);
    if (odd && d % 2 == 0)
      continue;
    SeriesPlan plan = planSeries(c, chebyshev);
    EXPECT_EQ(plan.depth, std::max(1u, unsigned(std::bit_width(d))))
        << "degree " << d;
    // About 2 sqrt(d) + log2(d) products, never more.
    if (d >= 2) {
      EXPECT_LE(plan.products,
                std::lround(2 * std::sqrt(double(d)) + std::log2(double(d))))
          << "degree " << d;
    }
    // Power-basis sums of random coefficients grow with the degree; a
    // Chebyshev sum is at most the sum of |c_j|.
    double scale = 0;
    for (double v : c)
      scale += std::fabs(v);
    for (int i = 0; i < 20; ++i) {
      double t = point(rng);
      EXPECT_NEAR(evaluate(plan, 0, t), direct(c, chebyshev, t),
                  1e-12 * std::max(1.0, scale))
          << "degree " << d << " at t = " << t;
    }
  }
}

TEST(SeriesPlan, ChebyshevMatchesTheDirectSum) { checkDegrees(true, false); }
TEST(SeriesPlan, OddChebyshevMatchesTheDirectSum) { checkDegrees(true, true); }
TEST(SeriesPlan, PowerMatchesTheDirectSum) { checkDegrees(false, false); }

TEST(SeriesPlan, ConstantsAndTrailingZeros) {
  // A constant polynomial still takes a level (x * 0 + c), and trailing
  // zeros do not count towards the degree.
  EXPECT_EQ(planSeries({0.5}, true).depth, 1u);
  EXPECT_EQ(planSeries({}, false).depth, 1u);
  SeriesPlan p = planSeries({0.1, 0.2, 0.3, 0.0, 0.0, 0.0}, true);
  EXPECT_EQ(p.depth, 2u);
  EXPECT_EQ(p.products, 1u);
}

} // namespace
