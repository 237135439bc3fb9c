//===- Shapes.h - Shape rules of the tensor operations ----------*- C++ -*-===//
//
// One definition of every shape rule of DSL.md (NumPy broadcasting, matmul,
// layers, reductions). Semantic analysis uses it to report shape errors in
// source terms, and the fhe dialect's verifiers use it to check IR, so the
// two can never disagree. Each rule returns the result shape, or an error
// sentence naming both shapes.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DSL_SHAPES_H
#define CERIUM_DSL_SHAPES_H

#include <cstdint>
#include <string>
#include <vector>

namespace cerium::shapes {

using Shape = std::vector<int64_t>;

/// A shape, or why there is none.
struct Result {
  Shape shape;
  std::string error; // empty on success
  bool ok() const { return error.empty(); }
  static Result fail(std::string why) { return {{}, std::move(why)}; }
};

/// "[4, 16]".
std::string str(const Shape &s);
int64_t numElements(const Shape &s);

/// NumPy broadcasting of two shapes (elementwise + - * /).
Result broadcast(const Shape &a, const Shape &b);
/// NumPy matmul (1-D operands are promoted and the added axis removed).
Result matmul(const Shape &a, const Shape &b);
/// Permutation of the axes; an empty perm reverses them (a.T).
Result transpose(const Shape &a, const std::vector<int64_t> &perm);
/// Same element count; one dimension may be -1 (inferred).
Result reshape(const Shape &a, const std::vector<int64_t> &dims);
/// Removes the first axis (a[i]); a 1-D operand gives [1].
Result index(const Shape &a);
/// a[lo:hi] on the first axis, bounds already clamped to [0, a[0]].
Result slice(const Shape &a, int64_t lo, int64_t hi);
Result concat(const std::vector<Shape> &parts, int64_t axis);
/// Checks the axis (negative counts from the end); same shape.
Result roll(const Shape &a, int64_t axis);
/// sum/mean over one axis (removed), or over all (axis = nullopt -> [1]).
Result reduce(const Shape &a, const int64_t *axis);
/// linear(x, W, b): x @ W.T + b.
Result linear(const Shape &x, const Shape &w, const Shape *b);
/// conv2d with x [C, H, W], W [O, C/groups, kh, kw].
Result conv2d(const Shape &x, const Shape &w, const Shape *b, int64_t stride,
              int64_t padding, int64_t groups);
Result avgpool2d(const Shape &x, int64_t kernel, int64_t stride);
Result globalAvgpool(const Shape &x);
/// batchnorm over the channel axis 0 of x [C, ...]: parameters of shape [C].
Result batchnorm(const Shape &x, const Shape &param);
/// layernorm/rmsnorm over the last axis: parameters of shape [last].
Result lastAxisNorm(const Shape &x, const Shape &param);
/// Normalizes a possibly negative axis; false if out of range.
bool normalizeAxis(int64_t &axis, size_t rank);

// Row-major value helpers shared by compile-time folding and the float64
// reference evaluator.

/// Strides (in elements) of a row-major shape.
std::vector<int64_t> strides(const Shape &s);
/// The position of each element of `shape` (row-major order) in the
/// row-major order of `padded` (same rank, each extent >= shape's): where a
/// tensor laid out with padded rows keeps its elements.
std::vector<int64_t> paddedPositions(const Shape &shape, const Shape &padded);
/// The position sum_k i_k * strides[k] of each element i of `shape`
/// (row-major order): where a tensor laid out with explicit per-axis
/// strides (e.g. a strided convolution's output kept in its input's grid)
/// keeps its elements.
std::vector<int64_t> stridedPositions(const Shape &shape,
                                      const std::vector<int64_t> &strides);
/// For each element of `to` (row-major), the flat index of the element of
/// `from` that NumPy broadcasting reads for it (`to` must be the broadcast
/// shape).
std::vector<int64_t> broadcastSources(const Shape &from, const Shape &to);
/// `values` of shape `from` broadcast to `to` (NumPy rules; `to` must be
/// the broadcast shape).
std::vector<double> broadcastValues(const Shape &from,
                                    const std::vector<double> &values,
                                    const Shape &to);
/// numpy.sum (or mean) over `axis`, or over everything when axis is null
/// (result [1]), for a tensor of shape `s`.
std::vector<double> reduceValues(const Shape &s,
                                 const std::vector<double> &values,
                                 const int64_t *axis, bool mean);
/// numpy.roll(values, shift, axis) for a tensor of shape `s`.
std::vector<double> rollValues(const Shape &s,
                               const std::vector<double> &values, int64_t shift,
                               int64_t axis);
/// numpy.transpose(values, perm) for a tensor of shape `s`; an empty perm
/// reverses the axes (a.T), negative entries count from the end.
std::vector<double> transposeValues(const Shape &s,
                                    const std::vector<double> &values,
                                    const std::vector<int64_t> &perm);
/// numpy.concatenate(parts, axis): `shapes[i]` is the shape of `parts[i]`;
/// a negative axis counts from the end.
std::vector<double> concatValues(const std::vector<Shape> &shapes,
                                 const std::vector<std::vector<double>> &parts,
                                 int64_t axis);
/// numpy.matmul(a, b): a 1-D `a` is a row and a 1-D `b` a column, those
/// added axes are removed from the result, and the batch axes broadcast.
/// The values are laid out as shapes::matmul(as, bs) says ([n] @ [n] -> [1]).
std::vector<double> matmulValues(const Shape &as, const std::vector<double> &a,
                                 const Shape &bs, const std::vector<double> &b);
/// linear(x, W, b) = x @ W.T + b for x [..., n] and W [m, n]; the bias
/// (null for none) broadcasts to the result [..., m].
std::vector<double> linearValues(const Shape &xs, const std::vector<double> &x,
                                 const Shape &ws, const std::vector<double> &w,
                                 const Shape *biasShape,
                                 const std::vector<double> *bias);
/// torch.nn.functional.conv2d on one image x [C, H, W] with weight
/// [O, C/groups, kh, kw], an optional bias [O] (null for none), zero padding
/// on all four sides; the result is [O, Ho, Wo] as shapes::conv2d says.
std::vector<double> conv2dValues(const Shape &xs, const std::vector<double> &x,
                                 const Shape &ws, const std::vector<double> &w,
                                 const std::vector<double> *bias,
                                 int64_t stride, int64_t padding,
                                 int64_t groups);
/// torch.nn.AvgPool2d(kernel, stride) without padding on x [C, H, W]:
/// windows that would overhang the bottom or right edge are dropped.
std::vector<double> avgpool2dValues(const Shape &xs,
                                    const std::vector<double> &x,
                                    int64_t kernel, int64_t stride);
/// The mean of each channel of x [C, H, W] -> [C].
std::vector<double> globalAvgpoolValues(const Shape &xs,
                                        const std::vector<double> &x);
/// Eval-mode batch normalization of x [C, ...] over channel axis 0, with
/// per-channel parameters of shape [C]:
/// (x - mean) / sqrt(var + eps) * gamma + beta.
std::vector<double> batchnormValues(const Shape &xs,
                                    const std::vector<double> &x,
                                    const std::vector<double> &gamma,
                                    const std::vector<double> &beta,
                                    const std::vector<double> &mean,
                                    const std::vector<double> &var, double eps);

} // namespace cerium::shapes

#endif // CERIUM_DSL_SHAPES_H
