//===- SeriesPlan.h - Polynomial evaluation in few levels ------*- C++ -*-===//
//
// The evaluation order of a polynomial Σ c_j B_j(t), B_j = t^j (power basis)
// or T_j(t) (Chebyshev), on ciphertexts: which basis elements are computed,
// where the polynomial is split around a power of two, and which parts are
// leaves (Σ c_i B_i: one constant product per term and one rescale).
//
// A constant product costs a level, so a leaf over B_1..B_(k-1) sits one
// level below its deepest term. The plan meets the least depth a product
// tree allows, ceil(log2(d + 1)) levels for degree d, by giving every part a
// depth budget: p = q B_M + r (M the largest power of two <= deg p) takes q
// one level shallower than p, and a part evaluated as a leaf would break its
// budget is split further, down to single terms if needed. Among leaf sizes
// k (powers of two) it takes the one with the fewest ciphertext products.
// The ckks emitter walks this plan, and the approximations' cost model
// reads its depth and products, so both count the same circuit.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_APPROX_SERIESPLAN_H
#define CERIUM_APPROX_SERIESPLAN_H

#include <cstddef>
#include <utility>
#include <vector>

namespace cerium::approx {

/// The product tree: B_j (j >= 2) is made from B_a and B_c, a + c = j, a the
/// largest power of two below j (j / 2 for a power of two), at depth
/// ceil(log2 j); a Chebyshev T_j also reads T_(a-c) when a != c
/// (T_(a+c) = 2 T_a T_c - T_(a-c)).
std::pair<size_t, size_t> basisSplit(size_t j);
unsigned basisDepth(size_t j);

struct SeriesNode {
  /// 0: a leaf, Σ coeffs[i] B_i; else the node is q B_split + r.
  size_t split = 0;
  /// A leaf's coefficients (trailing zeros trimmed; coeffs[0] is added as a
  /// constant, so a leaf of one coefficient is a constant and has no value).
  std::vector<double> coeffs;
  /// A split's parts, indices into SeriesPlan::nodes.
  size_t q = 0, r = 0;
  /// Levels its value lies below t; 0 for a constant.
  unsigned depth = 0;
};

struct SeriesPlan {
  bool chebyshev = true;
  /// nodes[0] is the whole polynomial.
  std::vector<SeriesNode> nodes;
  /// Levels from t to the result (at least 1: a constant polynomial is
  /// emitted as t * 0 + c_0), and ciphertext products, those of the basis
  /// elements included.
  unsigned depth = 0, products = 0;
};

/// The plan of least depth for Σ coeffs[j] B_j, then fewest products.
SeriesPlan planSeries(const std::vector<double> &coeffs, bool chebyshev);

} // namespace cerium::approx

#endif // CERIUM_APPROX_SERIESPLAN_H
