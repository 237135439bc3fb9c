//===- SeriesPlan.cpp - Polynomial evaluation in few levels --------------===//

#include "cerium/Approx/SeriesPlan.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <optional>
#include <set>

namespace cerium::approx {

std::pair<size_t, size_t> basisSplit(size_t j) {
  size_t a = std::bit_floor(j);
  if (a == j)
    a = j / 2;
  return {a, j - a};
}

unsigned basisDepth(size_t j) {
  return j <= 1 ? 0 : unsigned(std::bit_width(j - 1));
}

namespace {

void trimZeros(std::vector<double> &c) {
  while (c.size() > 1 && c.back() == 0)
    c.pop_back();
}

/// One plan with leaves over B_1..B_(k-1).
class Planner {
public:
  Planner(bool chebyshev, size_t k) : k(k) { plan.chebyshev = chebyshev; }

  /// `coeffs` without trailing zeros.
  SeriesPlan run(std::vector<double> coeffs) {
    const size_t degree = coeffs.size() - 1;
    const unsigned budget = std::max(1u, unsigned(std::bit_width(degree)));
    size_t root = part(std::move(coeffs), budget);
    assert(root == 0 && plan.nodes[0].depth <= budget);
    (void)root;
    plan.depth = std::max(1u, plan.nodes[0].depth);
    plan.products += unsigned(basis.size());
    return std::move(plan);
  }

private:
  /// Marks B_j and everything the product tree reads to make it.
  void use(size_t j) {
    if (j < 2 || !basis.insert(j).second)
      return;
    auto [a, c] = basisSplit(j);
    use(a);
    use(c);
    if (plan.chebyshev && a != c)
      use(a - c);
  }

  static unsigned leafDepth(const std::vector<double> &c) {
    unsigned depth = 0;
    for (size_t i = 1; i < c.size(); ++i)
      if (c[i] != 0)
        depth = std::max(depth, basisDepth(i) + 1);
    return depth;
  }

  /// The node of Σ c_j B_j whose value lies at most `budget` levels below
  /// t. Indices, not references: the recursion grows `plan.nodes`.
  size_t part(std::vector<double> c, unsigned budget) {
    trimZeros(c);
    const size_t degree = c.size() - 1;
    const size_t index = plan.nodes.size();
    plan.nodes.emplace_back();
    if (const unsigned depth = leafDepth(c); degree < k && depth <= budget) {
      for (size_t i = 1; i < c.size(); ++i)
        if (c[i] != 0)
          use(i);
      plan.nodes[index].depth = depth;
      plan.nodes[index].coeffs = std::move(c);
      return index;
    }
    // p = q B_M + r. Chebyshev: T_j = 2 T_M T_(j-M) - T_(2M-j) for j > M.
    const size_t m = std::bit_floor(degree);
    std::vector<double> q(degree - m + 1, 0.0), r(c.begin(), c.begin() + m);
    q[0] = c[m];
    for (size_t j = m + 1; j <= degree; ++j) {
      if (plan.chebyshev) {
        q[j - m] += 2 * c[j];
        r[2 * m - j] -= c[j];
      } else {
        q[j - m] = c[j];
      }
    }
    assert(budget >= 1);
    size_t qi = part(std::move(q), budget - 1);
    size_t ri = part(std::move(r), budget);
    use(m);
    // q has a value (a ciphertext product with B_M) or is a nonzero
    // constant (a constant product): either way one level below both.
    if (plan.nodes[qi].depth > 0)
      ++plan.products;
    SeriesNode &node = plan.nodes[index];
    node.split = m;
    node.q = qi;
    node.r = ri;
    node.depth = std::max(std::max(plan.nodes[qi].depth, basisDepth(m)) + 1,
                          plan.nodes[ri].depth);
    return index;
  }

  const size_t k;
  SeriesPlan plan;
  std::set<size_t> basis;
};

} // namespace

SeriesPlan planSeries(const std::vector<double> &coeffs, bool chebyshev) {
  std::vector<double> c = coeffs.empty() ? std::vector<double>{0.0} : coeffs;
  trimZeros(c);
  const size_t degree = c.size() - 1;
  std::optional<SeriesPlan> best;
  for (size_t k = 2; k / 2 <= std::max<size_t>(degree, 1); k *= 2) {
    SeriesPlan p = Planner(chebyshev, k).run(c);
    if (!best || p.depth < best->depth ||
        (p.depth == best->depth && p.products < best->products))
      best = std::move(p);
  }
  return std::move(*best);
}

} // namespace cerium::approx
