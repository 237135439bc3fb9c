//===- Shapes.cpp - Shape rules of the tensor operations ------------------===//

#include "cerium/DSL/Shapes.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cerium::shapes {

std::string str(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

int64_t numElements(const Shape &s) {
  return std::accumulate(s.begin(), s.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

bool normalizeAxis(int64_t &axis, size_t rank) {
  if (axis < 0)
    axis += static_cast<int64_t>(rank);
  return axis >= 0 && axis < static_cast<int64_t>(rank);
}

static std::string axisError(int64_t axis, const Shape &s) {
  return "axis " + std::to_string(axis) + " is out of range for shape " +
         str(s);
}

Result broadcast(const Shape &a, const Shape &b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      return Result::fail("shapes " + str(a) + " and " + str(b) +
                          " do not broadcast");
    out[out.size() - 1 - i] = da == 1 ? db : da;
  }
  return {out, ""};
}

Result matmul(const Shape &a, const Shape &b) {
  if (a.empty() || b.empty())
    return Result::fail("matmul needs operands of rank 1 or more");
  Shape x = a, y = b;
  if (x.size() == 1)
    x.insert(x.begin(), 1);
  if (y.size() == 1)
    y.push_back(1);
  if (x.back() != y[y.size() - 2])
    return Result::fail("matmul of " + str(a) + " and " + str(b) +
                        ": inner dimensions " + std::to_string(x.back()) +
                        " and " + std::to_string(y[y.size() - 2]) + " differ");
  Shape bx(x.begin(), x.end() - 2), by(y.begin(), y.end() - 2);
  Result batch = broadcast(bx, by);
  if (!batch.ok())
    return Result::fail("matmul of " + str(a) + " and " + str(b) +
                        ": batch dimensions do not broadcast");
  Shape out = batch.shape;
  if (a.size() > 1)
    out.push_back(x[x.size() - 2]);
  if (b.size() > 1)
    out.push_back(y.back());
  if (out.empty())
    out.push_back(1);
  return {out, ""};
}

Result transpose(const Shape &a, const std::vector<int64_t> &perm) {
  if (perm.empty())
    return {Shape(a.rbegin(), a.rend()), ""};
  if (perm.size() != a.size())
    return Result::fail("permutation of " + std::to_string(perm.size()) +
                        " axes for shape " + str(a));
  Shape out(a.size());
  std::vector<bool> seen(a.size(), false);
  for (size_t i = 0; i < perm.size(); ++i) {
    int64_t p = perm[i];
    if (!normalizeAxis(p, a.size()) || seen[p])
      return Result::fail("invalid permutation for shape " + str(a));
    seen[p] = true;
    out[i] = a[p];
  }
  return {out, ""};
}

Result reshape(const Shape &a, const std::vector<int64_t> &dims) {
  Shape out = dims;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (inferred >= 0)
        return Result::fail("reshape allows only one -1 dimension");
      inferred = static_cast<int64_t>(i);
    } else if (out[i] <= 0) {
      return Result::fail("reshape dimensions must be positive");
    } else {
      known *= out[i];
    }
  }
  int64_t total = numElements(a);
  if (inferred >= 0) {
    if (total % known != 0)
      return Result::fail("cannot reshape " + str(a) + " to " + str(dims));
    out[inferred] = total / known;
  }
  if (numElements(out) != total)
    return Result::fail("cannot reshape " + str(a) + " (" +
                        std::to_string(total) + " elements) to " + str(dims));
  return {out, ""};
}

Result index(const Shape &a) {
  if (a.empty())
    return Result::fail("cannot index a scalar");
  Shape out(a.begin() + 1, a.end());
  if (out.empty())
    out.push_back(1);
  return {out, ""};
}

Result slice(const Shape &a, int64_t lo, int64_t hi) {
  if (a.empty())
    return Result::fail("cannot slice a scalar");
  if (lo < 0 || hi > a[0] || lo >= hi)
    return Result::fail("slice [" + std::to_string(lo) + ":" +
                        std::to_string(hi) +
                        "] is empty or out of range for "
                        "shape " +
                        str(a));
  Shape out = a;
  out[0] = hi - lo;
  return {out, ""};
}

Result concat(const std::vector<Shape> &parts, int64_t axis) {
  if (parts.empty())
    return Result::fail("concat needs at least one tensor");
  Shape out = parts[0];
  if (!normalizeAxis(axis, out.size()))
    return Result::fail(axisError(axis, out));
  for (size_t i = 1; i < parts.size(); ++i) {
    const Shape &p = parts[i];
    bool same = p.size() == out.size();
    for (size_t d = 0; same && d < p.size(); ++d)
      same = static_cast<int64_t>(d) == axis || p[d] == out[d];
    if (!same)
      return Result::fail("cannot concatenate " + str(parts[0]) + " and " +
                          str(p) + " along axis " + std::to_string(axis));
    out[axis] += p[axis];
  }
  return {out, ""};
}

Result roll(const Shape &a, int64_t axis) {
  if (!normalizeAxis(axis, a.size()))
    return Result::fail(axisError(axis, a));
  return {a, ""};
}

Result reduce(const Shape &a, const int64_t *axis) {
  if (!axis)
    return {Shape{1}, ""};
  int64_t ax = *axis;
  if (!normalizeAxis(ax, a.size()))
    return Result::fail(axisError(*axis, a));
  Shape out = a;
  out.erase(out.begin() + ax);
  if (out.empty())
    out.push_back(1);
  return {out, ""};
}

Result linear(const Shape &x, const Shape &w, const Shape *b) {
  if (w.size() != 2)
    return Result::fail("linear weight must be 2-D [out, in], got " + str(w));
  Result y = matmul(x, {w[1], w[0]});
  if (!y.ok())
    return Result::fail("linear of input " + str(x) + " with weight " + str(w) +
                        ": the input's last dimension must be " +
                        std::to_string(w[1]));
  if (b) {
    Result r = broadcast(y.shape, *b);
    if (!r.ok() || r.shape != y.shape)
      return Result::fail("linear bias " + str(*b) +
                          " does not match the output " + str(y.shape));
  }
  return y;
}

static int64_t convOut(int64_t in, int64_t k, int64_t stride, int64_t pad) {
  return (in + 2 * pad - k) / stride + 1;
}

Result conv2d(const Shape &x, const Shape &w, const Shape *b, int64_t stride,
              int64_t padding, int64_t groups) {
  if (x.size() != 3)
    return Result::fail("conv2d input must be [C, H, W], got " + str(x));
  if (w.size() != 4)
    return Result::fail("conv2d weight must be [O, C/groups, kh, kw], got " +
                        str(w));
  if (stride < 1 || padding < 0 || groups < 1)
    return Result::fail("conv2d needs stride >= 1, padding >= 0, groups >= 1");
  if (x[0] % groups != 0 || w[0] % groups != 0 || w[1] * groups != x[0])
    return Result::fail("conv2d weight " + str(w) + " does not fit input " +
                        str(x) + " with groups = " + std::to_string(groups));
  int64_t h = convOut(x[1], w[2], stride, padding);
  int64_t wd = convOut(x[2], w[3], stride, padding);
  if (h < 1 || wd < 1)
    return Result::fail("conv2d kernel " + str(w) +
                        " is larger than the "
                        "padded input " +
                        str(x));
  if (b && (b->size() != 1 || (*b)[0] != w[0]))
    return Result::fail("conv2d bias must be [" + std::to_string(w[0]) +
                        "], got " + str(*b));
  return {Shape{w[0], h, wd}, ""};
}

Result avgpool2d(const Shape &x, int64_t kernel, int64_t stride) {
  if (x.size() != 3)
    return Result::fail("avgpool2d input must be [C, H, W], got " + str(x));
  if (kernel < 1 || stride < 1)
    return Result::fail("avgpool2d needs kernel >= 1 and stride >= 1");
  if (kernel > x[1] || kernel > x[2])
    return Result::fail("avgpool2d kernel " + std::to_string(kernel) +
                        " does not fit input " + str(x));
  return {Shape{x[0], convOut(x[1], kernel, stride, 0),
                convOut(x[2], kernel, stride, 0)},
          ""};
}

Result globalAvgpool(const Shape &x) {
  if (x.size() != 3)
    return Result::fail("global_avgpool input must be [C, H, W], got " +
                        str(x));
  return {Shape{x[0]}, ""};
}

Result batchnorm(const Shape &x, const Shape &param) {
  if (x.empty() || param != Shape{x[0]})
    return Result::fail("batchnorm parameters must be [" +
                        (x.empty() ? std::string("C") : std::to_string(x[0])) +
                        "] for input " + str(x) + ", got " + str(param));
  return {x, ""};
}

Result lastAxisNorm(const Shape &x, const Shape &param) {
  if (x.empty() || param != Shape{x.back()})
    return Result::fail(
        "normalization parameters must be [" +
        (x.empty() ? std::string("N") : std::to_string(x.back())) +
        "] for input " + str(x) + ", got " + str(param));
  return {x, ""};
}

std::vector<int64_t> strides(const Shape &s) {
  std::vector<int64_t> out(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;)
    out[i - 1] = out[i] * s[i];
  return out;
}

std::vector<int64_t> paddedPositions(const Shape &shape, const Shape &padded) {
  return stridedPositions(shape, strides(padded));
}

std::vector<int64_t> stridedPositions(const Shape &shape,
                                      const std::vector<int64_t> &strides) {
  std::vector<int64_t> out(static_cast<size_t>(numElements(shape)));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t flat = static_cast<int64_t>(i), pos = 0;
    for (size_t d = shape.size(); d-- > 0;) {
      pos += (flat % shape[d]) * strides[d];
      flat /= shape[d];
    }
    out[i] = pos;
  }
  return out;
}

std::vector<double> broadcastValues(const Shape &from,
                                    const std::vector<double> &values,
                                    const Shape &to) {
  const size_t n = static_cast<size_t>(numElements(to));
  std::vector<double> out(n);
  auto toStrides = strides(to), fromStrides = strides(from);
  const size_t offset = to.size() - from.size();
  for (size_t flat = 0; flat < n; ++flat) {
    size_t src = 0;
    for (size_t d = offset; d < to.size(); ++d) {
      int64_t idx = (int64_t(flat) / toStrides[d]) % to[d];
      if (from[d - offset] != 1)
        src += size_t(idx * fromStrides[d - offset]);
    }
    out[flat] = values[src];
  }
  return out;
}

std::vector<double> reduceValues(const Shape &s,
                                 const std::vector<double> &values,
                                 const int64_t *axis, bool mean) {
  if (!axis) {
    double total = 0;
    for (double v : values)
      total += v;
    return {mean ? total / double(values.size()) : total};
  }
  int64_t a = *axis;
  normalizeAxis(a, s.size());
  const int64_t stride = strides(s)[a], na = s[a];
  std::vector<double> out(values.size() / size_t(na), 0.0);
  for (int64_t i = 0; i < int64_t(values.size()); ++i)
    out[size_t(i / (stride * na) * stride + i % stride)] += values[size_t(i)];
  if (mean)
    for (double &v : out)
      v /= double(na);
  return out;
}

std::vector<double> rollValues(const Shape &s,
                               const std::vector<double> &values, int64_t shift,
                               int64_t axis) {
  normalizeAxis(axis, s.size());
  const int64_t na = s[axis], stride = strides(s)[axis];
  const int64_t k = ((shift % na) + na) % na;
  std::vector<double> out(values.size());
  for (int64_t i = 0; i < int64_t(values.size()); ++i) {
    int64_t idx = (i / stride) % na;
    out[size_t(i)] = values[size_t(i + (((idx - k + na) % na) - idx) * stride)];
  }
  return out;
}

std::vector<int64_t> broadcastSources(const Shape &from, const Shape &to) {
  const auto fromStrides = strides(from);
  const size_t offset = to.size() - from.size();
  std::vector<int64_t> out(static_cast<size_t>(numElements(to)));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i), src = 0;
    for (size_t d = to.size(); d-- > offset;) {
      const int64_t idx = rest % to[d];
      rest /= to[d];
      if (from[d - offset] != 1)
        src += idx * fromStrides[d - offset];
    }
    out[i] = src;
  }
  return out;
}

std::vector<double> transposeValues(const Shape &s,
                                    const std::vector<double> &values,
                                    const std::vector<int64_t> &perm) {
  const size_t rank = s.size();
  // Result axis d walks input axis axes[d].
  std::vector<int64_t> axes(rank);
  for (size_t d = 0; d < rank; ++d) {
    axes[d] = perm.empty() ? static_cast<int64_t>(rank - 1 - d) : perm[d];
    normalizeAxis(axes[d], rank);
  }
  Shape outShape(rank);
  for (size_t d = 0; d < rank; ++d)
    outShape[d] = s[size_t(axes[d])];
  const auto inStrides = strides(s);
  std::vector<double> out(values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i), src = 0;
    for (size_t d = rank; d-- > 0;) {
      src += (rest % outShape[d]) * inStrides[size_t(axes[d])];
      rest /= outShape[d];
    }
    out[i] = values[size_t(src)];
  }
  return out;
}

std::vector<double> concatValues(const std::vector<Shape> &shapes,
                                 const std::vector<std::vector<double>> &parts,
                                 int64_t axis) {
  if (shapes.empty())
    return {};
  normalizeAxis(axis, shapes[0].size());
  // Row-major order puts each part's block of the axes from `axis` on
  // contiguously, once per index of the axes before it.
  const Shape &first = shapes[0];
  const int64_t outer = numElements(Shape(first.begin(), first.begin() + axis));
  size_t total = 0;
  for (const auto &p : parts)
    total += p.size();
  std::vector<double> out;
  out.reserve(total);
  for (int64_t o = 0; o < outer; ++o)
    for (size_t p = 0; p < parts.size(); ++p) {
      const int64_t block =
          numElements(Shape(shapes[p].begin() + axis, shapes[p].end()));
      auto begin = parts[p].begin() + o * block;
      out.insert(out.end(), begin, begin + block);
    }
  return out;
}

std::vector<double> matmulValues(const Shape &as, const std::vector<double> &a,
                                 const Shape &bs,
                                 const std::vector<double> &b) {
  // Promote 1-D operands to matrices; the result's row-major order is the
  // same whether or not the promoted axes (of extent 1) are removed.
  Shape x = as, y = bs;
  if (x.size() == 1)
    x.insert(x.begin(), 1);
  if (y.size() == 1)
    y.push_back(1);
  const int64_t rows = x[x.size() - 2], inner = x.back(), cols = y.back();
  const Shape xBatch(x.begin(), x.end() - 2), yBatch(y.begin(), y.end() - 2);
  const Shape batch = broadcast(xBatch, yBatch).shape;
  const auto xSources = broadcastSources(xBatch, batch);
  const auto ySources = broadcastSources(yBatch, batch);
  std::vector<double> out(xSources.size() * size_t(rows * cols));
  for (size_t t = 0; t < xSources.size(); ++t) {
    const double *lhs = a.data() + xSources[t] * rows * inner;
    const double *rhs = b.data() + ySources[t] * inner * cols;
    double *res = out.data() + int64_t(t) * rows * cols;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        double acc = 0;
        for (int64_t k = 0; k < inner; ++k)
          acc += lhs[r * inner + k] * rhs[k * cols + c];
        res[r * cols + c] = acc;
      }
  }
  return out;
}

std::vector<double> linearValues(const Shape &xs, const std::vector<double> &x,
                                 const Shape &ws, const std::vector<double> &w,
                                 const Shape *biasShape,
                                 const std::vector<double> *bias) {
  const int64_t rows = numElements(xs) / ws[1];
  std::vector<double> out(size_t(rows * ws[0]));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < ws[0]; ++o) {
      double acc = 0;
      for (int64_t k = 0; k < ws[1]; ++k)
        acc += x[size_t(r * ws[1] + k)] * w[size_t(o * ws[1] + k)];
      out[size_t(r * ws[0] + o)] = acc;
    }
  if (bias) {
    Shape result = xs;
    result.back() = ws[0];
    const auto b = broadcastValues(*biasShape, *bias, result);
    for (size_t i = 0; i < out.size(); ++i)
      out[i] += b[i];
  }
  return out;
}

std::vector<double> conv2dValues(const Shape &xs, const std::vector<double> &x,
                                 const Shape &ws, const std::vector<double> &w,
                                 const std::vector<double> *bias,
                                 int64_t stride, int64_t padding,
                                 int64_t groups) {
  const int64_t height = xs[1], width = xs[2];
  const int64_t outChannels = ws[0], groupChannels = ws[1], kh = ws[2],
                kw = ws[3];
  const int64_t outPerGroup = outChannels / groups;
  const int64_t outH = convOut(height, kh, stride, padding);
  const int64_t outW = convOut(width, kw, stride, padding);
  std::vector<double> out(size_t(outChannels * outH * outW));
  for (int64_t o = 0; o < outChannels; ++o) {
    // Output channel o sees only the input channels of its group.
    const int64_t firstIn = (o / outPerGroup) * groupChannels;
    for (int64_t i = 0; i < outH; ++i)
      for (int64_t j = 0; j < outW; ++j) {
        double acc = bias ? (*bias)[size_t(o)] : 0.0;
        for (int64_t c = 0; c < groupChannels; ++c)
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t iy = i * stride + ky - padding;
            if (iy < 0 || iy >= height)
              continue; // zero padding
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t ix = j * stride + kx - padding;
              if (ix < 0 || ix >= width)
                continue;
              acc += x[size_t(((firstIn + c) * height + iy) * width + ix)] *
                     w[size_t(((o * groupChannels + c) * kh + ky) * kw + kx)];
            }
          }
        out[size_t((o * outH + i) * outW + j)] = acc;
      }
  }
  return out;
}

std::vector<double> avgpool2dValues(const Shape &xs,
                                    const std::vector<double> &x,
                                    int64_t kernel, int64_t stride) {
  const int64_t channels = xs[0], height = xs[1], width = xs[2];
  const int64_t outH = convOut(height, kernel, stride, 0);
  const int64_t outW = convOut(width, kernel, stride, 0);
  const double area = double(kernel * kernel);
  std::vector<double> out(size_t(channels * outH * outW));
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < outH; ++i)
      for (int64_t j = 0; j < outW; ++j) {
        double acc = 0;
        for (int64_t ky = 0; ky < kernel; ++ky)
          for (int64_t kx = 0; kx < kernel; ++kx)
            acc += x[size_t((c * height + i * stride + ky) * width +
                            j * stride + kx)];
        out[size_t((c * outH + i) * outW + j)] = acc / area;
      }
  return out;
}

std::vector<double> globalAvgpoolValues(const Shape &xs,
                                        const std::vector<double> &x) {
  const int64_t channels = xs[0];
  const int64_t area = numElements(xs) / channels;
  std::vector<double> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    double acc = 0;
    for (int64_t i = 0; i < area; ++i)
      acc += x[size_t(c * area + i)];
    out[size_t(c)] = acc / double(area);
  }
  return out;
}

std::vector<double> batchnormValues(const Shape &xs,
                                    const std::vector<double> &x,
                                    const std::vector<double> &gamma,
                                    const std::vector<double> &beta,
                                    const std::vector<double> &mean,
                                    const std::vector<double> &var,
                                    double eps) {
  const int64_t channels = xs[0];
  const int64_t inner = numElements(xs) / channels;
  std::vector<double> out(x.size());
  for (int64_t c = 0; c < channels; ++c) {
    const size_t k = size_t(c);
    const double scale = std::sqrt(var[k] + eps);
    for (int64_t i = 0; i < inner; ++i) {
      const size_t at = size_t(c * inner + i);
      out[at] = (x[at] - mean[k]) / scale * gamma[k] + beta[k];
    }
  }
  return out;
}

} // namespace cerium::shapes
