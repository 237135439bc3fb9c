//===- Approximation.cpp - Polynomials for nonlinear functions ------------===//
//
// Every candidate is a program of steps; its error is measured by running it
// on dense samples against the exact function, and its cost is read off its
// steps by the evaluator's depth model. The search only decides which
// candidates to measure, cheapest first.
//
//===----------------------------------------------------------------------===//

#include "cerium/Approx/Approximation.h"
#include "cerium/Approx/SeriesPlan.h"

#include "cerium/DSL/Functions.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numbers>
#include <numeric>
#include <optional>
#include <utility>

namespace cerium::approx {

namespace {

/// Sampled errors are reported times this, to cover peaks between samples
/// (with 8192 Chebyshev-distributed samples a degree-255 error peak is
/// missed by about 0.1%).
constexpr double kSafety = 1.05;
constexpr unsigned kMaxDepth = 30;
/// Composite approximations widen their dead zone rather than go deeper: a
/// program has about 20-25 levels between bootstraps.
constexpr unsigned kMaxCompositeDepth = 24;
/// Chebyshev degrees up to 2^kMaxLevel - 1.
constexpr unsigned kMaxLevel = 8;
constexpr unsigned kMaxNewton = 4;
/// Sign errors below this are not attempted: the minimax polynomials would be
/// determined by float64 noise.
constexpr double kMinSignError = 1e-12;
/// Odd degrees of the composite stages, one per depth (the largest degree of
/// each depth; smaller ones are tried afterwards to save products).
constexpr std::array<unsigned, 5> kStageDegrees = {3, 7, 15, 31, 63};
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = std::numbers::pi;

std::string format(const char *spec, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string rangeText(std::string_view fn, double lo, double hi) {
  return std::string(fn) + " on [" + format("%g", lo) + ", " +
         format("%g", hi) + "]";
}

//===----------------------------------------------------------------------===//
// Programs: building, cost, evaluation
//===----------------------------------------------------------------------===//

Step series(unsigned a, std::vector<double> coeffs, double lo, double hi) {
  Step s;
  s.kind = Step::Kind::Chebyshev;
  s.a = a;
  s.coeffs = std::move(coeffs);
  s.lo = lo;
  s.hi = hi;
  return s;
}

Step product(unsigned a, unsigned b) {
  Step s;
  s.kind = Step::Kind::Product;
  s.a = a;
  s.b = b;
  return s;
}

Step affine(unsigned a, double ca, unsigned b, double cb, double c0) {
  Step s;
  s.kind = Step::Kind::Affine;
  s.a = a;
  s.b = b;
  s.ca = ca;
  s.cb = cb;
  s.c0 = c0;
  return s;
}

struct Cost {
  unsigned depth = 0, products = 0;
  std::vector<unsigned> degrees;
};

bool cheaper(const Cost &x, const Cost &y) {
  return x.depth != y.depth ? x.depth < y.depth : x.products < y.products;
}

/// Levels of a series: the map onto [-1, 1] (none for [-1, 1] or a
/// constant series, which reads no t), then the plan's (SeriesPlan.h:
/// ceil(log2(degree + 1))).
unsigned seriesDepth(const SeriesPlan &plan, double lo, double hi) {
  const bool constant = plan.nodes[0].depth == 0;
  return (lo == -1 && hi == 1) || constant ? plan.depth : 1 + plan.depth;
}

bool isFreeFactor(double c) { return c == 0 || isIntegerFactor(c); }

Cost costOf(const std::vector<Step> &steps) {
  Cost cost;
  std::vector<unsigned> level{0};
  for (const Step &s : steps) {
    unsigned l = 0;
    switch (s.kind) {
    case Step::Kind::Chebyshev: {
      SeriesPlan plan = planSeries(s.coeffs, true);
      l = level[s.a] + seriesDepth(plan, s.lo, s.hi);
      cost.products += plan.products;
      cost.degrees.push_back(unsigned(s.coeffs.size() - 1));
      break;
    }
    case Step::Kind::Product:
      l = std::max(level[s.a], level[s.b]) + 1;
      ++cost.products;
      break;
    case Step::Kind::Affine:
      l = std::max(s.ca != 0 ? level[s.a] : 0, s.cb != 0 ? level[s.b] : 0) +
          (isFreeFactor(s.ca) && isFreeFactor(s.cb) ? 0 : 1);
      break;
    }
    level.push_back(l);
  }
  cost.depth = level.back();
  return cost;
}

/// Runs the steps at x, with `values` as scratch space (sampling runs a
/// program tens of thousands of times).
double run(const std::vector<Step> &steps, double x,
           std::vector<double> &values) {
  values.resize(steps.size() + 1);
  values[0] = x;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step &s = steps[i];
    double r = 0;
    switch (s.kind) {
    case Step::Kind::Chebyshev:
      r = dsl::evaluatePolynomial(s.coeffs, true, s.lo, s.hi, values[s.a]);
      break;
    case Step::Kind::Product:
      r = values[s.a] * values[s.b];
      break;
    case Step::Kind::Affine:
      r = (s.ca != 0 ? s.ca * values[s.a] : 0) +
          (s.cb != 0 ? s.cb * values[s.b] : 0) + s.c0;
      break;
    }
    values[i + 1] = r;
  }
  return values.back();
}

//===----------------------------------------------------------------------===//
// Measured error
//===----------------------------------------------------------------------===//

/// Points and exact values, in a strided order: errors of a candidate that
/// fails are spread over the range, so it usually fails within a few points.
struct Samples {
  std::vector<double> x, y;
};

/// Uniform points, Chebyshev-distributed ones (interpolation errors peak near
/// the ends) and the ends themselves.
std::vector<double> densePoints(double lo, double hi) {
  constexpr unsigned kUniform = 20000, kChebyshev = 8192;
  std::vector<double> pts{lo, hi};
  for (unsigned i = 1; i < kUniform; ++i)
    pts.push_back(lo + (hi - lo) * i / kUniform);
  double mid = (lo + hi) / 2, half = (hi - lo) / 2;
  for (unsigned j = 0; j < kChebyshev; ++j)
    pts.push_back(mid + half * std::cos(kPi * (j + 0.5) / kChebyshev));
  return pts;
}

Samples samplesOf(std::string_view fn, const std::vector<double> &pts) {
  size_t n = pts.size(), stride = 7919;
  while (std::gcd(stride, n) != 1)
    ++stride;
  Samples s;
  for (size_t i = 0; i < n; ++i) {
    double x = pts[i * stride % n];
    s.x.push_back(x);
    s.y.push_back(dsl::evaluateNonlinear(fn, x));
  }
  return s;
}

/// The largest |program - f| on the samples, or, as soon as one exceeds
/// `limit`, that one (NaN counts as infinite).
double sampledError(const std::vector<Step> &steps, const Samples &s,
                    double limit) {
  std::vector<double> values;
  double worst = 0;
  for (size_t i = 0; i < s.x.size(); ++i) {
    double e = std::fabs(run(steps, s.x[i], values) - s.y[i]);
    if (!(e <= limit))
      return std::isnan(e) ? kInf : e;
    worst = std::max(worst, e);
  }
  return worst;
}

//===----------------------------------------------------------------------===//
// Smooth functions: Chebyshev interpolants, Newton iterations
//===----------------------------------------------------------------------===//

/// Coefficients of the degree-`degree` polynomial through fn at the Chebyshev
/// nodes of the first kind on [lo, hi], by the discrete cosine sums
/// c_k = (2 / n) sum_j f(x_j) cos(pi k (j + 1/2) / n) (c_0 halved).
std::vector<double> interpolate(std::string_view fn, double lo, double hi,
                                unsigned degree) {
  size_t n = degree + 1;
  // cos(pi m / (2n)) for every m the sums need, so no cosine per term.
  std::vector<double> cosine(4 * n);
  for (size_t m = 0; m < 4 * n; ++m)
    cosine[m] = std::cos(kPi * double(m) / double(2 * n));
  std::vector<double> fx(n);
  for (size_t j = 0; j < n; ++j)
    fx[j] = dsl::evaluateNonlinear(fn, (lo + hi) / 2 +
                                           (hi - lo) / 2 * cosine[2 * j + 1]);
  std::vector<double> c(n);
  for (size_t k = 0; k < n; ++k) {
    double sum = 0;
    for (size_t j = 0; j < n; ++j)
      sum += fx[j] * cosine[k * (2 * j + 1) % (4 * n)];
    c[k] = 2 * sum / double(n);
  }
  c[0] /= 2;
  return c;
}

struct Found {
  std::vector<Step> steps;
  std::string method;
  double error;
};

/// The interpolant of least depth, then least degree, within `limit`. A level
/// (degrees 2^(k-1) .. 2^k - 1, one depth) is searched only if its top degree
/// meets the limit.
std::optional<Found> searchDirect(std::string_view fn, double lo, double hi,
                                  const Samples &samples, double limit) {
  for (unsigned level = 1; level <= kMaxLevel; ++level) {
    unsigned top = (1u << level) - 1;
    std::vector<Step> steps{series(0, interpolate(fn, lo, hi, top), lo, hi)};
    if (sampledError(steps, samples, limit) > limit)
      continue;
    for (unsigned degree = top / 2 + 1; degree <= top; ++degree) {
      steps = {series(0, interpolate(fn, lo, hi, degree), lo, hi)};
      double error = sampledError(steps, samples, limit);
      if (error <= limit)
        return Found{steps, "Chebyshev degree " + std::to_string(degree),
                     error};
    }
  }
  return std::nullopt;
}

/// An interpolant of 1/x (inv) or 1/sqrt(x) (inv_sqrt, sqrt), then Newton
/// iterations, each of which squares the relative error:
///   inv:      y <- y (2 - x y)                       (2 levels, 2 products)
///   inv_sqrt: y <- 1.5 y - 0.5 (x y) y^2             (3 levels, 3 products)
/// and for sqrt a last product x * y.
std::vector<Step> newtonSteps(std::string_view fn, std::vector<double> init,
                              double lo, double hi, unsigned iterations) {
  std::vector<Step> steps{series(0, std::move(init), lo, hi)};
  auto last = [&] { return unsigned(steps.size()); };
  for (unsigned i = 0; i < iterations; ++i) {
    unsigned y = last();
    steps.push_back(product(0, y));
    unsigned xy = last();
    if (fn == "inv") {
      steps.push_back(affine(xy, -1, 0, 0, 2));
      steps.push_back(product(y, last()));
      continue;
    }
    steps.push_back(product(y, y));
    steps.push_back(product(xy, last()));
    steps.push_back(affine(y, 1.5, last(), -0.5, 0));
  }
  if (fn == "sqrt")
    steps.push_back(product(0, last()));
  return steps;
}

/// The Newton form cheaper than `toBeat` (if given) of least depth, then
/// products, within `limit`.
std::optional<Found> searchNewton(std::string_view fn, double lo, double hi,
                                  const Samples &samples, double limit,
                                  const std::optional<Cost> &toBeat) {
  std::string_view initFn = fn == "inv" ? "inv" : "inv_sqrt";
  struct Option {
    unsigned level, iterations;
    Cost cost;
  };
  std::vector<Option> options;
  for (unsigned level = 1; level <= kMaxLevel; ++level) {
    std::vector<double> init(size_t(1) << level, 0.0);
    for (unsigned it = 1; it <= kMaxNewton; ++it) {
      Cost cost = costOf(newtonSteps(fn, init, lo, hi, it));
      if (cost.depth <= kMaxDepth && (!toBeat || cheaper(cost, *toBeat)))
        options.push_back({level, it, cost});
    }
  }
  // Ties go to the lower level: a better start, fewer iterations.
  std::sort(options.begin(), options.end(),
            [](const Option &x, const Option &y) {
              if (cheaper(x.cost, y.cost) || cheaper(y.cost, x.cost))
                return cheaper(x.cost, y.cost);
              return x.level < y.level;
            });
  for (const Option &o : options) {
    unsigned top = (1u << o.level) - 1;
    auto build = [&](unsigned degree) {
      return newtonSteps(fn, interpolate(initFn, lo, hi, degree), lo, hi,
                         o.iterations);
    };
    if (sampledError(build(top), samples, limit) > limit)
      continue;
    for (unsigned degree = top / 2 + 1; degree <= top; ++degree) {
      std::vector<Step> steps = build(degree);
      double error = sampledError(steps, samples, limit);
      if (error > limit)
        continue;
      std::string method = "Chebyshev degree " + std::to_string(degree) +
                           ", then " + std::to_string(o.iterations) +
                           " Newton iteration" + (o.iterations > 1 ? "s" : "");
      if (fn == "sqrt")
        method = "x * inv_sqrt(x) by " + method;
      return Found{steps, method, error};
    }
  }
  return std::nullopt;
}

std::variant<Found, std::string> searchSmooth(std::string_view fn, double lo,
                                              double hi, double precision) {
  Samples samples = samplesOf(fn, densePoints(lo, hi));
  double limit = precision / kSafety;
  if (fn == "square") {
    std::vector<Step> steps{product(0, 0)};
    return Found{steps, "x * x", sampledError(steps, samples, kInf)};
  }
  std::optional<Found> best = searchDirect(fn, lo, hi, samples, limit);
  if (fn == "inv" || fn == "inv_sqrt" || (fn == "sqrt" && lo > 0)) {
    std::optional<Cost> direct;
    if (best)
      direct = costOf(best->steps);
    if (auto newton = searchNewton(fn, lo, hi, samples, limit, direct))
      best = std::move(newton);
  }
  if (best)
    return *best;
  unsigned top = (1u << kMaxLevel) - 1;
  std::vector<Step> steps{series(0, interpolate(fn, lo, hi, top), lo, hi)};
  return "cannot approximate " + rangeText(fn, lo, hi) + " within " +
         format("%g", precision) + ": the Chebyshev interpolant of degree " +
         std::to_string(top) + " (the degree limit; depth " +
         std::to_string(costOf(steps).depth) + ") is off by " +
         format("%.2g", sampledError(steps, samples, kInf)) +
         ", and nothing else within depth " + std::to_string(kMaxDepth) +
         " does better; narrow the range or relax the precision";
}

//===----------------------------------------------------------------------===//
// sign, relu, abs: composite minimax polynomials
//===----------------------------------------------------------------------===//
//
// After Lee, Lee, Kim, No, "Minimax approximation of sign function by
// composite polynomial for homomorphic comparison" (IEEE TDSC 2021, ePrint
// 2020/834). Stage i is the odd minimax polynomial p_i for sign on
// [-1, -a_i] U [a_i, 1]: on [a_i, 1] it stays within [1 - e_i, 1 + e_i].
// Dividing it by 1 + e_i (free: it scales the coefficients) keeps every stage
// on [-1, 1], so no stage but the first pays for a map onto [-1, 1], and the
// next stage needs sign only on a_{i+1} = (1 - e_i) / (1 + e_i). The last
// stage is not divided; its e is the sign error. relu and abs follow as
// x (1 + s) / 2 and x s (Lee et al., ICML 2022).

/// sum_i c_i T_{2i+1}(x), by T_{k+2} = 2 T_2 T_k - T_{k-2} (T_{-1} = T_1).
double oddSeries(const std::vector<double> &c, double x) {
  double twoT2 = 2 * (2 * x * x - 1), prev = x, t = x, sum = 0;
  for (double ci : c) {
    sum += ci * t;
    double next = twoT2 * t - prev;
    prev = t;
    t = next;
  }
  return sum;
}

/// Solves the n x n system (row-major) by Gaussian elimination with partial
/// pivoting.
std::vector<double> solve(std::vector<double> m, std::vector<double> rhs) {
  size_t n = rhs.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r)
      if (std::fabs(m[r * n + col]) > std::fabs(m[pivot * n + col]))
        pivot = r;
    for (size_t k = 0; k < n; ++k)
      std::swap(m[col * n + k], m[pivot * n + k]);
    std::swap(rhs[col], rhs[pivot]);
    for (size_t r = col + 1; r < n; ++r) {
      double f = m[r * n + col] / m[col * n + col];
      for (size_t k = col; k < n; ++k)
        m[r * n + k] -= f * m[col * n + k];
      rhs[r] -= f * rhs[col];
    }
  }
  std::vector<double> x(n);
  for (size_t r = n; r-- > 0;) {
    double sum = rhs[r];
    for (size_t k = r + 1; k < n; ++k)
      sum -= m[r * n + k] * x[k];
    x[r] = sum / m[r * n + r];
  }
  return x;
}

struct SignStage {
  /// Coefficients of T_1, T_3, ..., T_degree.
  std::vector<double> odd;
  /// max |p - 1| on [a, 1].
  double eps;
};

/// The point of [lo, hi] near which sign * e is largest (golden section).
double refineExtremum(const std::vector<double> &c, double lo, double hi,
                      double sign) {
  const double r = (std::sqrt(5.0) - 1) / 2;
  auto f = [&](double x) { return sign * (oddSeries(c, x) - 1); };
  double x1 = hi - r * (hi - lo), x2 = lo + r * (hi - lo);
  double f1 = f(x1), f2 = f(x2);
  for (int i = 0; i < 16; ++i) {
    if (f1 < f2) {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + r * (hi - lo);
      f2 = f(x2);
    } else {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - r * (hi - lo);
      f1 = f(x1);
    }
  }
  return f1 > f2 ? x1 : x2;
}

/// The odd minimax polynomial of `degree` for 1 on [a, 1], by the Remez
/// exchange in the odd Chebyshev basis (well conditioned on [-1, 1]). None if
/// it fails or would leave [0, 1 + eps] on [0, a] (the dead zone must keep
/// the sign of x and stay bounded).
std::optional<SignStage> remezSign(double a, unsigned degree) {
  size_t m = (degree + 1) / 2;
  double thetaA = std::acos(a);
  // Uniform in arccos x: the error of a Chebyshev-like polynomial oscillates
  // uniformly in that variable. When a is tiny, p climbs from about 0 to
  // about 1 just above a; geometric points resolve that.
  size_t g = 4 * (degree + 1);
  std::vector<double> grid;
  for (size_t i = 0; i <= g; ++i)
    grid.push_back(std::cos(thetaA * double(g - i) / double(g)));
  for (int i = 1; i < 32; ++i)
    grid.push_back(a * std::pow(grid[1] / a, i / 32.0));
  std::vector<double> ref(m + 1);
  for (size_t j = 0; j <= m; ++j)
    ref[j] = std::cos(thetaA * double(m - j) / double(m));

  std::vector<double> c(m);
  double eps = kInf;
  for (int iter = 0; iter < 40; ++iter) {
    // p(r_j) + (-1)^j E = 1 at the m + 1 reference points.
    std::vector<double> mat((m + 1) * (m + 1)), rhs(m + 1, 1.0);
    for (size_t j = 0; j <= m; ++j) {
      double twoT2 = 2 * (2 * ref[j] * ref[j] - 1), prev = ref[j], t = ref[j];
      for (size_t i = 0; i < m; ++i) {
        mat[j * (m + 1) + i] = t;
        double next = twoT2 * t - prev;
        prev = t;
        t = next;
      }
      mat[j * (m + 1) + m] = j % 2 ? -1 : 1;
    }
    std::vector<double> sol = solve(std::move(mat), std::move(rhs));
    c.assign(sol.begin(), sol.begin() + m);
    double levelled = std::fabs(sol[m]);

    // The extremum of each run of one sign of the error, over the grid and
    // the reference (where the error alternates by construction).
    std::vector<double> pts = grid;
    pts.insert(pts.end(), ref.begin(), ref.end());
    std::sort(pts.begin(), pts.end());
    std::vector<double> err(pts.size());
    std::vector<size_t> runs;
    for (size_t i = 0; i < pts.size(); ++i) {
      err[i] = oddSeries(c, pts[i]) - 1;
      if (runs.empty() || (err[i] >= 0) != (err[runs.back()] >= 0))
        runs.push_back(i);
      else if (std::fabs(err[i]) > std::fabs(err[runs.back()]))
        runs.back() = i;
    }
    std::vector<double> ext, extErr;
    for (size_t i : runs) {
      double sign = err[i] >= 0 ? 1 : -1;
      double x = refineExtremum(c, pts[i > 0 ? i - 1 : 0],
                                pts[std::min(i + 1, pts.size() - 1)], sign);
      double e = oddSeries(c, x) - 1;
      if (sign * e < sign * err[i]) {
        x = pts[i];
        e = err[i];
      }
      ext.push_back(x);
      extErr.push_back(e);
    }
    eps = 0;
    for (double e : extErr)
      eps = std::max(eps, std::fabs(e));
    if (ext.size() < m + 1)
      break;
    // Keep m + 1 alternating extrema: drop the smaller end.
    size_t first = 0, end = ext.size();
    while (end - first > m + 1) {
      if (std::fabs(extErr[first]) < std::fabs(extErr[end - 1]))
        ++first;
      else
        --end;
    }
    ref.assign(ext.begin() + ptrdiff_t(first), ext.begin() + ptrdiff_t(end));
    if (eps - levelled <= 1e-4 * eps)
      break;
  }
  if (!(eps < 1))
    return std::nullopt;
  for (int i = 1; i <= 256; ++i) {
    double p = oddSeries(c, a * i / 256);
    if (!(p >= 0 && p <= 1 + eps))
      return std::nullopt;
  }
  return SignStage{c, eps};
}

unsigned stageDepth(unsigned degree) { return std::bit_width(degree); }

/// Stages in order; `lower` is where the next stage would need sign from.
struct Chain {
  std::vector<unsigned> degrees;
  std::vector<const SignStage *> stages;
  double lower = 0;
  unsigned depth = 0;

  double eps() const { return stages.empty() ? 1 : stages.back()->eps; }
  void append(unsigned degree, const SignStage *stage) {
    degrees.push_back(degree);
    stages.push_back(stage);
    lower = (1 - stage->eps) / (1 + stage->eps);
    depth += stageDepth(degree);
  }
};

/// Searches compositions for a final sign error <= target, memoizing stages
/// (one search revisits the same lower edge many times).
class SignSearch {
public:
  explicit SignSearch(double target) : target(target) {}

  /// The composition of least depth (at most `budget`) from dead zone
  /// `delta`. Dynamic programming over depth: a stage's output edge grows
  /// with its input edge, so the composition reaching the highest edge at
  /// each depth is the best prefix for every deeper one.
  std::optional<Chain> shallowest(double delta, unsigned budget) {
    std::vector<Chain> best(budget + 1);
    best[0].lower = delta;
    for (unsigned u = 1; u <= budget; ++u) {
      best[u] = best[u - 1];
      for (unsigned degree : kStageDegrees) {
        if (stageDepth(degree) > u)
          continue;
        const Chain &prev = best[u - stageDepth(degree)];
        const SignStage *s = stage(prev.lower, degree);
        if (s && (1 - s->eps) / (1 + s->eps) > best[u].lower) {
          best[u] = prev;
          best[u].append(degree, s);
        }
      }
      if (!best[u].stages.empty() && best[u].eps() <= target)
        return best[u];
    }
    return std::nullopt;
  }

  /// Lowers each stage's degree within its depth while the target is still
  /// met, last stage first (it usually overshoots most): fewer products,
  /// same depth. The error falls with the degree, so a bisection suffices.
  void economize(Chain &chain, double delta) {
    for (size_t i = chain.degrees.size(); i-- > 0;) {
      std::vector<unsigned> degrees = chain.degrees;
      unsigned lo = std::bit_floor(degrees[i]) + 1, hi = degrees[i];
      while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 4 * 2; // odd, in [lo, hi)
        degrees[i] = mid;
        if (auto c = build(delta, degrees); c && c->eps() <= target)
          hi = mid;
        else
          lo = mid + 2;
      }
      degrees[i] = hi;
      chain = *build(delta, degrees);
    }
  }

private:
  const SignStage *stage(double a, unsigned degree) {
    auto [it, fresh] = memo.try_emplace({a, degree});
    if (fresh)
      it->second = remezSign(a, degree);
    return it->second ? &*it->second : nullptr;
  }

  std::optional<Chain> build(double delta, const std::vector<unsigned> &d) {
    Chain chain;
    chain.lower = delta;
    for (unsigned degree : d) {
      const SignStage *s = stage(chain.lower, degree);
      if (!s)
        return std::nullopt;
      chain.append(degree, s);
    }
    return chain;
  }

  double target;
  std::map<std::pair<double, unsigned>, std::optional<SignStage>> memo;
};

/// The steps of sign (or relu, abs) from a chain on [-range, range].
/// relu and abs start from u = x / range and end with u times the last
/// stage scaled by range: the final product then reads u, which a
/// bootstrap placed inside the chain refreshes with the first stage's
/// input, rather than x, which would need a refresh of its own (the same
/// depth: the map onto [-1, 1] is a level either way).
std::vector<Step> compositeSteps(std::string_view fn, const Chain &chain,
                                 double range) {
  const bool sign = fn == "sign";
  std::vector<Step> steps;
  if (!sign)
    steps.push_back(affine(0, 1 / range, 0, 0, 0));
  const unsigned first = sign ? 0 : 1;
  // The factor range / 2 (relu) or range (abs): its integer part by an
  // exact product at the end (the last stage's constants must fit the
  // scale's integers), the rest, in [1, 2), in the last stage.
  const double factor = sign ? 1 : fn == "relu" ? range / 2 : range;
  const double whole = std::max(1.0, std::floor(factor));
  for (size_t i = 0; i < chain.stages.size(); ++i) {
    const SignStage &s = *chain.stages[i];
    bool last = i + 1 == chain.stages.size();
    // Inner stages are divided by 1 + eps to stay in [-1, 1]; relu's last
    // computes (range / 2) (1 + p) directly, abs's range p (but the
    // integer part).
    double scale = !last ? 1 / (1 + s.eps) : factor / whole;
    std::vector<double> coeffs(chain.degrees[i] + 1, 0.0);
    for (size_t k = 0; k < s.odd.size(); ++k)
      coeffs[2 * k + 1] = scale * s.odd[k];
    if (last && fn == "relu")
      coeffs[0] = factor / whole;
    const unsigned input = i == 0 ? first : unsigned(steps.size());
    steps.push_back(i == 0 && sign ? series(input, coeffs, -range, range)
                                   : series(input, coeffs, -1, 1));
  }
  if (!sign) {
    steps.push_back(product(first, unsigned(steps.size())));
    if (whole != 1)
      steps.push_back(affine(unsigned(steps.size()), whole, 0, 0, 0));
  }
  return steps;
}

std::string joinDegrees(const std::vector<unsigned> &degrees) {
  std::string s;
  for (unsigned d : degrees)
    s += (s.empty() ? "" : ", ") + std::to_string(d);
  return s;
}

/// Ranges on one side of 0 need no approximation.
std::optional<Found> oneSided(std::string_view fn, double lo, double hi) {
  bool sign = fn == "sign";
  if (sign ? lo > 0 : lo >= 0)
    return sign ? Found{{affine(0, 0, 0, 0, 1)}, "constant 1", 0}
                : Found{{affine(0, 1, 0, 0, 0)}, "identity", 0};
  if (sign ? hi < 0 : hi <= 0) {
    if (sign)
      return Found{{affine(0, 0, 0, 0, -1)}, "constant -1", 0};
    return fn == "abs" ? Found{{affine(0, -1, 0, 0, 0)}, "negation", 0}
                       : Found{{affine(0, 0, 0, 0, 0)}, "constant 0", 0};
  }
  return std::nullopt;
}

std::variant<Approximation, std::string>
approximateComposite(std::string_view fn, double lo, double hi,
                     double precision) {
  Approximation r;
  if (auto f = oneSided(fn, lo, hi)) {
    r.steps = f->steps;
    r.method = f->method;
    return r;
  }
  double range = std::max(std::fabs(lo), std::fabs(hi));
  // |approx - f| = |x| |s - sign x| (relu: half that) <= scale * eps.
  double scale = fn == "relu" ? range / 2 : fn == "abs" ? range : 1;
  // Inside the dead zone |s - sign x| <= 1, so the error is <= this * |x|.
  double inside = fn == "relu" ? 0.5 : 1;
  double target = precision / (kSafety * scale);
  std::string what = "cannot approximate " + rangeText(fn, lo, hi) +
                     " within " + format("%g", precision) + ": ";
  if (target < kMinSignError)
    return what + "that needs a sign error below " + format("%.1g", target) +
           ", beyond float64 composite polynomials; narrow the range or "
           "relax the precision";
  // The dead zone, in units of range: relu and abs are then within precision
  // inside it too; sign's errors are about its value, so its dead zone is a
  // fixed fraction of the range, smaller for stricter precisions.
  double delta = fn == "sign" ? std::min(precision, 1.0 / 256)
                              : precision / inside / range;
  delta = std::min(delta, 0.5);
  unsigned fixed = (range == 1 ? 0 : 1) + (fn == "sign" ? 0 : 1);
  SignSearch search(target);
  unsigned budget = kMaxCompositeDepth - fixed;
  std::optional<Chain> chain = search.shallowest(delta, budget);
  if (!chain) {
    // The smallest dead zone delta 2^k that fits the budget (the depth falls
    // as the dead zone grows, so bisect on k).
    unsigned tooSmall = 0, fits = 0;
    while (std::ldexp(delta, int(fits) + 1) < 1)
      ++fits;
    chain = search.shallowest(std::ldexp(delta, int(fits)), budget);
    if (!chain)
      return what + "no composite polynomial reaches it within " +
             std::to_string(kMaxCompositeDepth) +
             " levels, whatever the dead zone; narrow the range or relax "
             "the precision";
    while (fits - tooSmall > 1) {
      unsigned k = (tooSmall + fits) / 2;
      if (auto c = search.shallowest(std::ldexp(delta, int(k)), budget)) {
        fits = k;
        chain = std::move(c);
      } else {
        tooSmall = k;
      }
    }
    delta = std::ldexp(delta, int(fits));
  }
  search.economize(*chain, delta);

  r.steps = compositeSteps(fn, *chain, range);
  r.method = "composite sign degrees " + joinDegrees(chain->degrees);
  r.deadZone = delta * range;
  std::vector<double> pts = densePoints(lo, hi);
  // The error is largest just outside the dead zone and changes fastest
  // inside it: geometric points on both sides of both edges.
  for (int j = 0; j <= 2000; ++j)
    for (double side : {-1.0, 1.0}) {
      pts.push_back(side * r.deadZone * std::pow(1 / delta, j / 2000.0));
      pts.push_back(side * r.deadZone * std::pow(1e-6, j / 2000.0));
      pts.push_back(side * r.deadZone * j / 2000.0);
    }
  std::vector<double> outside, within;
  for (double x : pts)
    if (x >= lo && x <= hi)
      (std::fabs(x) < r.deadZone ? within : outside).push_back(x);
  r.errorBound =
      std::max(kSafety * sampledError(r.steps, samplesOf(fn, outside), kInf),
               scale * chain->eps());
  // The dead-zone bound follows from every stage keeping [0, 1] within
  // [0, 1 + eps]; sampling confirms it.
  double insideBound = inside * (fn == "sign" ? 1 : r.deadZone);
  double insideError = sampledError(r.steps, samplesOf(fn, within), kInf);
  r.deadZoneError =
      insideError <= insideBound ? insideBound : kSafety * insideError;
  if (r.errorBound > precision)
    return what + "the sampled error " + format("%.2g", r.errorBound) +
           " exceeds the composite's design bound; relax the precision";
  return r;
}

} // namespace

std::string Approximation::describe() const {
  std::string s = rangeText(function, lo, hi) + ": " + method + ", depth " +
                  std::to_string(depth) + ", " + std::to_string(products) +
                  " products, error <= " + format("%.1e", errorBound);
  if (deadZone > 0)
    s += " outside |x| < " + format("%.1e", deadZone) +
         " (<= " + format("%.1e", deadZoneError) + " inside)";
  return s;
}

double evaluate(const Approximation &approx, double x) {
  std::vector<double> values;
  return run(approx.steps, x, values);
}

std::variant<Approximation, std::string>
approximate(std::string_view function, double lo, double hi, double precision) {
  const bool composite =
      function == "sign" || function == "relu" || function == "abs";
  if (!dsl::isNonlinearFunction(function))
    return "no approximation for unknown function '" + std::string(function) +
           "' (known: relu gelu silu sigmoid tanh exp log inv sqrt inv_sqrt "
           "square sign abs)";
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    return "cannot approximate " + std::string(function) + " on [" +
           format("%g", lo) + ", " + format("%g", hi) +
           "]: the range must be finite with lo < hi";
  if (!(precision > 0 && std::isfinite(precision)))
    return "cannot approximate " + rangeText(function, lo, hi) +
           ": the precision must be a positive number, not " +
           format("%g", precision);
  bool positive =
      function == "log" || function == "inv" || function == "inv_sqrt";
  if ((positive && lo <= 0) || (function == "sqrt" && lo < 0))
    return "cannot approximate " + rangeText(function, lo, hi) + ": " +
           std::string(function) + " is undefined or infinite at x " +
           (positive ? "<= 0" : "< 0") + "; its range must have lo " +
           (positive ? "> 0" : ">= 0");

  std::variant<Approximation, std::string> result;
  if (composite) {
    result = approximateComposite(function, lo, hi, precision);
  } else {
    auto found = searchSmooth(function, lo, hi, precision);
    if (auto *message = std::get_if<std::string>(&found))
      return *message;
    Found &f = std::get<Found>(found);
    Approximation a;
    a.steps = std::move(f.steps);
    a.method = std::move(f.method);
    a.errorBound = kSafety * f.error;
    result = std::move(a);
  }
  if (auto *a = std::get_if<Approximation>(&result)) {
    a->function = std::string(function);
    a->lo = lo;
    a->hi = hi;
    Cost cost = costOf(a->steps);
    a->depth = cost.depth;
    a->products = cost.products;
    a->degrees = std::move(cost.degrees);
  }
  return result;
}

} // namespace cerium::approx
