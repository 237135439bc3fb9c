//===- ReferenceEvaluator.cpp - The reference meaning in float64 ----------===//

#include "cerium/Runtime/ReferenceEvaluator.h"
#include "cerium/DSL/Functions.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/FHE/IR/Approximations.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Support/Error.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace cerium::runtime {

using namespace mlir;
using shapes::Shape;

namespace {

Shape shapeOfValue(Value v) {
  auto s = fhe::shapeOf(v.getType());
  return Shape(s.begin(), s.end());
}

} // namespace

namespace {

/// The op's approximation (fhe::approximationOf), or a one-line error that
/// names its source line.
approx::Approximation approximationOf(Operation &op, double precision) {
  auto result = fhe::approximationOf(op, precision);
  if (auto *why = std::get_if<std::string>(&result)) {
    std::string where;
    if (auto fl = dyn_cast<FileLineColLoc>(op.getLoc()))
      where = "line " + std::to_string(fl.getLine()) + ": ";
    throw Error(where + *why);
  }
  return std::get<approx::Approximation>(std::move(result));
}

} // namespace

std::vector<NpyArray> evaluateReference(func::FuncOp main,
                                        const std::vector<NpyArray> &inputs,
                                        const ReferenceOptions &options) {
  llvm::DenseMap<Value, std::vector<double>> vals;
  for (auto [arg, in] : llvm::zip(main.getArguments(), inputs))
    vals[arg] = in.values;
  std::vector<NpyArray> results;
  auto get = [&](Value v) -> const std::vector<double> & {
    return vals.find(v)->second;
  };
  for (Operation &op : main.getBody().front()) {
    auto binary = [&](auto f) {
      Shape out = shapeOfValue(op.getResult(0));
      auto x = shapes::broadcastValues(shapeOfValue(op.getOperand(0)),
                                       get(op.getOperand(0)), out);
      auto y = shapes::broadcastValues(shapeOfValue(op.getOperand(1)),
                                       get(op.getOperand(1)), out);
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = f(x[i], y[i]);
      vals[op.getResult(0)] = std::move(x);
    };
    auto unary = [&](auto f) {
      std::vector<double> x = get(op.getOperand(0));
      for (double &v : x)
        v = f(v);
      vals[op.getResult(0)] = std::move(x);
    };
    llvm::TypeSwitch<Operation *>(&op)
        .Case<fhe::ConstantOp>([&](auto c) {
          vals[c.getResult()] =
              std::vector<double>(c.getValues().begin(), c.getValues().end());
        })
        .Case<fhe::AddOp>([&](auto) { binary(std::plus<double>()); })
        .Case<fhe::SubOp>([&](auto) { binary(std::minus<double>()); })
        .Case<fhe::MulOp>([&](auto) { binary(std::multiplies<double>()); })
        .Case<fhe::DivOp>([&](auto) { binary(std::divides<double>()); })
        .Case<fhe::NegOp>([&](auto) { unary([](double v) { return -v; }); })
        .Case<fhe::NonlinearOp>([&](auto n) {
          // The compiler folds a nonlinear function of a plaintext exactly.
          if (!options.approx || !fhe::isCipher(n.getInput().getType())) {
            unary([&](double v) {
              return dsl::evaluateNonlinear(n.getFunction(), v);
            });
            return;
          }
          auto a = approximationOf(op, options.precision);
          unary([&](double v) { return approx::evaluate(a, v); });
        })
        .Case<fhe::PolyOp>([&](auto p) {
          bool cheb = p.getBasis() == "chebyshev";
          double lo = p.getRange()[0], hi = p.getRange()[1];
          unary([&](double v) {
            return dsl::evaluatePolynomial(p.getCoefficients(), cheb, lo, hi,
                                           v);
          });
        })
        .Case<fhe::MaxMinOp>([&](auto m) {
          bool isMax = m.getIsMax();
          bool cl = fhe::isCipher(m.getLhs().getType()),
               cr = fhe::isCipher(m.getRhs().getType());
          if (!options.approx || (!cl && !cr)) {
            binary([&](double a, double b) {
              return isMax ? std::max(a, b) : std::min(a, b);
            });
            return;
          }
          // As lowered: (a + b) / 2 +- |a - b| / 2, the difference taken
          // from the cipher operand.
          auto abs = approximationOf(op, options.precision);
          const double half = isMax ? 0.5 : -0.5;
          binary([&](double a, double b) {
            double magnitude = approx::evaluate(abs, cl ? a - b : b - a);
            return (a + b) * 0.5 + magnitude * half;
          });
        })
        .Case<fhe::BootstrapOp, fhe::ReshapeOp>([&](auto) {
          // A copy first: get() refers into the map that operator[]
          // may grow.
          std::vector<double> x = get(op.getOperand(0));
          vals[op.getResult(0)] = std::move(x);
        })
        .Case<fhe::RollOp>([&](auto r) {
          vals[r.getResult()] =
              shapes::rollValues(shapeOfValue(r.getInput()), get(r.getInput()),
                                 static_cast<int64_t>(r.getShift()),
                                 static_cast<int64_t>(r.getAxis()));
        })
        .Case<fhe::SumOp, fhe::MeanOp>([&](auto r) {
          std::optional<int64_t> axis;
          if (r.getAxis())
            axis = static_cast<int64_t>(*r.getAxis());
          vals[r.getResult()] = shapes::reduceValues(
              shapeOfValue(r.getInput()), get(r.getInput()),
              axis ? &*axis : nullptr, isa<fhe::MeanOp>(op));
        })
        .Case<fhe::SliceOp>([&](auto s) {
          Shape in = shapeOfValue(s.getInput());
          int64_t inner = shapes::numElements(in) / in[0];
          const auto &x = get(s.getInput());
          vals[s.getResult()] =
              std::vector<double>(x.begin() + int64_t(s.getLo()) * inner,
                                  x.begin() + int64_t(s.getHi()) * inner);
        })
        .Case<fhe::IndexOp>([&](auto s) {
          Shape in = shapeOfValue(s.getInput());
          int64_t inner = shapes::numElements(in) / in[0];
          const auto &x = get(s.getInput());
          int64_t i = static_cast<int64_t>(s.getIndex());
          vals[s.getResult()] = std::vector<double>(
              x.begin() + i * inner, x.begin() + (i + 1) * inner);
        })
        .Case<fhe::LinearOp>([&](auto l) {
          std::optional<Shape> biasShape;
          if (l.getBias())
            biasShape = shapeOfValue(l.getBias());
          std::vector<double> out = shapes::linearValues(
              shapeOfValue(l.getInput()), get(l.getInput()),
              shapeOfValue(l.getWeight()), get(l.getWeight()),
              biasShape ? &*biasShape : nullptr,
              l.getBias() ? &get(l.getBias()) : nullptr);
          vals[l.getResult()] = std::move(out);
        })
        // The helpers below may read through get() without a copy: the
        // right-hand side of `=` is evaluated before vals[] can grow the map.
        .Case<fhe::TransposeOp>([&](auto t) {
          std::vector<int64_t> perm(t.getPerm().begin(), t.getPerm().end());
          vals[t.getResult()] = shapes::transposeValues(
              shapeOfValue(t.getInput()), get(t.getInput()), perm);
        })
        .Case<fhe::ConcatOp>([&](auto c) {
          std::vector<Shape> partShapes;
          std::vector<std::vector<double>> parts;
          for (Value v : c.getInputs()) {
            partShapes.push_back(shapeOfValue(v));
            parts.push_back(get(v));
          }
          // The attribute holds the axis as written, possibly negative.
          int64_t axis = static_cast<int64_t>(c.getAxis());
          shapes::normalizeAxis(axis, partShapes.front().size());
          vals[c.getResult()] = shapes::concatValues(partShapes, parts, axis);
        })
        .Case<fhe::MatMulOp>([&](auto m) {
          vals[m.getResult()] =
              shapes::matmulValues(shapeOfValue(m.getLhs()), get(m.getLhs()),
                                   shapeOfValue(m.getRhs()), get(m.getRhs()));
        })
        .Case<fhe::Conv2dOp>([&](auto c) {
          const std::vector<double> *bias =
              c.getBias() ? &get(c.getBias()) : nullptr;
          vals[c.getResult()] = shapes::conv2dValues(
              shapeOfValue(c.getInput()), get(c.getInput()),
              shapeOfValue(c.getWeight()), get(c.getWeight()), bias,
              static_cast<int64_t>(c.getStride()),
              static_cast<int64_t>(c.getPadding()),
              static_cast<int64_t>(c.getGroups()));
        })
        .Case<fhe::AvgPool2dOp>([&](auto a) {
          vals[a.getResult()] = shapes::avgpool2dValues(
              shapeOfValue(a.getInput()), get(a.getInput()),
              static_cast<int64_t>(a.getKernel()),
              static_cast<int64_t>(a.getStride()));
        })
        .Case<fhe::GlobalAvgPoolOp>([&](auto g) {
          vals[g.getResult()] = shapes::globalAvgpoolValues(
              shapeOfValue(g.getInput()), get(g.getInput()));
        })
        .Case<fhe::BatchNormOp>([&](auto b) {
          vals[b.getResult()] = shapes::batchnormValues(
              shapeOfValue(b.getInput()), get(b.getInput()), get(b.getGamma()),
              get(b.getBeta()), get(b.getMean()), get(b.getVariance()),
              b.getEps().convertToDouble());
        })
        .Case<func::ReturnOp>([&](auto r) {
          for (Value v : r.getOperands())
            results.push_back({shapeOfValue(v), get(v)});
        })
        .Default([&](Operation *o) {
          throw Error("the reference evaluation of '" +
                      o->getName().getStringRef().str() +
                      "' is not implemented yet");
        });
  }
  return results;
}

} // namespace cerium::runtime
