//===- AssignPrecision.cpp - Error budgets of approximations --------------===//
//
// How precise each approximated function must be so that the program's
// outputs meet its precision: an error e at an op's result moves the outputs
// by at most G e, G found backward over the program from per-op bounds of
// the infinity-norm gain (docs/architecture.md, "Approximations").
//
//===----------------------------------------------------------------------===//

#include "cerium/DSL/Functions.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/FHE/Transforms/Passes.h"
#include "cerium/Dialect/FHE/Transforms/PlainValues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

using namespace mlir;

namespace cerium::fhe {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Interval {
  double lo = -kInf, hi = kInf;
  double magnitude() const { return std::max(std::fabs(lo), std::fabs(hi)); }
};

Interval hull(Interval a, Interval b) {
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

/// f on [lo, hi] at 4096 steps: its image (unknown if not finite) and a
/// Lipschitz estimate (the largest difference quotient, times 1.05).
struct Sampled {
  Interval image;
  double lipschitz;
};
template <class F> Sampled sample(F f, double lo, double hi) {
  dsl::SampledFunction s = dsl::sampleFunction(f, lo, hi, 4096);
  Interval image{s.lo, s.hi};
  if (!std::isfinite(image.lo) || !std::isfinite(image.hi))
    image = {};
  return {image, std::isfinite(s.slope) ? 1.05 * s.slope : kInf};
}

class Analysis {
public:
  explicit Analysis(func::FuncOp main) : main(main) {}

  LogicalResult run(double precision) {
    if (failed(checkBatchNorms()))
      return failure();
    // An approximation's declared range is the source's statement that its
    // operand lies there: it bounds that value wherever it is used.
    for (Operation &op : main.getBody().front()) {
      std::optional<ArrayRef<double>> declared;
      if (auto n = dyn_cast<NonlinearOp>(op))
        declared = n.getRange();
      else if (auto p = dyn_cast<PolyOp>(op))
        declared = p.getRange();
      if (declared && declared->size() == 2)
        declare(op.getOperand(0), {(*declared)[0], (*declared)[1]});
      // So is an `assume` of its result.
      if (auto assumed = op.getAttrOfType<DenseF64ArrayAttr>(kAssumedAttr))
        declare(op.getResult(0), {assumed[0], assumed[1]});
    }
    for (BlockArgument a : main.getArguments()) {
      if (auto r = main.getArgAttrOfType<DenseF64ArrayAttr>(a.getArgNumber(),
                                                            "fhe.range"))
        ranges[a] = {r[0], r[1]};
      tighten(a);
    }
    for (Operation &op : main.getBody().front())
      forward(op);
    recordBounds();
    // Backward, once per output: the gain of every value to it. Errors at
    // different outputs do not add up, so each output splits the budget
    // among the approximations that reach it, and an op takes its
    // tightest share. Calls with a precision of their own (the source's
    // `precision = e`) keep it and take no share.
    std::vector<Operation *> approximated;
    for (Operation &op : main.getBody().front())
      if (isa<NonlinearOp, MaxMinOp>(op) &&
          isCipher(op.getResult(0).getType()) && !op.hasAttr(kPrecisionAttr))
        approximated.push_back(&op);
    llvm::DenseMap<Operation *, double> targets;
    Operation *ret = main.getBody().front().getTerminator();
    for (Value output : ret->getOperands()) {
      llvm::DenseMap<Value, double> gains;
      gains[output] = 1;
      for (Operation &op : llvm::reverse(main.getBody().front())) {
        if (op.getNumResults() != 1)
          continue;
        const double g = gains.lookup(op.getResult(0));
        if (g == 0)
          continue;
        for (auto [i, operand] : llvm::enumerate(op.getOperands()))
          if (isCipher(operand.getType()))
            gains[operand] += g * localGain(op, unsigned(i));
      }
      double reaching = 0;
      for (Operation *op : approximated)
        reaching += gains.lookup(op->getResult(0)) > 0;
      for (Operation *op : approximated) {
        double g = gains.lookup(op->getResult(0));
        if (g == 0)
          continue;
        if (!std::isfinite(g))
          g = 1;
        // Never looser than the program's own precision.
        const double share = precision / (2 * reaching * std::max(g, 0.5));
        auto [it, fresh] = targets.try_emplace(op, share);
        if (!fresh)
          it->second = std::min(it->second, share);
      }
    }
    for (Operation *op : approximated)
      if (targets.count(op))
        op->setAttr(kPrecisionAttr,
                    Builder(op).getF64FloatAttr(targets.lookup(op)));
    return success();
  }

private:
  /// A batchnorm divides by sqrt(var + eps): where the variances are known,
  /// each must keep that positive (else its channel's outputs are NaN).
  LogicalResult checkBatchNorms() {
    for (Operation &op : main.getBody().front()) {
      auto bn = dyn_cast<BatchNormOp>(op);
      const std::vector<double> *var =
          bn ? plainValues(bn.getVariance()) : nullptr;
      if (!var)
        continue;
      const double eps = bn.getEps().convertToDouble();
      for (size_t c = 0; c < var->size(); ++c)
        if (!((*var)[c] + eps > 0) || !std::isfinite((*var)[c] + eps)) {
          std::ostringstream sum;
          sum << (*var)[c] << " + " << eps;
          return bn.emitError("batchnorm's var + eps must be positive and "
                              "finite: channel ")
                 << c << " has " << sum.str();
        }
    }
    return success();
  }

  /// Two calls on one value: the hull of their ranges (each holds the
  /// value only as far as its own approximation is concerned).
  void declare(Value v, Interval declared) {
    auto [it, fresh] = asserted.try_emplace(v, declared);
    if (!fresh)
      it->second = hull(it->second, declared);
  }

  /// v's interval narrowed to what the source declares of it.
  void tighten(Value v) {
    auto it = asserted.find(v);
    if (it == asserted.end())
      return;
    Interval r = range(v),
             both{std::max(r.lo, it->second.lo), std::min(r.hi, it->second.hi)};
    // Disjoint: the declaration is what the approximation is built for.
    ranges[v] = both.lo <= both.hi ? both : it->second;
  }

  /// fhe.bound on every op of main whose cipher result the analysis bounds:
  /// its largest magnitude, which a bootstrap of that value must cover
  /// (values without one are taken to lie in [-1, 1]). Cipher inputs without
  /// a declared range count as [-1, 1] here, so that what is computed from
  /// them is bounded (a sum of 512 of them by 512); the approximations'
  /// budgets keep the ranges the source states.
  void recordBounds() {
    llvm::DenseMap<Value, Interval> stated = ranges;
    bool undeclared = false;
    for (BlockArgument a : main.getArguments())
      if (isCipher(a.getType()) && !ranges.count(a)) {
        ranges[a] = {-1, 1};
        undeclared = true;
      }
    if (undeclared)
      for (Operation &op : main.getBody().front())
        forward(op);
    Builder b(main);
    main.walk([&](Operation *op) {
      if (op->getNumResults() != 1 || !isCipher(op->getResult(0).getType()))
        return;
      const double m = range(op->getResult(0)).magnitude();
      if (std::isfinite(m))
        op->setAttr(kBoundAttr, b.getF64FloatAttr(m));
    });
    ranges = std::move(stated);
  }

  Interval range(Value v) const {
    auto it = ranges.find(v);
    return it == ranges.end() ? Interval{} : it->second;
  }

  const std::vector<double> *plainValues(Value v) { return plains.get(v); }

  /// A plain value's largest magnitude: from its values, or for a run-time
  /// plaintext (main's plain parameter) from its declared range.
  double maxAbs(Value v) {
    auto *values = plainValues(v);
    if (!values)
      return range(v).magnitude();
    double m = 0;
    for (double x : *values)
      m = std::max(m, std::fabs(x));
    return m;
  }

  /// max over rows of sum_j |W[i, j]| for a matrix [rows, cols] stored
  /// row-major (transposed: the same over columns).
  double rowNorm(Value w, bool transposed) {
    auto *values = plainValues(w);
    auto s = shapeOf(w.getType());
    if (s.size() != 2)
      return kInf;
    if (!values)
      return double(transposed ? s[0] : s[1]) * maxAbs(w);
    const int64_t rows = transposed ? s[1] : s[0];
    double best = 0;
    for (int64_t i = 0; i < rows; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < (transposed ? s[0] : s[1]); ++j)
        sum += std::fabs(transposed ? (*values)[size_t(j * s[1] + i)]
                                    : (*values)[size_t(i * s[1] + j)]);
      best = std::max(best, sum);
    }
    return best;
  }

  /// Interval of each cipher or scalar result from its operands'.
  void forward(Operation &op) {
    if (op.getNumResults() != 1)
      return;
    Value r = op.getResult(0);
    auto in = [&](unsigned i) { return rangeOrPlain(op.getOperand(i)); };
    std::optional<Interval> out =
        llvm::TypeSwitch<Operation *, std::optional<Interval>>(&op)
            .Case<AddOp>([&](auto) -> std::optional<Interval> {
              return Interval{in(0).lo + in(1).lo, in(0).hi + in(1).hi};
            })
            .Case<SubOp>([&](auto) -> std::optional<Interval> {
              return Interval{in(0).lo - in(1).hi, in(0).hi - in(1).lo};
            })
            .Case<MulOp>([&](auto) -> std::optional<Interval> {
              // A square is not negative (the product's lo * hi is where
              // the interval holds 0).
              if (op.getOperand(0) == op.getOperand(1)) {
                Interval sq = product(in(0), in(0));
                sq.lo = std::max(sq.lo, 0.0);
                return sq;
              }
              return product(in(0), in(1));
            })
            .Case<DivOp>([&](auto) -> std::optional<Interval> {
              Interval d = in(1);
              if (d.lo <= 0 && d.hi >= 0)
                return Interval{};
              return product(in(0), Interval{std::min(1 / d.lo, 1 / d.hi),
                                             std::max(1 / d.lo, 1 / d.hi)});
            })
            .Case<NegOp>([&](auto) -> std::optional<Interval> {
              return Interval{-in(0).hi, -in(0).lo};
            })
            .Case<TransposeOp, ReshapeOp, IndexOp, SliceOp, RollOp, BootstrapOp,
                  AvgPool2dOp, GlobalAvgPoolOp, MeanOp>(
                [&](auto) -> std::optional<Interval> { return in(0); })
            .Case<SumOp>([&](SumOp s) -> std::optional<Interval> {
              auto shape = shapeOf(s.getInput().getType());
              double n = double(shapes::numElements(
                  shapes::Shape(shape.begin(), shape.end())));
              if (auto axis = s.getAxis()) {
                int64_t a = int64_t(*axis);
                shapes::normalizeAxis(a, shape.size());
                n = double(shape[size_t(a)]);
              }
              return Interval{n * std::min(in(0).lo, 0.0),
                              n * std::max(in(0).hi, 0.0)};
            })
            .Case<ConcatOp>([&](auto) -> std::optional<Interval> {
              Interval h{kInf, -kInf};
              for (unsigned i = 0; i < op.getNumOperands(); ++i)
                h = hull(h, in(i));
              return h;
            })
            .Case<LinearOp>([&](LinearOp l) -> std::optional<Interval> {
              double b = l.getBias() ? maxAbs(l.getBias()) : 0;
              double m = rowNorm(l.getWeight(), false) * in(0).magnitude() + b;
              return Interval{-m, m};
            })
            .Case<MatMulOp>([&](auto) -> std::optional<Interval> {
              double m = matmulGain(op, 0) * in(0).magnitude();
              if (!isCipher(op.getOperand(0).getType()))
                m = matmulGain(op, 1) * in(1).magnitude();
              return Interval{-m, m};
            })
            .Case<Conv2dOp>([&](Conv2dOp c) -> std::optional<Interval> {
              double b = c.getBias() ? maxAbs(c.getBias()) : 0;
              double m = convGain(c) * in(0).magnitude() + b;
              return Interval{-m, m};
            })
            .Case<BatchNormOp>([&](BatchNormOp bn) -> std::optional<Interval> {
              double m = batchNormGain(bn) * in(0).magnitude() +
                         maxAbs(bn.getBeta()) +
                         batchNormGain(bn) * maxAbs(bn.getMean());
              return Interval{-m, m};
            })
            .Case<NonlinearOp>([&](NonlinearOp n) -> std::optional<Interval> {
              std::string fn = n.getFunction().str();
              return sample(
                         [&](double x) {
                           return dsl::evaluateNonlinear(fn, x);
                         },
                         n.getRange()[0], n.getRange()[1])
                  .image;
            })
            .Case<PolyOp>([&](PolyOp p) -> std::optional<Interval> {
              return sample([&](double x) { return polyAt(p, x); },
                            p.getRange()[0], p.getRange()[1])
                  .image;
            })
            .Case<MaxMinOp>([&](auto) -> std::optional<Interval> {
              return hull(in(0), in(1));
            })
            .Default([&](Operation *) { return std::nullopt; });
    if (out)
      ranges[r] = *out;
    tighten(r);
  }

  Interval rangeOrPlain(Value v) {
    if (isCipher(v.getType()) || isa<FloatType>(v.getType()))
      return range(v);
    auto *values = plainValues(v);
    if (!values || values->empty())
      return {};
    auto [lo, hi] = std::minmax_element(values->begin(), values->end());
    return {*lo, *hi};
  }

  static Interval product(Interval a, Interval b) {
    double c[] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
    for (double x : c)
      if (std::isnan(x))
        return {};
    return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
  }

  static double polyAt(PolyOp p, double x) {
    return dsl::evaluatePolynomial(p.getCoefficients(),
                                   p.getBasis() == "chebyshev", p.getRange()[0],
                                   p.getRange()[1], x);
  }

  double matmulGain(Operation &op, unsigned operand) {
    Value other = op.getOperand(1 - operand);
    if (isCipher(other.getType())) {
      // sum over the inner dimension of the other's elements.
      auto s = shapeOf(op.getOperand(0).getType());
      return double(s.back()) * range(other).magnitude();
    }
    auto s = shapeOf(other.getType());
    if (s.size() == 1) {
      double sum = 0;
      if (auto *v = plainValues(other))
        for (double x : *v)
          sum += std::fabs(x);
      else
        return kInf;
      return sum;
    }
    // x @ W: out j = sum_i x_i W[i, j] (columns); W @ x: rows.
    return rowNorm(other, operand == 0);
  }

  double convGain(Conv2dOp c) {
    auto *w = plainValues(c.getWeight());
    auto s = shapeOf(c.getWeight().getType());
    if (!w)
      return kInf;
    const size_t per = size_t(s[1] * s[2] * s[3]);
    double best = 0;
    for (int64_t o = 0; o < s[0]; ++o) {
      double sum = 0;
      for (size_t k = 0; k < per; ++k)
        sum += std::fabs((*w)[size_t(o) * per + k]);
      best = std::max(best, sum);
    }
    return best;
  }

  double batchNormGain(BatchNormOp bn) {
    auto *gamma = plainValues(bn.getGamma());
    auto *var = plainValues(bn.getVariance());
    if (!gamma || !var)
      return kInf;
    double best = 0, eps = bn.getEps().convertToDouble();
    for (size_t c = 0; c < gamma->size(); ++c)
      best =
          std::max(best, std::fabs((*gamma)[c]) / std::sqrt((*var)[c] + eps));
    return best;
  }

  /// How much op's result moves per unit change of cipher operand i.
  double localGain(Operation &op, unsigned i) {
    return llvm::TypeSwitch<Operation *, double>(&op)
        .Case<AddOp, SubOp, NegOp, TransposeOp, ReshapeOp, IndexOp, SliceOp,
              RollOp, BootstrapOp, AvgPool2dOp, GlobalAvgPoolOp, MeanOp,
              ConcatOp, MaxMinOp>([&](auto) { return 1.0; })
        .Case<MulOp>([&](auto) { return maxAbs(op.getOperand(1 - i)); })
        .Case<DivOp>([&](auto) {
          Interval d = rangeOrPlain(op.getOperand(1));
          if (d.lo <= 0 && d.hi >= 0)
            return kInf;
          return 1 / std::min(std::fabs(d.lo), std::fabs(d.hi));
        })
        .Case<SumOp>([&](SumOp s) {
          auto shape = shapeOf(s.getInput().getType());
          if (auto axis = s.getAxis()) {
            int64_t a = int64_t(*axis);
            shapes::normalizeAxis(a, shape.size());
            return double(shape[size_t(a)]);
          }
          return double(
              shapes::numElements(shapes::Shape(shape.begin(), shape.end())));
        })
        .Case<LinearOp>(
            [&](LinearOp l) { return rowNorm(l.getWeight(), false); })
        .Case<MatMulOp>([&](auto) { return matmulGain(op, i); })
        .Case<Conv2dOp>([&](Conv2dOp c) { return convGain(c); })
        .Case<BatchNormOp>([&](BatchNormOp bn) { return batchNormGain(bn); })
        .Case<NonlinearOp>([&](NonlinearOp n) {
          std::string fn = n.getFunction().str();
          double lip =
              sample([&](double x) { return dsl::evaluateNonlinear(fn, x); },
                     n.getRange()[0], n.getRange()[1])
                  .lipschitz;
          // sign has no Lipschitz constant; its composite approximations
          // (relu, abs) are steeper than the function near 0.
          if (fn == "sign")
            return kInf;
          return fn == "relu" || fn == "abs" ? 1.5 * lip : lip;
        })
        .Case<PolyOp>([&](PolyOp p) {
          return sample([&](double x) { return polyAt(p, x); }, p.getRange()[0],
                        p.getRange()[1])
              .lipschitz;
        })
        .Default([&](Operation *) { return kInf; });
  }

  func::FuncOp main;
  llvm::DenseMap<Value, Interval> ranges;
  /// What the source declares of values (approximations' ranges).
  llvm::DenseMap<Value, Interval> asserted;
  PlainValues plains;
};

class AssignPrecisionPass
    : public PassWrapper<AssignPrecisionPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AssignPrecisionPass)

  AssignPrecisionPass() = default;
  AssignPrecisionPass(const AssignPrecisionPass &other) : PassWrapper(other) {}
  explicit AssignPrecisionPass(double precision) {
    precisionOption = precision;
  }

  StringRef getArgument() const final { return "fhe-assign-precision"; }
  StringRef getDescription() const final {
    return "Split the program's precision among its approximated functions "
           "(fhe.precision on each)";
  }

  void runOnOperation() override {
    auto main = getOperation().lookupSymbol<func::FuncOp>("main");
    if (!main)
      return;
    try {
      if (failed(Analysis(main).run(precisionOption)))
        signalPassFailure();
    } catch (const std::exception &e) {
      main.emitError(e.what());
      signalPassFailure();
    }
  }

  Option<double> precisionOption{
      *this, "precision",
      llvm::cl::desc("the program's precision target (absolute error)"),
      llvm::cl::init(1e-3)};
};

} // namespace

std::unique_ptr<Pass> createAssignPrecisionPass(double precision) {
  return std::make_unique<AssignPrecisionPass>(precision);
}

void registerFhePasses() {
  PassRegistration<AssignPrecisionPass>();
  mlir::registerPass([] { return createFoldBatchNormPass(); });
}

} // namespace cerium::fhe
