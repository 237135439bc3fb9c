//===- ShapeValuesTest.cpp - Row-major value helpers of the tensor ops ----===//
//
// The float64 reference evaluator gives every program its meaning through
// the shapes::*Values helpers, so each is checked here against a naive
// reference written a different way (scatter instead of gather, an
// explicitly zero-padded copy instead of bounds tests, per-batch loops
// instead of broadcast index tables), on random tensors, and against a few
// results computed once with NumPy 1.26 on inputs that make every product and
// sum exact.
//
//===----------------------------------------------------------------------===//

#include "cerium/DSL/Shapes.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

using namespace cerium;
using shapes::Shape;
using Values = std::vector<double>;

namespace {

/// Each test draws from its own generator; the seed is printed so that a
/// failure can be replayed with CERIUM_TEST_SEED.
class ShapeValues : public ::testing::Test {
protected:
  void SetUp() override {
    seed = test::testSeed();
    std::printf("seed %llu (rerun with CERIUM_TEST_SEED=%llu)\n",
                static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(seed));
    RecordProperty("seed", std::to_string(seed));
    rng.seed(seed);
  }

  Values random(const Shape &s, double lo = -1.0, double hi = 1.0) {
    std::uniform_real_distribution<double> dist(lo, hi);
    Values v(static_cast<size_t>(shapes::numElements(s)));
    for (double &x : v)
      x = dist(rng);
    return v;
  }

  uint64_t seed = 0;
  std::mt19937_64 rng;
};

void expectClose(const Values &got, const Values &want, double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i])))
        << "at flat index " << i;
}

/// The multi-index of flat position `flat` in row-major shape `s`.
std::vector<int64_t> unflatten(int64_t flat, const Shape &s) {
  std::vector<int64_t> idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = flat % s[d];
    flat /= s[d];
  }
  return idx;
}

int64_t flatten(const std::vector<int64_t> &idx, const Shape &s) {
  int64_t flat = 0;
  for (size_t d = 0; d < s.size(); ++d)
    flat = flat * s[d] + idx[d];
  return flat;
}

/// Deterministic inputs that are multiples of 1/4 in [-5/4, 5/4], so that
/// the NumPy results below are exact and compare with ==.
Values quarters(int64_t n, int64_t mult) {
  Values v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = double((i * mult) % 11 - 5) / 4.0;
  return v;
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

/// Scatters each input element to its place in the result: result index j
/// has input index idx[perm[j]].
Values naiveTranspose(const Shape &s, const Values &x,
                      const std::vector<int64_t> &perm) {
  Shape out(s.size());
  for (size_t j = 0; j < s.size(); ++j)
    out[j] = s[size_t(perm[j])];
  Values y(x.size());
  for (int64_t flat = 0; flat < int64_t(x.size()); ++flat) {
    auto idx = unflatten(flat, s);
    std::vector<int64_t> outIdx(s.size());
    for (size_t j = 0; j < s.size(); ++j)
      outIdx[j] = idx[size_t(perm[j])];
    y[size_t(flatten(outIdx, out))] = x[size_t(flat)];
  }
  return y;
}

TEST_F(ShapeValues, TransposeOfAMatrixByHand) {
  // [[1, 2, 3], [4, 5, 6]].T
  EXPECT_EQ(shapes::transposeValues({2, 3}, {1, 2, 3, 4, 5, 6}, {}),
            (Values{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(shapes::transposeValues({2, 3}, {1, 2, 3, 4, 5, 6}, {1, 0}),
            (Values{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(shapes::transposeValues({2, 3}, {1, 2, 3, 4, 5, 6}, {0, 1}),
            (Values{1, 2, 3, 4, 5, 6}));
}

TEST_F(ShapeValues, TransposeMatchesIndexMapping) {
  const Shape s = {2, 3, 4, 5};
  const Values x = random(s);
  std::vector<int64_t> perm = {0, 1, 2, 3};
  // Every permutation of four axes.
  do {
    SCOPED_TRACE("perm " + shapes::str(perm));
    expectClose(shapes::transposeValues(s, x, perm), naiveTranspose(s, x, perm),
                0);
  } while (std::next_permutation(perm.begin(), perm.end()));
  // An empty perm reverses the axes; negative entries count from the end.
  expectClose(shapes::transposeValues(s, x, {}),
              naiveTranspose(s, x, {3, 2, 1, 0}), 0);
  expectClose(shapes::transposeValues(s, x, {-1, 0, -2, 1}),
              naiveTranspose(s, x, {3, 0, 2, 1}), 0);
  // Rank 1 is the identity.
  const Values v = random({7});
  EXPECT_EQ(shapes::transposeValues({7}, v, {}), v);
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

/// For each result element, finds the part that holds it along `axis`.
Values naiveConcat(const std::vector<Shape> &shapesIn,
                   const std::vector<Values> &parts, int64_t axis) {
  Shape out = shapes::concat(shapesIn, axis).shape;
  Values y(size_t(shapes::numElements(out)));
  for (int64_t flat = 0; flat < int64_t(y.size()); ++flat) {
    auto idx = unflatten(flat, out);
    size_t p = 0;
    while (idx[size_t(axis)] >= shapesIn[p][size_t(axis)])
      idx[size_t(axis)] -= shapesIn[p++][size_t(axis)];
    y[size_t(flat)] = parts[p][size_t(flatten(idx, shapesIn[p]))];
  }
  return y;
}

TEST_F(ShapeValues, ConcatByHand) {
  // concat([[1, 2], [3, 4]], [[5, 6]], axis 0) and ([[1, 2], [3, 4]],
  // [[7], [8]], axis 1).
  EXPECT_EQ(shapes::concatValues({{2, 2}, {1, 2}}, {{1, 2, 3, 4}, {5, 6}}, 0),
            (Values{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(shapes::concatValues({{2, 2}, {2, 1}}, {{1, 2, 3, 4}, {7, 8}}, 1),
            (Values{1, 2, 7, 3, 4, 8}));
  EXPECT_EQ(shapes::concatValues({{2, 2}, {2, 1}}, {{1, 2, 3, 4}, {7, 8}}, -1),
            (Values{1, 2, 7, 3, 4, 8}));
}

TEST_F(ShapeValues, ConcatMatchesPerElementLookup) {
  for (int64_t axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    std::vector<Shape> ss = {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}};
    ss[1][size_t(axis)] = 1;
    ss[2][size_t(axis)] = 5;
    std::vector<Values> parts;
    for (const Shape &s : ss)
      parts.push_back(random(s));
    const Values want = naiveConcat(ss, parts, axis);
    expectClose(shapes::concatValues(ss, parts, axis), want, 0);
    expectClose(shapes::concatValues(ss, parts, axis - 3), want, 0);
  }
  const Values one = random({6});
  EXPECT_EQ(shapes::concatValues({{6}}, {one}, 0), one);
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

/// a [m, k] @ b [k, n] on plain row-major matrices.
Values matrixProduct(const double *a, const double *b, int64_t m, int64_t k,
                     int64_t n) {
  Values c(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t t = 0; t < k; ++t)
        c[size_t(i * n + j)] += a[i * k + t] * b[t * n + j];
  return c;
}

Values matmulChecked(const Shape &as, const Values &a, const Shape &bs,
                     const Values &b, const Shape &wantShape) {
  shapes::Result r = shapes::matmul(as, bs);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.shape, wantShape);
  Values got = shapes::matmulValues(as, a, bs, b);
  EXPECT_EQ(int64_t(got.size()), shapes::numElements(wantShape));
  return got;
}

TEST_F(ShapeValues, MatmulOfMatricesByHand) {
  // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]]
  EXPECT_EQ(shapes::matmulValues({2, 2}, {1, 2, 3, 4}, {2, 2}, {5, 6, 7, 8}),
            (Values{19, 22, 43, 50}));
}

TEST_F(ShapeValues, MatmulOfMatrices) {
  const Values a = random({3, 4}), b = random({4, 5});
  expectClose(matmulChecked({3, 4}, a, {4, 5}, b, {3, 5}),
              matrixProduct(a.data(), b.data(), 3, 4, 5));
}

TEST_F(ShapeValues, MatmulWithVectors) {
  const Values v = random({4}), w = random({4}), m = random({4, 3}),
               l = random({5, 4});
  // [n] @ [n, m] -> [m]: the vector is a row.
  Values want(3, 0.0);
  for (int64_t j = 0; j < 3; ++j)
    for (int64_t k = 0; k < 4; ++k)
      want[size_t(j)] += v[size_t(k)] * m[size_t(k * 3 + j)];
  expectClose(matmulChecked({4}, v, {4, 3}, m, {3}), want);
  // [m, n] @ [n] -> [m]: the vector is a column.
  want.assign(5, 0.0);
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t k = 0; k < 4; ++k)
      want[size_t(i)] += l[size_t(i * 4 + k)] * v[size_t(k)];
  expectClose(matmulChecked({5, 4}, l, {4}, v, {5}), want);
  // [n] @ [n] -> the dot product, shape [1] (no axes left).
  double dot = 0;
  for (size_t k = 0; k < 4; ++k)
    dot += v[k] * w[k];
  expectClose(matmulChecked({4}, v, {4}, w, {1}), {dot});
}

TEST_F(ShapeValues, MatmulBroadcastsBatches) {
  // [2, 3, 4] @ [4, 5]: the matrix is shared by both batches.
  {
    const Values a = random({2, 3, 4}), b = random({4, 5});
    Values want;
    for (int64_t t = 0; t < 2; ++t) {
      Values c = matrixProduct(a.data() + t * 12, b.data(), 3, 4, 5);
      want.insert(want.end(), c.begin(), c.end());
    }
    expectClose(matmulChecked({2, 3, 4}, a, {4, 5}, b, {2, 3, 5}), want);
  }
  // [3, 4] @ [2, 4, 5]: the left matrix is shared.
  {
    const Values a = random({3, 4}), b = random({2, 4, 5});
    Values want;
    for (int64_t t = 0; t < 2; ++t) {
      Values c = matrixProduct(a.data(), b.data() + t * 20, 3, 4, 5);
      want.insert(want.end(), c.begin(), c.end());
    }
    expectClose(matmulChecked({3, 4}, a, {2, 4, 5}, b, {2, 3, 5}), want);
  }
  // [2, 1, 3, 4] @ [3, 4, 2]: both sides broadcast, to batch [2, 3].
  {
    const Values a = random({2, 1, 3, 4}), b = random({3, 4, 2});
    Values want;
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t t = 0; t < 3; ++t) {
        Values c = matrixProduct(a.data() + s * 12, b.data() + t * 8, 3, 4, 2);
        want.insert(want.end(), c.begin(), c.end());
      }
    expectClose(matmulChecked({2, 1, 3, 4}, a, {3, 4, 2}, b, {2, 3, 3, 2}),
                want);
  }
  // A vector against a batch: [4] @ [2, 4, 5] -> [2, 5] and
  // [2, 3, 4] @ [4] -> [2, 3].
  {
    const Values v = random({4}), b = random({2, 4, 5}), a = random({2, 3, 4});
    Values want;
    for (int64_t t = 0; t < 2; ++t) {
      Values c = matrixProduct(v.data(), b.data() + t * 20, 1, 4, 5);
      want.insert(want.end(), c.begin(), c.end());
    }
    expectClose(matmulChecked({4}, v, {2, 4, 5}, b, {2, 5}), want);
    want.clear();
    for (int64_t t = 0; t < 2; ++t) {
      Values c = matrixProduct(a.data() + t * 12, v.data(), 3, 4, 1);
      want.insert(want.end(), c.begin(), c.end());
    }
    expectClose(matmulChecked({2, 3, 4}, a, {4}, v, {2, 3}), want);
  }
}

TEST_F(ShapeValues, MatmulMatchesNumPy) {
  // a = q(2*3*4, 3).reshape(1, 3, 4); b = q(2*4*2, 5).reshape(2, 4, 2)
  // where q(n, m) = ((arange(n) * m) % 11 - 5) / 4; print(a @ b) (NumPy).
  const Values a = quarters(12, 3), b = quarters(16, 5);
  EXPECT_EQ(shapes::matmulValues({1, 3, 4}, a, {2, 4, 2}, b),
            (Values{1.9375, -0.75, 2.375, -1.125, 0.75, 0.5625, -1.0, 3.1875,
                    -0.875, 3.1875, -0.0625, 0.4375}));
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

/// PyTorch's conv2d by its definition: zero-pad a copy of x, then for each
/// output channel sum over its group's input channels and the kernel window.
Values naiveConv2d(const Shape &xs, const Values &x, const Shape &ws,
                   const Values &w, const Values *bias, int64_t stride,
                   int64_t padding, int64_t groups) {
  const int64_t c = xs[0], h = xs[1], wd = xs[2];
  const int64_t o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
  const int64_t ph = h + 2 * padding, pw = wd + 2 * padding;
  Values padded(size_t(c * ph * pw), 0.0);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < wd; ++j)
        padded[size_t((ch * ph + i + padding) * pw + j + padding)] =
            x[size_t((ch * h + i) * wd + j)];
  // Floor division: windows that would overhang are not formed.
  const int64_t oh = (ph - kh) / stride + 1, ow = (pw - kw) / stride + 1;
  const int64_t perGroup = o / groups;
  Values y;
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t oc = g * perGroup; oc < (g + 1) * perGroup; ++oc)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = 0;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t b = 0; b < kw; ++b)
                acc +=
                    padded[size_t(((g * cg + ic) * ph + i * stride + a) * pw +
                                  j * stride + b)] *
                    w[size_t(((oc * cg + ic) * kh + a) * kw + b)];
          y.push_back(acc + (bias ? (*bias)[size_t(oc)] : 0.0));
        }
  return y;
}

struct ConvCase {
  const char *name;
  Shape x, w;
  int64_t stride, padding, groups;
  Shape out; // what PyTorch gives
};

TEST_F(ShapeValues, Conv2dByHand) {
  // One channel 1..9 (3x3), a 2x2 kernel of ones: the sums of the four
  // 2x2 windows.
  const Values x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(shapes::conv2dValues({1, 3, 3}, x, {1, 1, 2, 2}, {1, 1, 1, 1},
                                 nullptr, 1, 0, 1),
            (Values{12, 16, 24, 28}));
  // Padding 1, stride 2, bias 10: windows at rows/cols -1 and 1.
  const Values bias = {10};
  EXPECT_EQ(shapes::conv2dValues({1, 3, 3}, x, {1, 1, 2, 2}, {1, 1, 1, 1},
                                 &bias, 2, 1, 1),
            (Values{11, 15, 21, 38}));
}

TEST_F(ShapeValues, Conv2dMatchesZeroPaddedDefinition) {
  const ConvCase cases[] = {
      {"plain", {3, 6, 5}, {4, 3, 3, 3}, 1, 0, 1, {4, 4, 3}},
      {"stride 2", {2, 7, 6}, {3, 2, 3, 3}, 2, 0, 1, {3, 3, 2}},
      {"padding 1", {2, 5, 5}, {3, 2, 3, 3}, 1, 1, 1, {3, 5, 5}},
      {"stride 2 padding 1", {3, 7, 8}, {2, 3, 3, 3}, 2, 1, 1, {2, 4, 4}},
      {"groups 2", {4, 5, 6}, {6, 2, 3, 3}, 1, 1, 2, {6, 5, 6}},
      {"depthwise", {3, 6, 6}, {3, 1, 3, 3}, 1, 1, 3, {3, 6, 6}},
      {"depthwise x2 stride 2", {3, 6, 6}, {6, 1, 3, 3}, 2, 1, 3, {6, 3, 3}},
      {"non-square kernel", {2, 5, 7}, {2, 2, 2, 3}, 1, 0, 1, {2, 4, 5}},
      {"1x1", {4, 3, 3}, {5, 4, 1, 1}, 1, 0, 1, {5, 3, 3}},
      {"kernel = padded input", {1, 3, 3}, {2, 1, 5, 5}, 1, 1, 1, {2, 1, 1}},
  };
  for (const ConvCase &c : cases) {
    SCOPED_TRACE(c.name);
    const Values x = random(c.x), w = random(c.w), bias = random({c.w[0]});
    for (const Values *b : {static_cast<const Values *>(nullptr), &bias}) {
      SCOPED_TRACE(b ? "with bias" : "without bias");
      Shape biasShape = {c.w[0]};
      shapes::Result r = shapes::conv2d(c.x, c.w, b ? &biasShape : nullptr,
                                        c.stride, c.padding, c.groups);
      ASSERT_TRUE(r.ok()) << r.error;
      EXPECT_EQ(r.shape, c.out);
      Values got = shapes::conv2dValues(c.x, x, c.w, w, b, c.stride, c.padding,
                                        c.groups);
      EXPECT_EQ(int64_t(got.size()), shapes::numElements(c.out));
      expectClose(
          got, naiveConv2d(c.x, x, c.w, w, b, c.stride, c.padding, c.groups));
    }
  }
}

TEST_F(ShapeValues, Conv2dWithGroupsIsConvPerGroup) {
  // groups = 2 equals two independent convolutions on the channel halves.
  const Shape xs = {4, 5, 5}, ws = {6, 2, 3, 3};
  const Values x = random(xs), w = random(ws);
  const Values got = shapes::conv2dValues(xs, x, ws, w, nullptr, 2, 1, 2);
  Values want;
  for (int64_t g = 0; g < 2; ++g) {
    Values xg(x.begin() + g * 50, x.begin() + (g + 1) * 50);
    Values wg(w.begin() + g * 54, w.begin() + (g + 1) * 54);
    Values yg =
        shapes::conv2dValues({2, 5, 5}, xg, {3, 2, 3, 3}, wg, nullptr, 2, 1, 1);
    want.insert(want.end(), yg.begin(), yg.end());
  }
  expectClose(got, want, 0);
}

TEST_F(ShapeValues, Conv2dMatchesNumPy) {
  // x = q(4*5*5, 3).reshape(4, 5, 5), w = q(4*2*3*3, 7).reshape(4, 2, 3, 3),
  // b = [0.5, -0.25, 1, 0]; conv2d(stride 2, padding 1, groups 2) computed
  // with numpy.lib.stride_tricks.sliding_window_view over numpy.pad(x) and
  // numpy.einsum per group.
  const Values x = quarters(100, 3), w = quarters(72, 7),
               bias = {0.5, -0.25, 1, 0};
  const Values want = {-1.125,  -1.125,  0.4375, 1.125,   0.125,   3.1875,
                       0.75,    -1.6875, -1.5,   1.5,     2.875,   2.875,
                       -2.3125, -0.3125, -3.625, 1.75,    2.625,   -0.6875,
                       -0.3125, 1.8125,  0.4375, 1.25,    -0.9375, 0.375,
                       1.8125,  -1.125,  3.5625, 0.3125,  -3.9375, 0.875,
                       1.8125,  4.75,    3.75,   -1.9375, 1.0,     -3.8125};
  EXPECT_EQ(shapes::conv2d({4, 5, 5}, {4, 2, 3, 3}, nullptr, 2, 1, 2).shape,
            (Shape{4, 3, 3}));
  EXPECT_EQ(shapes::conv2dValues({4, 5, 5}, x, {4, 2, 3, 3}, w, &bias, 2, 1, 2),
            want);
}

//===----------------------------------------------------------------------===//
// avgpool2d, global_avgpool
//===----------------------------------------------------------------------===//

TEST_F(ShapeValues, Avgpool2dByHand) {
  // 0..15 as 4x4, kernel 2 stride 2.
  Values x(16);
  std::iota(x.begin(), x.end(), 0.0);
  EXPECT_EQ(shapes::avgpool2dValues({1, 4, 4}, x, 2, 2),
            (Values{2.5, 4.5, 10.5, 12.5}));
  // Kernel 3 stride 1: the four 3x3 window means.
  EXPECT_EQ(shapes::avgpool2dValues({1, 4, 4}, x, 3, 1), (Values{5, 6, 9, 10}));
}

TEST_F(ShapeValues, Avgpool2dIsDepthwiseConvWithEqualWeights) {
  struct {
    Shape x;
    int64_t kernel, stride;
    Shape out;
  } cases[] = {
      {{3, 6, 6}, 2, 2, {3, 3, 3}},
      {{2, 5, 6}, 3, 2, {2, 2, 2}}, // the last column is never covered
      {{2, 5, 5}, 2, 1, {2, 4, 4}},
      {{1, 4, 4}, 4, 1, {1, 1, 1}},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE("x " + shapes::str(c.x) + " kernel " +
                 std::to_string(c.kernel) + " stride " +
                 std::to_string(c.stride));
    shapes::Result r = shapes::avgpool2d(c.x, c.kernel, c.stride);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.shape, c.out);
    const int64_t ch = c.x[0];
    const Values x = random(c.x);
    // Written directly: the mean of each window, window by window.
    Values want;
    for (int64_t k = 0; k < ch; ++k)
      for (int64_t i = 0; i < c.out[1]; ++i)
        for (int64_t j = 0; j < c.out[2]; ++j) {
          double s = 0;
          for (int64_t a = 0; a < c.kernel; ++a) {
            auto row = x.begin() + (k * c.x[1] + i * c.stride + a) * c.x[2] +
                       j * c.stride;
            s = std::accumulate(row, row + c.kernel, s);
          }
          want.push_back(s / double(c.kernel * c.kernel));
        }
    const Values got = shapes::avgpool2dValues(c.x, x, c.kernel, c.stride);
    expectClose(got, want);
    // And as a depthwise convolution with weights 1/k^2.
    const Shape ws = {ch, 1, c.kernel, c.kernel};
    const Values w(size_t(shapes::numElements(ws)),
                   1.0 / double(c.kernel * c.kernel));
    expectClose(got,
                shapes::conv2dValues(c.x, x, ws, w, nullptr, c.stride, 0, ch));
  }
}

TEST_F(ShapeValues, GlobalAvgpoolIsMeanPerChannel) {
  const Shape xs = {4, 3, 5};
  const Values x = random(xs);
  Values want;
  for (int64_t c = 0; c < 4; ++c)
    want.push_back(
        std::accumulate(x.begin() + c * 15, x.begin() + (c + 1) * 15, 0.0) /
        15.0);
  ASSERT_EQ(shapes::globalAvgpool(xs).shape, (Shape{4}));
  expectClose(shapes::globalAvgpoolValues(xs, x), want);
  // Equal to avgpool2d with the whole (square) image as the window.
  const Values sq = random({2, 4, 4});
  expectClose(shapes::globalAvgpoolValues({2, 4, 4}, sq),
              shapes::avgpool2dValues({2, 4, 4}, sq, 4, 1));
}

//===----------------------------------------------------------------------===//
// batchnorm
//===----------------------------------------------------------------------===//

TEST_F(ShapeValues, BatchnormByHand) {
  // eps 1. Channel 0: mean 1, var 3 -> (x - 1) / 2 * 4 + 0.5.
  // Channel 1: mean -2, var 0 -> (x + 2) / 1 * 1 - 1.
  EXPECT_EQ(shapes::batchnormValues({2, 2}, {3, 5, -2, 0}, {4, 1}, {0.5, -1},
                                    {1, -2}, {3, 0}, 1),
            (Values{4.5, 8.5, -1, 1}));
}

TEST_F(ShapeValues, BatchnormMatchesFoldedScaleAndShift) {
  // The folded form a compiler uses for plain parameters:
  // x * scale + shift with scale = gamma / sqrt(var + eps) and
  // shift = beta - mean * scale.
  for (const Shape &xs : {Shape{5}, Shape{3, 7}, Shape{4, 3, 5}}) {
    SCOPED_TRACE("x " + shapes::str(xs));
    const int64_t c = xs[0];
    const Values x = random(xs, -3, 3), gamma = random({c}, 0.5, 2),
                 beta = random({c}), mean = random({c}),
                 var = random({c}, 0.01, 4);
    const double eps = 1e-5;
    const int64_t inner = shapes::numElements(xs) / c;
    Values want(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t ch = i / size_t(inner);
      const double scale = gamma[ch] / std::sqrt(var[ch] + eps);
      want[i] = x[i] * scale + (beta[ch] - mean[ch] * scale);
    }
    expectClose(shapes::batchnormValues(xs, x, gamma, beta, mean, var, eps),
                want, 1e-12);
  }
}

} // namespace
