//===- Sema.cpp - From .fhe syntax to the fhe dialect ---------------------===//

#include "cerium/DSL/Sema.h"
#include "cerium/DSL/Functions.h"
#include "cerium/DSL/Parser.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Support/Stack.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <set>

namespace cerium::dsl {

using mlir::Type;
using mlir::Value;
using shapes::Shape;

namespace {

/// The most elements a declared tensor may have (32 GiB of doubles; the
/// lowering's 4096 ciphertexts of 2^15 slots hold 2^27).
constexpr int64_t kMaxDeclaredElements = int64_t(1) << 32;
/// The most iterations one loop may unroll to.
constexpr int64_t kMaxLoopIterations = int64_t(1) << 24;

/// A closed interval of reals.
struct Interval {
  double lo, hi;
  double magnitude() const { return std::max(std::fabs(lo), std::fabs(hi)); }
};

/// A value during compile-time evaluation.
struct Val {
  enum class Kind { Int, Float, Bool, Str, List, Tensor, Weights, Tuple, Auto };
  Kind kind = Kind::Int;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<Val> items; // List, Tuple
  Value tensor;           // Tensor (fhe cipher or plain tensor)
  std::shared_ptr<const SafetensorsFile> weights;
  std::string weightsPath; // as written in the program

  static Val integer(int64_t v) {
    Val x;
    x.kind = Kind::Int;
    x.i = v;
    return x;
  }
  static Val real(double v) {
    Val x;
    x.kind = Kind::Float;
    x.f = v;
    return x;
  }
  static Val boolean(bool v) {
    Val x;
    x.kind = Kind::Bool;
    x.b = v;
    return x;
  }
  static Val ofTensor(Value v) {
    Val x;
    x.kind = Kind::Tensor;
    x.tensor = v;
    return x;
  }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double number() const { return kind == Kind::Int ? double(i) : f; }
};

const char *kindName(const Val &v) {
  switch (v.kind) {
  case Val::Kind::Int:
    return "an integer";
  case Val::Kind::Float:
    return "a number";
  case Val::Kind::Bool:
    return "a boolean";
  case Val::Kind::Str:
    return "a string";
  case Val::Kind::List:
    return "a list";
  case Val::Kind::Tensor:
    return fhe::isCipher(v.tensor.getType()) ? "a cipher tensor"
                                             : "a plain tensor";
  case Val::Kind::Weights:
    return "a weights file";
  case Val::Kind::Tuple:
    return "a tuple";
  case Val::Kind::Auto:
    return "'auto'";
  }
  return "a value";
}

/// The range of f over `in`, sampled at `samples` + 1 evenly spaced points
/// (the functions are smooth or piecewise monotone, and the result only
/// seeds later ranges).
template <class F> Interval sampledImage(F f, Interval in, int samples) {
  SampledFunction s = sampleFunction(f, in.lo, in.hi, samples);
  return {s.lo, s.hi};
}

/// The image of an interval under a nonlinear function.
Interval image(const std::string &fn, Interval in) {
  return sampledImage([&](double x) { return evaluateNonlinear(fn, x); }, in,
                      256);
}

class Sema {
public:
  Sema(const Program &prog, mlir::MLIRContext &ctx,
       const std::map<std::string, std::string> &overrides, bool insecure)
      : prog(prog), file(*prog.source), ctx(ctx), builder(&ctx),
        overrides(overrides), insecure(insecure) {}

  FheProgram run() {
    FheProgram out;
    out.module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
    // Every tensor value lives in main's body, tensor constants included:
    // main is created first so they are built there (its signature follows
    // once the parameter types, which may use constants, are resolved).
    const Function *mainFn = nullptr;
    for (const Function &f : prog.functions)
      if (f.name == "main" && !mainFn)
        mainFn = &f;
    builder.setInsertionPointToEnd(out.module->getBody());
    auto main = mlir::func::FuncOp::create(
        builder, mainFn ? locOf(mainFn->loc) : mlir::UnknownLoc::get(&ctx),
        "main", builder.getFunctionType({}, {}));
    builder.setInsertionPointToStart(main.addEntryBlock());
    scopes.emplace_back();
    for (const WeightsDecl &w : prog.weights)
      declareWeights(w);
    for (const Binding &c : prog.consts) {
      if (globals.count(c.name))
        fail(c.loc, "'" + c.name + "' is already defined");
      globals[c.name] = eval(*c.value);
    }
    for (const Function &f : prog.functions) {
      if (functions.count(f.name) || globals.count(f.name))
        fail(f.loc, "'" + f.name + "' is already defined");
      functions[f.name] = &f;
    }
    out.options = evalOptions();
    if (!mainFn)
      fail({1, 1}, "the program has no 'fn main' (the function the tools "
                   "run)");
    buildMain(*mainFn, main, out);
    if (mlir::failed(mlir::verify(*out.module)))
      fail(mainFn->loc, "internal error: the fhe program built from "
                        "this function does not verify");
    return out;
  }

private:
  [[noreturn]] void fail(SourceLoc loc, const std::string &msg) const {
    throw SourceError(file, loc, msg);
  }
  /// Counts how deep evaluation recurses, across inlined calls: the parser
  /// bounds one function's nesting, this bounds their composition, so the
  /// stack holds for any source.
  class RecursionGuard {
  public:
    RecursionGuard(Sema &sema, SourceLoc loc) : sema(sema) {
      if (++sema.recursion > kMaxRecursion)
        sema.fail(loc, "evaluation nests deeper than " +
                           std::to_string(kMaxRecursion) +
                           " levels (expressions inside inlined calls)");
    }
    ~RecursionGuard() { --sema.recursion; }

  private:
    Sema &sema;
  };
  static constexpr int kMaxRecursion = 2048;

  mlir::Location locOf(SourceLoc loc) {
    return mlir::FileLineColLoc::get(&ctx, file.path(), loc.line, loc.column);
  }

  //===--------------------------------------------------------------------===//
  // Items
  //===--------------------------------------------------------------------===//

  void declareWeights(const WeightsDecl &w) {
    if (globals.count(w.name))
      fail(w.loc, "'" + w.name + "' is already defined");
    namespace fs = std::filesystem;
    fs::path base = fs::path(file.path()).parent_path();
    std::string resolved = (base / w.path).string();
    Val v;
    v.kind = Val::Kind::Weights;
    v.weightsPath = resolved;
    try {
      v.weights = SafetensorsFile::open(resolved);
    } catch (const Error &e) {
      fail(w.pathLoc, std::string("cannot load weights: ") + e.what());
    }
    globals[w.name] = v;
  }

  ProgramOptions evalOptions() {
    ProgramOptions o;
    std::map<std::string, std::pair<SourceLoc, Val>> given;
    for (const Binding &b : prog.options) {
      Val v = b.value->kind == Expr::Kind::Name && b.value->text == "auto"
                  ? autoVal()
                  : eval(*b.value);
      given[b.name] = {b.loc, v};
    }
    for (auto &[key, text] : overrides) {
      auto src = std::make_shared<SourceFile>("--opt " + key, text);
      ExprPtr e;
      try {
        e = parseExpression(src);
      } catch (const SourceError &err) {
        throw Error("--opt " + key + "=" + text + ": " + err.message());
      }
      Val v = e->kind == Expr::Kind::Name && e->text == "auto"
                  ? autoVal()
                  : evalConst(*e, *src);
      given[key] = {SourceLoc{}, v};
    }
    for (auto &[key, entry] : given) {
      auto &[loc, v] = entry;
      auto bad = [&, key = key](const std::string &what) {
        if (loc.valid())
          fail(loc, "option '" + key + "' " + what);
        throw Error("--opt " + key + ": " + what);
      };
      if (key == "security") {
        if (v.kind != Val::Kind::Int || (v.i != 128 && v.i != 0))
          bad("must be 128 or 0");
        if (v.i == 0 && !insecure)
          bad("= 0 needs --insecure");
        o.security = static_cast<int>(v.i);
      } else if (key == "precision") {
        if (!v.isNumber() || !(v.number() > 0) || v.number() >= 1)
          bad("must be a number in (0, 1)");
        o.precision = v.number();
      } else if (key == "ring_dim" || key == "slots") {
        // The encoder's least slot count is 2; rings run 2^4 .. 2^17.
        const bool ring = key == "ring_dim";
        const std::string want =
            ring ? "must be a power of two from 16 to 131072, or auto"
                 : "must be a power of two, at least 2, or auto";
        int64_t n = 0;
        if (v.kind == Val::Kind::Int) {
          n = v.i;
          if (n < (ring ? 16 : 2) || (n & (n - 1)) || (ring && n > (1 << 17)))
            bad(want);
        } else if (v.kind != Val::Kind::Auto) {
          bad(want);
        }
        (key == "ring_dim" ? o.ringDim : o.slots) = n;
      } else if (key == "max_levels" || key == "max_rotation_keys" ||
                 key == "max_key_memory") {
        // A cap: an integer in [1, most], or auto (0: none).
        const int64_t most = key == "max_levels"          ? 1024
                             : key == "max_rotation_keys" ? 65536
                                                          : int64_t(1) << 30;
        if ((v.kind == Val::Kind::Int && (v.i < 1 || v.i > most)) ||
            (v.kind != Val::Kind::Int && v.kind != Val::Kind::Auto))
          bad("must be an integer in [1, " + std::to_string(most) +
              "] or auto");
        (key == "max_levels"          ? o.maxLevels
         : key == "max_rotation_keys" ? o.maxRotationKeys
                                      : o.maxKeyMemory) =
            v.kind == Val::Kind::Int ? v.i : 0;
      } else if (key == "layout_search") {
        if (v.kind != Val::Kind::Int || (v.i != 0 && v.i != 1))
          bad("must be 1 or 0");
        o.layoutSearch = v.i == 1;
      } else {
        bad("is unknown (options: security, precision, ring_dim, slots, "
            "max_levels, max_rotation_keys, max_key_memory, layout_search)");
      }
    }
    if (o.ringDim && o.slots > o.ringDim / 2) {
      const SourceLoc loc = given.at("slots").first;
      const std::string what =
          "= " + std::to_string(o.slots) +
          " does not fit ring_dim = " + std::to_string(o.ringDim) +
          ", which holds at most " + std::to_string(o.ringDim / 2) + " slots";
      if (loc.valid())
        fail(loc, "option 'slots' " + what);
      throw Error("--opt slots: " + what);
    }
    return o;
  }

  static Val autoVal() {
    Val v;
    v.kind = Val::Kind::Auto;
    return v;
  }

  /// Evaluates an expression that must not touch tensors (an --opt value).
  Val evalConst(const Expr &e, const SourceFile &src) {
    if (e.kind == Expr::Kind::Number)
      return e.isInteger ? Val::integer(e.integer) : Val::real(e.number);
    throw SourceError(src, e.loc, "expected a number or auto");
  }

  //===--------------------------------------------------------------------===//
  // main
  //===--------------------------------------------------------------------===//

  struct ResolvedType {
    enum class Kind { Cipher, Plain, F64, Int, Tuple } kind;
    Shape shape;
    std::vector<ResolvedType> elements;
  };

  ResolvedType resolveType(const TypeExpr &t) {
    ResolvedType r;
    switch (t.kind) {
    case TypeExpr::Kind::Cipher:
    case TypeExpr::Kind::Plain:
      r.kind = t.kind == TypeExpr::Kind::Cipher ? ResolvedType::Kind::Cipher
                                                : ResolvedType::Kind::Plain;
      for (const ExprPtr &d : t.dims) {
        Val v = eval(*d);
        if (v.kind != Val::Kind::Int || v.i < 1)
          fail(d->loc, "a dimension must be a positive compile-time integer, "
                       "got " +
                           std::string(kindName(v)));
        r.shape.push_back(v.i);
        // Every shape after this one is at most as large as the products of
        // declared ones allow; this keeps their element counts in 64 bits.
        int64_t elements = 1;
        for (int64_t n : r.shape)
          if (__builtin_mul_overflow(elements, n, &elements) ||
              elements > kMaxDeclaredElements)
            fail(d->loc, "a tensor of more than 2^32 elements");
      }
      return r;
    case TypeExpr::Kind::F64:
      r.kind = ResolvedType::Kind::F64;
      return r;
    case TypeExpr::Kind::Int:
      r.kind = ResolvedType::Kind::Int;
      return r;
    case TypeExpr::Kind::Tuple:
      r.kind = ResolvedType::Kind::Tuple;
      for (const TypeExpr &e : t.elements)
        r.elements.push_back(resolveType(e));
      return r;
    }
    return r;
  }

  static std::string typeStr(const ResolvedType &t) {
    switch (t.kind) {
    case ResolvedType::Kind::Cipher:
      return "cipher" + shapes::str(t.shape);
    case ResolvedType::Kind::Plain:
      return "plain" + shapes::str(t.shape);
    case ResolvedType::Kind::F64:
      return "f64";
    case ResolvedType::Kind::Int:
      return "int";
    case ResolvedType::Kind::Tuple: {
      std::string s = "(";
      for (size_t i = 0; i < t.elements.size(); ++i)
        s += (i ? ", " : "") + typeStr(t.elements[i]);
      return s + ")";
    }
    }
    return "?";
  }

  std::string valTypeStr(const Val &v) {
    if (v.kind == Val::Kind::Tensor)
      return std::string(fhe::isCipher(v.tensor.getType()) ? "cipher"
                                                           : "plain") +
             shapes::str(shapeOf(v));
    if (v.kind == Val::Kind::Tuple) {
      std::string s = "(";
      for (size_t i = 0; i < v.items.size(); ++i)
        s += (i ? ", " : "") + valTypeStr(v.items[i]);
      return s + ")";
    }
    return kindName(v);
  }

  /// Checks a value against a declared type; `what` names it in errors.
  void checkType(const Val &v, const ResolvedType &t, SourceLoc loc,
                 const std::string &what) {
    bool ok = false;
    switch (t.kind) {
    case ResolvedType::Kind::Cipher:
    case ResolvedType::Kind::Plain:
      ok = v.kind == Val::Kind::Tensor &&
           fhe::isCipher(v.tensor.getType()) ==
               (t.kind == ResolvedType::Kind::Cipher) &&
           shapeOf(v) == t.shape;
      break;
    case ResolvedType::Kind::F64:
      ok = v.isNumber();
      break;
    case ResolvedType::Kind::Int:
      ok = v.kind == Val::Kind::Int;
      break;
    case ResolvedType::Kind::Tuple:
      ok = v.kind == Val::Kind::Tuple && v.items.size() == t.elements.size();
      for (size_t i = 0; ok && i < t.elements.size(); ++i)
        checkType(v.items[i], t.elements[i], loc, what);
      break;
    }
    if (!ok)
      fail(loc, what + " has type " + valTypeStr(v) + " but " + typeStr(t) +
                    " is declared");
  }

  void buildMain(const Function &f, mlir::func::FuncOp fn, FheProgram &out) {
    std::vector<Type> argTypes;
    std::vector<ResolvedType> paramTypes;
    for (const Param &p : f.params) {
      ResolvedType t = resolveType(p.type);
      if (t.kind != ResolvedType::Kind::Cipher &&
          t.kind != ResolvedType::Kind::Plain)
        fail(p.loc, "main's parameters must be cipher[...] or plain[...] "
                    "tensors");
      argTypes.push_back(
          fhe::tensorType(&ctx, t.shape, t.kind == ResolvedType::Kind::Cipher));
      out.inputs.push_back(
          {p.name, t.shape, t.kind == ResolvedType::Kind::Cipher, {}, {}});
      paramTypes.push_back(std::move(t));
    }
    ResolvedType resultType = resolveType(f.result);
    mlir::Block *entry = &fn.getBody().front();
    for (size_t i = 0; i < f.params.size(); ++i)
      entry->addArgument(argTypes[i], locOf(f.params[i].loc));
    builder.setInsertionPointToEnd(entry);
    scopes.emplace_back();
    for (size_t i = 0; i < f.params.size(); ++i)
      bind(f.params[i].name, Val::ofTensor(entry->getArgument(i)),
           f.params[i].loc);
    std::optional<Val> ret = execBlock(f.body);
    if (!ret)
      fail(f.loc, "main does not return a value");
    for (size_t i = 0; i < f.params.size(); ++i) {
      auto declared = ranges.find(entry->getArgument(i).getAsOpaquePointer());
      if (declared != ranges.end())
        out.inputs[i].range = {declared->second.lo, declared->second.hi};
    }
    checkType(*ret, resultType, returnLoc, "main's result");
    std::vector<Value> results;
    std::vector<Type> resultTypes;
    auto add = [&](const Val &v) {
      if (v.kind != Val::Kind::Tensor || !fhe::isCipher(v.tensor.getType()))
        fail(returnLoc, "main must return cipher tensors");
      results.push_back(v.tensor);
      resultTypes.push_back(v.tensor.getType());
      out.outputs.push_back({"output_" + std::to_string(out.outputs.size()),
                             shapeOf(v),
                             true,
                             {},
                             {}});
    };
    if (ret->kind == Val::Kind::Tuple)
      for (const Val &v : ret->items)
        add(v);
    else
      add(*ret);
    mlir::func::ReturnOp::create(builder, locOf(returnLoc), results);
    fn.setFunctionType(builder.getFunctionType(argTypes, resultTypes));
    scopes.pop_back();
  }

  //===--------------------------------------------------------------------===//
  // Statements
  //===--------------------------------------------------------------------===//

  void bind(const std::string &name, Val v, SourceLoc loc) {
    if (functions.count(name) && scopes.size() > 1)
      fail(loc, "'" + name + "' is a function and cannot be rebound");
    scopes.back()[name] = std::move(v);
  }

  Val *lookup(const std::string &name) {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end())
        return &f->second;
    }
    auto g = globals.find(name);
    return g == globals.end() ? nullptr : &g->second;
  }

  /// Runs statements; returns the value of a `return`, if one ran.
  std::optional<Val> execBlock(const Block &block) {
    for (const StmtPtr &s : block)
      if (std::optional<Val> r = exec(*s))
        return r;
    return std::nullopt;
  }

  std::optional<Val> exec(const Stmt &s) {
    RecursionGuard guard(*this, s.loc);
    switch (s.kind) {
    case Stmt::Kind::Let:
      bind(s.name, eval(*s.value), s.loc);
      return std::nullopt;
    case Stmt::Kind::Assign: {
      Val *slot = nullptr;
      for (auto it = scopes.rbegin(); it != scopes.rend() && !slot; ++it) {
        auto f = it->find(s.name);
        if (f != it->end())
          slot = &f->second;
      }
      if (!slot)
        fail(s.loc, globals.count(s.name)
                        ? "'" + s.name + "' is a global and cannot be rebound"
                        : "assignment to unknown name '" + s.name +
                              "' (declare it with 'let')");
      *slot = eval(*s.value);
      return std::nullopt;
    }
    case Stmt::Kind::Return:
      returnLoc = s.loc;
      return eval(*s.value);
    case Stmt::Kind::For: {
      int64_t lo = evalInt(*s.value, "the loop's lower bound");
      int64_t hi = evalInt(*s.upper, "the loop's upper bound");
      int64_t trips = 0;
      if (__builtin_sub_overflow(hi, lo, &trips) || trips > kMaxLoopIterations)
        fail(s.upper->loc, "a loop of more than 2^24 iterations (loops are "
                           "unrolled at compile time)");
      for (int64_t i = lo; i < hi; ++i) {
        scopes.emplace_back();
        bind(s.name, Val::integer(i), s.loc);
        std::optional<Val> r = execBlock(s.body);
        scopes.pop_back();
        if (r)
          return r;
      }
      return std::nullopt;
    }
    case Stmt::Kind::If: {
      Val c = eval(*s.value);
      if (c.kind == Val::Kind::Tensor)
        fail(s.value->loc, "the condition of 'if' must be a compile-time "
                           "value, not " +
                               std::string(kindName(c)));
      if (c.kind != Val::Kind::Bool)
        fail(s.value->loc, "the condition of 'if' must be a boolean, got " +
                               std::string(kindName(c)));
      scopes.emplace_back();
      std::optional<Val> r = execBlock(c.b ? s.body : s.elseBody);
      scopes.pop_back();
      return r;
    }
    case Stmt::Kind::Assume: {
      Val v = eval(*s.value);
      if (v.kind != Val::Kind::Tensor)
        fail(s.value->loc,
             "'assume' applies to tensors, got " + std::string(kindName(v)));
      double lo = evalNumber(*s.lower, "the range's lower bound");
      double hi = evalNumber(*s.upper, "the range's upper bound");
      if (!(lo < hi))
        fail(s.lower->loc, "the range must have lo < hi");
      ranges[v.tensor.getAsOpaquePointer()] = {lo, hi};
      // For the range analysis after the source (bootstraps' bounds).
      if (mlir::Operation *def = v.tensor.getDefiningOp())
        def->setAttr(fhe::kAssumedAttr, builder.getDenseF64ArrayAttr({lo, hi}));
      return std::nullopt;
    }
    case Stmt::Kind::ExprStmt:
      eval(*s.value);
      return std::nullopt;
    }
    return std::nullopt;
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  int64_t evalInt(const Expr &e, const std::string &what) {
    Val v = eval(e);
    if (v.kind == Val::Kind::Float && v.f == std::floor(v.f))
      return int64_t(v.f);
    if (v.kind != Val::Kind::Int)
      fail(e.loc, what + " must be a compile-time integer, got " +
                      std::string(kindName(v)));
    return v.i;
  }

  double evalNumber(const Expr &e, const std::string &what) {
    Val v = eval(e);
    if (!v.isNumber())
      fail(e.loc, what + " must be a compile-time number, got " +
                      std::string(kindName(v)));
    return v.number();
  }

  static Shape shapeOf(Value v) {
    auto s = fhe::shapeOf(v.getType());
    return Shape(s.begin(), s.end());
  }
  static Shape shapeOf(const Val &v) { return shapeOf(v.tensor); }

  std::optional<Interval> rangeOf(Value v) {
    auto it = ranges.find(v.getAsOpaquePointer());
    if (it == ranges.end())
      return std::nullopt;
    return it->second;
  }
  void setRange(Value v, std::optional<Interval> r) {
    if (r)
      ranges[v.getAsOpaquePointer()] = *r;
  }

  /// A plain tensor from literal values (compile-time known range).
  Value constantTensor(const std::vector<double> &values, const Shape &shape,
                       SourceLoc loc) {
    Type t = fhe::tensorType(&ctx, shape, false);
    Value v = fhe::ConstantOp::create(builder, locOf(loc), t,
                                      builder.getDenseF64ArrayAttr(values));
    auto [mn, mx] = std::minmax_element(values.begin(), values.end());
    setRange(v, Interval{*mn, *mx});
    return v;
  }

  /// Flattens a (nested) list of numbers, checking it is rectangular.
  void flattenList(const Val &v, const Expr &where, std::vector<double> &out,
                   Shape &shape, size_t depth) {
    if (v.isNumber()) {
      if (depth != shape.size())
        fail(where.loc, "a list literal must be rectangular");
      out.push_back(v.number());
      return;
    }
    if (v.kind != Val::Kind::List || v.items.empty())
      fail(where.loc, "a tensor literal holds numbers or equal-length lists");
    if (depth == shape.size())
      shape.push_back(int64_t(v.items.size()));
    else if (shape[depth] != int64_t(v.items.size()))
      fail(where.loc, "a list literal must be rectangular");
    for (const Val &item : v.items)
      flattenList(item, where, out, shape, depth + 1);
  }

  /// A tensor operand: tensors as they are, numbers and lists as plain
  /// constants.
  Val asTensor(const Val &v, const Expr &e) {
    if (v.kind == Val::Kind::Tensor)
      return v;
    if (v.isNumber())
      return Val::ofTensor(constantTensor({v.number()}, {1}, e.loc));
    if (v.kind == Val::Kind::List) {
      std::vector<double> values;
      Shape shape;
      flattenList(v, e, values, shape, 0);
      return Val::ofTensor(constantTensor(values, shape, e.loc));
    }
    fail(e.loc, "expected a tensor, got " + std::string(kindName(v)));
  }

  Val eval(const Expr &e) {
    RecursionGuard guard(*this, e.loc);
    switch (e.kind) {
    case Expr::Kind::Number:
      return e.isInteger ? Val::integer(e.integer) : Val::real(e.number);
    case Expr::Kind::String: {
      Val v;
      v.kind = Val::Kind::Str;
      v.s = e.text;
      return v;
    }
    case Expr::Kind::Bool:
      return Val::boolean(e.boolean);
    case Expr::Kind::Name: {
      Val *v = lookup(e.text);
      if (!v) {
        if (functions.count(e.text) || isBuiltin(e.text))
          fail(e.loc, "'" + e.text + "' is a function; call it with (...)");
        fail(e.loc, "unknown name '" + e.text + "'" + suggestName(e.text));
      }
      return *v;
    }
    case Expr::Kind::List: {
      Val v;
      v.kind = Val::Kind::List;
      for (const ExprPtr &x : e.elements)
        v.items.push_back(eval(*x));
      return v;
    }
    case Expr::Kind::Tuple: {
      Val v;
      v.kind = Val::Kind::Tuple;
      for (const ExprPtr &x : e.elements)
        v.items.push_back(eval(*x));
      return v;
    }
    case Expr::Kind::Unary:
      return evalUnary(e);
    case Expr::Kind::Binary:
      return evalBinary(e);
    case Expr::Kind::Call:
      return evalCall(e);
    case Expr::Kind::Index:
      return evalIndex(e);
    case Expr::Kind::Slice:
      return evalSlice(e);
    case Expr::Kind::Transpose: {
      Val x = asTensor(eval(*e.lhs), *e.lhs);
      return transpose(x, {}, e.loc);
    }
    }
    fail(e.loc, "unsupported expression");
  }

  std::string suggestName(const std::string &name) {
    std::string best;
    size_t bestD = 3;
    auto consider = [&](const std::string &c) {
      size_t d = editDistance(name, c);
      if (d < bestD)
        bestD = d, best = c;
    };
    for (auto &scope : scopes)
      for (auto &[n, v] : scope)
        consider(n);
    for (auto &[n, v] : globals)
      consider(n);
    return best.empty() ? "" : " (did you mean '" + best + "'?)";
  }

  Val evalUnary(const Expr &e) {
    Val x = eval(*e.lhs);
    if (e.unaryOp == UnaryOp::Not) {
      if (x.kind != Val::Kind::Bool)
        fail(e.loc, "'!' needs a boolean, got " + std::string(kindName(x)));
      return Val::boolean(!x.b);
    }
    if (x.kind == Val::Kind::Int) {
      if (x.i == std::numeric_limits<int64_t>::min())
        fail(e.loc, "integer overflow: the result does not fit 64 bits");
      return Val::integer(-x.i);
    }
    if (x.kind == Val::Kind::Float)
      return Val::real(-x.f);
    Val t = asTensor(x, *e.lhs);
    Value r =
        fhe::NegOp::create(builder, locOf(e.loc), t.tensor.getType(), t.tensor);
    if (auto in = rangeOf(t.tensor))
      setRange(r, Interval{-in->hi, -in->lo});
    return Val::ofTensor(r);
  }

  Val evalBinary(const Expr &e) {
    Val a = eval(*e.lhs), b = eval(*e.rhs);
    BinaryOp op = e.binaryOp;
    if (op == BinaryOp::And || op == BinaryOp::Or) {
      if (a.kind != Val::Kind::Bool || b.kind != Val::Kind::Bool)
        fail(e.loc, std::string("'") + spelling(op) + "' needs booleans");
      return Val::boolean(op == BinaryOp::And ? a.b && b.b : a.b || b.b);
    }
    if (a.isNumber() && b.isNumber())
      return scalarArith(e, op, a, b);
    if (op >= BinaryOp::Lt) // comparisons
      fail(e.loc, std::string("'") + spelling(op) +
                      "' compares compile-time numbers only, got " +
                      kindName(a) + " and " + kindName(b));
    if (op == BinaryOp::Div && b.kind == Val::Kind::Tensor &&
        fhe::isCipher(b.tensor.getType()))
      fail(e.rhs->loc, "cannot divide by a cipher value: the divisor must "
                       "be a scalar or a plain tensor");
    Val x = asTensor(a, *e.lhs), y = asTensor(b, *e.rhs);
    Shape sx = shapeOf(x), sy = shapeOf(y);
    bool cipher =
        fhe::isCipher(x.tensor.getType()) || fhe::isCipher(y.tensor.getType());
    mlir::Location loc = locOf(e.loc);
    if (op == BinaryOp::MatMul) {
      shapes::Result r = shapes::matmul(sx, sy);
      if (!r.ok())
        fail(e.loc, r.error);
      Type t = fhe::tensorType(&ctx, r.shape, cipher);
      Value v = fhe::MatMulOp::create(builder, loc, t, x.tensor, y.tensor);
      setRange(v, matmulRange(x.tensor, y.tensor, sx.back()));
      return Val::ofTensor(v);
    }
    shapes::Result r = shapes::broadcast(sx, sy);
    if (!r.ok())
      fail(e.loc,
           std::string("shape mismatch in '") + spelling(op) + "': " + r.error);
    Type t = fhe::tensorType(&ctx, r.shape, cipher);
    Value v;
    auto rx = rangeOf(x.tensor), ry = rangeOf(y.tensor);
    std::optional<Interval> range;
    switch (op) {
    case BinaryOp::Add:
      v = fhe::AddOp::create(builder, loc, t, x.tensor, y.tensor);
      if (rx && ry)
        range = Interval{rx->lo + ry->lo, rx->hi + ry->hi};
      break;
    case BinaryOp::Sub:
      v = fhe::SubOp::create(builder, loc, t, x.tensor, y.tensor);
      if (rx && ry)
        range = Interval{rx->lo - ry->hi, rx->hi - ry->lo};
      break;
    case BinaryOp::Mul:
      v = fhe::MulOp::create(builder, loc, t, x.tensor, y.tensor);
      if (rx && ry)
        range = product(*rx, *ry);
      break;
    default: // Div
      v = fhe::DivOp::create(builder, loc, t, x.tensor, y.tensor);
      if (rx && ry && (ry->lo > 0 || ry->hi < 0))
        range = product(*rx, Interval{std::min(1 / ry->lo, 1 / ry->hi),
                                      std::max(1 / ry->lo, 1 / ry->hi)});
      break;
    }
    setRange(v, range);
    return Val::ofTensor(v);
  }

  static Interval product(Interval a, Interval b) {
    double c[] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
    return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
  }

  /// |x @ y| <= inner * max|x| * max|y|.
  std::optional<Interval> matmulRange(Value x, Value y, int64_t inner) {
    auto rx = rangeOf(x), ry = rangeOf(y);
    if (!rx || !ry)
      return std::nullopt;
    double m = double(inner) * rx->magnitude() * ry->magnitude();
    return Interval{-m, m};
  }

  Val scalarArith(const Expr &e, BinaryOp op, const Val &a, const Val &b) {
    bool ints = a.kind == Val::Kind::Int && b.kind == Val::Kind::Int;
    double x = a.number(), y = b.number();
    // Compile-time integers are 64-bit: overflow is an error, not a wrap.
    auto exact = [&](bool (*apply)(int64_t, int64_t, int64_t *)) {
      int64_t r = 0;
      if (apply(a.i, b.i, &r))
        fail(e.loc, "integer overflow: the result does not fit 64 bits");
      return Val::integer(r);
    };
    switch (op) {
    case BinaryOp::Add:
      return ints ? exact([](int64_t x, int64_t y, int64_t *r) {
        return __builtin_add_overflow(x, y, r);
      })
                  : Val::real(x + y);
    case BinaryOp::Sub:
      return ints ? exact([](int64_t x, int64_t y, int64_t *r) {
        return __builtin_sub_overflow(x, y, r);
      })
                  : Val::real(x - y);
    case BinaryOp::Mul:
      return ints ? exact([](int64_t x, int64_t y, int64_t *r) {
        return __builtin_mul_overflow(x, y, r);
      })
                  : Val::real(x * y);
    case BinaryOp::Div:
      if (y == 0)
        fail(e.loc, "division by zero");
      return Val::real(x / y);
    case BinaryOp::MatMul:
      fail(e.loc, "'@' needs tensors, got numbers");
    case BinaryOp::Lt:
      return Val::boolean(x < y);
    case BinaryOp::Le:
      return Val::boolean(x <= y);
    case BinaryOp::Gt:
      return Val::boolean(x > y);
    case BinaryOp::Ge:
      return Val::boolean(x >= y);
    case BinaryOp::Eq:
      return Val::boolean(x == y);
    case BinaryOp::Ne:
      return Val::boolean(x != y);
    default:
      fail(e.loc, "unexpected operator");
    }
  }

  /// Resolves {expr} interpolations of a weight name.
  std::string interpolate(const Expr &e) {
    std::string out;
    const std::string &s = e.text;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '{') {
        out += s[i];
        continue;
      }
      size_t close = s.find('}', i);
      if (close == std::string::npos)
        fail(e.loc, "unclosed '{' in the weight name \"" + s + "\"");
      auto inner = std::make_shared<SourceFile>(file.path(),
                                                s.substr(i + 1, close - i - 1));
      ExprPtr x;
      try {
        x = parseExpression(inner);
      } catch (const SourceError &err) {
        fail(e.loc, "in the interpolation {" + s.substr(i + 1, close - i - 1) +
                        "}: " + err.message());
      }
      relocate(*x, e.loc);
      out += std::to_string(evalInt(*x, "an interpolated value"));
      i = close;
    }
    return out;
  }

  /// Points every location of an interpolated expression at its string.
  static void relocate(Expr &x, SourceLoc loc) {
    x.loc = loc;
    for (auto &c : x.elements)
      relocate(*c, loc);
    for (auto *c : {&x.lhs, &x.rhs, &x.sliceHi})
      if (*c)
        relocate(**c, loc);
  }

  Val evalIndex(const Expr &e) {
    Val base = eval(*e.lhs);
    if (base.kind == Val::Kind::Weights) {
      Val key = eval(*e.rhs);
      if (key.kind != Val::Kind::Str)
        fail(e.rhs->loc, "weights are indexed by a tensor name string");
      std::string name = interpolate(*e.rhs);
      return Val::ofTensor(weight(base, name, e.rhs->loc));
    }
    if (base.kind == Val::Kind::List || base.kind == Val::Kind::Tuple) {
      int64_t i = evalInt(*e.rhs, "an index");
      if (i < 0)
        i += int64_t(base.items.size());
      if (i < 0 || i >= int64_t(base.items.size()))
        fail(e.rhs->loc, "index out of range");
      return base.items[i];
    }
    Val x = asTensor(base, *e.lhs);
    const int64_t written = evalInt(*e.rhs, "a tensor index");
    Shape s = shapeOf(x);
    const int64_t i = written < 0 ? written + s[0] : written;
    if (i < 0 || i >= s[0])
      fail(e.rhs->loc, "index " + std::to_string(written) +
                           " is out of range for shape " + shapes::str(s));
    shapes::Result r = shapes::index(s);
    Type t = fhe::tensorType(&ctx, r.shape, fhe::isCipher(x.tensor.getType()));
    Value v = fhe::IndexOp::create(builder, locOf(e.loc), t, x.tensor,
                                   builder.getI64IntegerAttr(i));
    setRange(v, rangeOf(x.tensor));
    return Val::ofTensor(v);
  }

  Value weight(const Val &w, const std::string &name, SourceLoc loc) {
    const SafetensorsFile::Tensor *t = w.weights->find(name);
    if (!t) {
      std::string msg = "no tensor '" + name + "' in " + w.weights->path();
      auto close = w.weights->closeMatches(name);
      if (!close.empty()) {
        msg += "; close matches: ";
        for (size_t i = 0; i < close.size(); ++i)
          msg += (i ? ", " : "") + close[i];
      }
      fail(loc, msg);
    }
    Shape shape(t->shape.begin(), t->shape.end());
    if (shape.empty())
      shape = {1};
    std::string key = w.weightsPath + "\n" + name;
    auto cached = weightValues.find(key);
    if (cached != weightValues.end())
      return cached->second;
    Type type = fhe::tensorType(&ctx, shape, false);
    Value v = fhe::WeightOp::create(builder, locOf(loc), type,
                                    builder.getStringAttr(w.weightsPath),
                                    builder.getStringAttr(name));
    std::vector<double> values = w.weights->read(name);
    for (size_t i = 0; i < values.size(); ++i)
      if (!std::isfinite(values[i]))
        fail(loc, "weight '" + name +
                      "' has a value that is not finite at "
                      "flat index " +
                      std::to_string(i));
    if (!values.empty()) {
      auto [mn, mx] = std::minmax_element(values.begin(), values.end());
      setRange(v, Interval{*mn, *mx});
    }
    weightValues[key] = v;
    return v;
  }

  Val evalSlice(const Expr &e) {
    Val x = asTensor(eval(*e.lhs), *e.lhs);
    Shape s = shapeOf(x);
    const int64_t writtenLo = e.rhs ? evalInt(*e.rhs, "a slice bound") : 0;
    const int64_t writtenHi =
        e.sliceHi ? evalInt(*e.sliceHi, "a slice bound") : s[0];
    // Python's rules: negative bounds count from the end, then clamp.
    auto bound = [&](int64_t b) {
      return std::clamp<int64_t>(b < 0 ? b + s[0] : b, 0, s[0]);
    };
    const int64_t lo = bound(writtenLo), hi = bound(writtenHi);
    shapes::Result r = shapes::slice(s, lo, hi);
    if (!r.ok())
      fail(e.loc, "slice [" + (e.rhs ? std::to_string(writtenLo) : "") + ":" +
                      (e.sliceHi ? std::to_string(writtenHi) : "") +
                      "] of shape " + shapes::str(s) + " is empty");
    Type t = fhe::tensorType(&ctx, r.shape, fhe::isCipher(x.tensor.getType()));
    Value v = fhe::SliceOp::create(builder, locOf(e.loc), t, x.tensor,
                                   builder.getI64IntegerAttr(lo),
                                   builder.getI64IntegerAttr(hi));
    setRange(v, rangeOf(x.tensor));
    return Val::ofTensor(v);
  }

  Val transpose(const Val &x, std::vector<int64_t> perm, SourceLoc loc) {
    shapes::Result r = shapes::transpose(shapeOf(x), perm);
    if (!r.ok())
      fail(loc, r.error);
    Type t = fhe::tensorType(&ctx, r.shape, fhe::isCipher(x.tensor.getType()));
    Value v = fhe::TransposeOp::create(builder, locOf(loc), t, x.tensor,
                                       builder.getDenseI64ArrayAttr(perm));
    setRange(v, rangeOf(x.tensor));
    return Val::ofTensor(v);
  }

  //===--------------------------------------------------------------------===//
  // Calls
  //===--------------------------------------------------------------------===//

  static bool isBuiltin(const std::string &n) {
    static const std::set<std::string> builtins = {
        "linear",    "conv2d",    "avgpool2d", "global_avgpool",
        "batchnorm", "layernorm", "rmsnorm",   "softmax",
        "max",       "min",       "poly",      "bootstrap",
        "sum",       "mean",      "roll",      "transpose",
        "reshape",   "concat"};
    return builtins.count(n) || isNonlinearFunction(n);
  }

  /// Positional and keyword arguments of a builtin call, checked against its
  /// signature: `params` in order, the first `required` of them mandatory.
  struct Args {
    std::vector<const Expr *> byPosition; // one per parameter (null: absent)
  };

  Args bindArgs(const Expr &call, const std::vector<std::string> &params,
                size_t required) {
    Args a;
    a.byPosition.assign(params.size(), nullptr);
    if (call.elements.size() > params.size())
      fail(call.loc, "'" + call.text + "' takes at most " +
                         std::to_string(params.size()) + " arguments, got " +
                         std::to_string(call.elements.size()));
    for (size_t i = 0; i < call.elements.size(); ++i)
      a.byPosition[i] = call.elements[i].get();
    for (const NamedArg &n : call.named) {
      auto it = std::find(params.begin(), params.end(), n.name);
      if (it == params.end())
        fail(n.loc, "'" + call.text + "' has no parameter '" + n.name + "'");
      size_t idx = size_t(it - params.begin());
      if (a.byPosition[idx])
        fail(n.loc, "'" + n.name + "' is given twice");
      a.byPosition[idx] = n.value.get();
    }
    for (size_t i = 0; i < required; ++i)
      if (!a.byPosition[i])
        fail(call.loc,
             "'" + call.text + "' needs its argument '" + params[i] + "'");
    return a;
  }

  Val tensorArg(const Args &a, size_t i) {
    return asTensor(eval(*a.byPosition[i]), *a.byPosition[i]);
  }
  Value plainArg(const Args &a, size_t i, const std::string &what) {
    Val v = tensorArg(a, i);
    if (fhe::isCipher(v.tensor.getType()))
      fail(a.byPosition[i]->loc, what + " must be a plain tensor, not a cipher "
                                        "tensor");
    return v.tensor;
  }
  int64_t intArg(const Args &a, size_t i, int64_t dflt, const char *what) {
    return a.byPosition[i] ? evalInt(*a.byPosition[i], what) : dflt;
  }
  double numArg(const Args &a, size_t i, double dflt, const char *what) {
    return a.byPosition[i] ? evalNumber(*a.byPosition[i], what) : dflt;
  }
  /// A call's own `precision = e`: its approximation's absolute error on
  /// its range, kept as is by fhe-assign-precision instead of a share of the
  /// program's precision.
  void statePrecision(const Args &a, size_t i, Value approximated) {
    if (!a.byPosition[i])
      return;
    double e = evalNumber(*a.byPosition[i], "the call's precision");
    if (!(e > 0) || !std::isfinite(e))
      fail(a.byPosition[i]->loc,
           "a call's precision must be a positive number, got " + fmtNum(e));
    approximated.getDefiningOp()->setAttr(fhe::kPrecisionAttr,
                                          builder.getF64FloatAttr(e));
  }
  std::vector<int64_t> intList(const Expr &e, const char *what) {
    Val v = eval(e);
    if (v.kind != Val::Kind::List)
      fail(e.loc, std::string(what) + " must be a list of integers");
    std::vector<int64_t> out;
    for (const Val &x : v.items) {
      if (x.kind != Val::Kind::Int)
        fail(e.loc, std::string(what) + " must be a list of integers");
      out.push_back(x.i);
    }
    return out;
  }

  /// The range a nonlinear function uses: its `range` argument, else the
  /// assumed or derived range of its input.
  Interval requireRange(const Args &a, size_t i, Value input,
                        const Expr &call) {
    if (a.byPosition[i]) {
      const Expr &r = *a.byPosition[i];
      Val v = eval(r);
      if (v.kind != Val::Kind::List || v.items.size() != 2 ||
          !v.items[0].isNumber() || !v.items[1].isNumber())
        fail(r.loc, "range must be [lo, hi]");
      Interval in{v.items[0].number(), v.items[1].number()};
      if (!(in.lo < in.hi))
        fail(r.loc, "the range must have lo < hi");
      return in;
    }
    if (auto known = rangeOf(input))
      return *known;
    fail(call.loc, "'" + call.text +
                       "' needs the range of its input: pass "
                       "range = [lo, hi] or 'assume' a range for the input");
  }

  Val evalCall(const Expr &e) {
    const std::string &fn = e.text;
    auto user = functions.find(fn);
    if (user != functions.end())
      return callUser(*user->second, e);
    if (lookup(fn))
      fail(e.loc, "'" + fn + "' is not a function");
    mlir::Location loc = locOf(e.loc);
    auto unary = [&](Val x, Shape shape, auto makeOp) {
      Type t = fhe::tensorType(&ctx, shape, fhe::isCipher(x.tensor.getType()));
      return Val::ofTensor(makeOp(t));
    };
    auto check = [&](const shapes::Result &r) {
      if (!r.ok())
        fail(e.loc, r.error);
      return r.shape;
    };

    if (isNonlinearFunction(fn)) {
      Args a = bindArgs(e, {"x", "range", "precision"}, 1);
      Val x = tensorArg(a, 0);
      Interval in = requireRange(a, 1, x.tensor, e);
      if ((fn == "log" || fn == "sqrt" || fn == "inv_sqrt") && in.lo <= 0 &&
          !(fn == "sqrt" && in.lo == 0))
        fail(e.loc, "'" + fn + "' needs a positive input range, got [" +
                        fmtNum(in.lo) + ", " + fmtNum(in.hi) + "]");
      if (fn == "inv" && in.lo <= 0 && in.hi >= 0)
        fail(e.loc, "'inv' needs an input range that excludes 0");
      Val r = unary(x, shapeOf(x), [&](Type t) {
        return fhe::NonlinearOp::create(builder, loc, t, x.tensor,
                                        builder.getStringAttr(fn),
                                        rangeAttr(in));
      });
      statePrecision(a, 2, r.tensor);
      setRange(r.tensor, image(fn, in));
      return r;
    }
    if (fn == "max" || fn == "min") {
      Args a = bindArgs(e, {"a", "b", "range", "precision"}, 2);
      Val x = tensorArg(a, 0), y = tensorArg(a, 1);
      Shape s = check(shapes::broadcast(shapeOf(x), shapeOf(y)));
      std::optional<Interval> rx = rangeOf(x.tensor), ry = rangeOf(y.tensor);
      Interval in;
      if (a.byPosition[2])
        in = requireRange(a, 2, x.tensor, e);
      else if (rx && ry)
        in = {std::min(rx->lo, ry->lo), std::max(rx->hi, ry->hi)};
      else
        fail(e.loc, "'" + fn +
                        "' needs the range of its inputs: pass range "
                        "= [lo, hi] or 'assume' ranges");
      bool cipher = fhe::isCipher(x.tensor.getType()) ||
                    fhe::isCipher(y.tensor.getType());
      Value v = fhe::MaxMinOp::create(
          builder, loc, fhe::tensorType(&ctx, s, cipher), x.tensor, y.tensor,
          builder.getBoolAttr(fn == "max"), rangeAttr(in));
      statePrecision(a, 3, v);
      setRange(v, in);
      return Val::ofTensor(v);
    }
    if (fn == "poly") {
      Args a = bindArgs(e, {"x", "coeffs", "basis", "range"}, 2);
      Val x = tensorArg(a, 0);
      Val c = eval(*a.byPosition[1]);
      std::vector<double> coeffs;
      if (c.kind != Val::Kind::List || c.items.empty())
        fail(a.byPosition[1]->loc, "poly's coefficients must be a non-empty "
                                   "list of numbers");
      for (const Val &v : c.items) {
        if (!v.isNumber())
          fail(a.byPosition[1]->loc, "poly's coefficients must be numbers");
        coeffs.push_back(v.number());
      }
      std::string basis = "power";
      if (a.byPosition[2]) {
        Val b = eval(*a.byPosition[2]);
        if (b.kind != Val::Kind::Str || (b.s != "power" && b.s != "chebyshev"))
          fail(a.byPosition[2]->loc,
               "basis must be \"power\" or \"chebyshev\"");
        basis = b.s;
      }
      Interval in = requireRange(a, 3, x.tensor, e);
      Val r = unary(x, shapeOf(x), [&](Type t) {
        return fhe::PolyOp::create(builder, loc, t, x.tensor,
                                   builder.getDenseF64ArrayAttr(coeffs),
                                   builder.getStringAttr(basis), rangeAttr(in));
      });
      setRange(r.tensor, polyRange(coeffs, basis, in));
      return r;
    }
    if (fn == "sum" || fn == "mean") {
      Args a = bindArgs(e, {"a", "axis"}, 1);
      Val x = tensorArg(a, 0);
      std::optional<int64_t> axis;
      if (a.byPosition[1])
        axis = evalInt(*a.byPosition[1], "the axis");
      Shape in = shapeOf(x);
      Shape s = check(shapes::reduce(in, axis ? &*axis : nullptr));
      mlir::IntegerAttr axisAttr =
          axis ? builder.getI64IntegerAttr(*axis) : mlir::IntegerAttr();
      int64_t count =
          axis ? in[(*axis + int64_t(in.size())) % int64_t(in.size())]
               : shapes::numElements(in);
      Val r = unary(x, s, [&](Type t) -> Value {
        if (fn == "sum")
          return fhe::SumOp::create(builder, loc, t, x.tensor, axisAttr);
        return fhe::MeanOp::create(builder, loc, t, x.tensor, axisAttr);
      });
      if (auto rx = rangeOf(x.tensor))
        setRange(r.tensor,
                 fn == "mean" ? *rx : Interval{rx->lo * count, rx->hi * count});
      return r;
    }
    if (fn == "roll") {
      Args a = bindArgs(e, {"a", "shift", "axis"}, 2);
      Val x = tensorArg(a, 0);
      int64_t shift = evalInt(*a.byPosition[1], "the shift");
      int64_t axis = intArg(a, 2, 0, "the axis");
      Shape s = check(shapes::roll(shapeOf(x), axis));
      Val r = unary(x, s, [&](Type t) {
        return fhe::RollOp::create(builder, loc, t, x.tensor,
                                   builder.getI64IntegerAttr(shift),
                                   builder.getI64IntegerAttr(axis));
      });
      setRange(r.tensor, rangeOf(x.tensor));
      return r;
    }
    if (fn == "transpose") {
      Args a = bindArgs(e, {"a", "perm"}, 1);
      Val x = tensorArg(a, 0);
      std::vector<int64_t> perm;
      if (a.byPosition[1])
        perm = intList(*a.byPosition[1], "the permutation");
      return transpose(x, perm, e.loc);
    }
    if (fn == "reshape") {
      Args a = bindArgs(e, {"a", "shape"}, 2);
      Val x = tensorArg(a, 0);
      std::vector<int64_t> dims = intList(*a.byPosition[1], "the shape");
      Shape s = check(shapes::reshape(shapeOf(x), dims));
      Val r = unary(x, s, [&](Type t) {
        return fhe::ReshapeOp::create(builder, loc, t, x.tensor,
                                      builder.getDenseI64ArrayAttr(s));
      });
      setRange(r.tensor, rangeOf(x.tensor));
      return r;
    }
    if (fn == "concat") {
      Args a = bindArgs(e, {"tensors", "axis"}, 1);
      const Expr &listExpr = *a.byPosition[0];
      if (listExpr.kind != Expr::Kind::List || listExpr.elements.empty())
        fail(listExpr.loc, "concat takes a list of tensors: concat([a, b], "
                           "axis)");
      std::vector<Value> parts;
      std::vector<Shape> shapesIn;
      bool cipher = false;
      std::optional<Interval> range;
      for (const ExprPtr &p : listExpr.elements) {
        Val v = asTensor(eval(*p), *p);
        parts.push_back(v.tensor);
        shapesIn.push_back(shapeOf(v));
        cipher |= fhe::isCipher(v.tensor.getType());
        auto r = rangeOf(v.tensor);
        range =
            r && (parts.size() == 1 || range)
                ? std::optional<Interval>(
                      parts.size() == 1 ? *r
                                        : Interval{std::min(range->lo, r->lo),
                                                   std::max(range->hi, r->hi)})
                : std::nullopt;
      }
      int64_t axis = intArg(a, 1, 0, "the axis");
      Shape s = check(shapes::concat(shapesIn, axis));
      Value v =
          fhe::ConcatOp::create(builder, loc, fhe::tensorType(&ctx, s, cipher),
                                parts, builder.getI64IntegerAttr(axis));
      setRange(v, range);
      return Val::ofTensor(v);
    }
    if (fn == "linear") {
      Args a = bindArgs(e, {"x", "W", "b"}, 2);
      Val x = tensorArg(a, 0);
      Value w = plainArg(a, 1, "linear's weight");
      Value b = a.byPosition[2] ? plainArg(a, 2, "linear's bias") : Value();
      Shape bs = b ? shapeOf(b) : Shape();
      Shape ws = shapeOf(w);
      Shape s = check(shapes::linear(shapeOf(x), ws, b ? &bs : nullptr));
      Val r = unary(x, s, [&](Type t) {
        return fhe::LinearOp::create(builder, loc, t, x.tensor, w, b);
      });
      auto range = matmulRange(x.tensor, w, ws[1]);
      if (range && b)
        if (auto rb = rangeOf(b))
          range = Interval{range->lo + rb->lo, range->hi + rb->hi};
      setRange(r.tensor, b && !rangeOf(b) ? std::nullopt : range);
      return r;
    }
    if (fn == "conv2d") {
      Args a = bindArgs(e, {"x", "W", "b", "stride", "padding", "groups"}, 2);
      Val x = tensorArg(a, 0);
      Value w = plainArg(a, 1, "conv2d's weight");
      Value b = a.byPosition[2] ? plainArg(a, 2, "conv2d's bias") : Value();
      int64_t stride = intArg(a, 3, 1, "the stride");
      int64_t padding = intArg(a, 4, 0, "the padding");
      int64_t groups = intArg(a, 5, 1, "the groups");
      Shape ws = shapeOf(w);
      Shape bs = b ? shapeOf(b) : Shape();
      Shape s = check(shapes::conv2d(shapeOf(x), ws, b ? &bs : nullptr, stride,
                                     padding, groups));
      Val r = unary(x, s, [&](Type t) {
        return fhe::Conv2dOp::create(builder, loc, t, x.tensor, w, b,
                                     builder.getI64IntegerAttr(stride),
                                     builder.getI64IntegerAttr(padding),
                                     builder.getI64IntegerAttr(groups));
      });
      if (ws.size() == 4)
        setRange(r.tensor, matmulRange(x.tensor, w, ws[1] * ws[2] * ws[3]));
      return r;
    }
    if (fn == "avgpool2d") {
      Args a = bindArgs(e, {"x", "kernel", "stride"}, 2);
      Val x = tensorArg(a, 0);
      int64_t kernel = evalInt(*a.byPosition[1], "the kernel size");
      int64_t stride = intArg(a, 2, kernel, "the stride");
      Shape s = check(shapes::avgpool2d(shapeOf(x), kernel, stride));
      Val r = unary(x, s, [&](Type t) {
        return fhe::AvgPool2dOp::create(builder, loc, t, x.tensor,
                                        builder.getI64IntegerAttr(kernel),
                                        builder.getI64IntegerAttr(stride));
      });
      setRange(r.tensor, rangeOf(x.tensor));
      return r;
    }
    if (fn == "global_avgpool") {
      Args a = bindArgs(e, {"x"}, 1);
      Val x = tensorArg(a, 0);
      Shape s = check(shapes::globalAvgpool(shapeOf(x)));
      Val r = unary(x, s, [&](Type t) {
        return fhe::GlobalAvgPoolOp::create(builder, loc, t, x.tensor);
      });
      setRange(r.tensor, rangeOf(x.tensor));
      return r;
    }
    if (fn == "batchnorm") {
      Args a = bindArgs(e, {"x", "gamma", "beta", "mean", "var", "eps"}, 5);
      Val x = tensorArg(a, 0);
      Value p[4];
      const char *names[] = {"gamma", "beta", "mean", "var"};
      for (int i = 0; i < 4; ++i) {
        p[i] = plainArg(a, 1 + i, std::string("batchnorm's ") + names[i]);
        Shape ps = shapeOf(p[i]);
        check(shapes::batchnorm(shapeOf(x), ps));
      }
      double eps = numArg(a, 5, 1e-5, "eps");
      return unary(x, shapeOf(x), [&](Type t) {
        return fhe::BatchNormOp::create(builder, loc, t, x.tensor, p[0], p[1],
                                        p[2], p[3],
                                        builder.getF64FloatAttr(eps));
      });
    }
    if (fn == "layernorm" || fn == "rmsnorm") {
      bool ln = fn == "layernorm";
      Args a = ln ? bindArgs(e, {"x", "gamma", "beta", "eps", "range"}, 3)
                  : bindArgs(e, {"x", "gamma", "eps", "range"}, 2);
      Val x = tensorArg(a, 0);
      Value gamma = plainArg(a, 1, fn + "'s gamma");
      Value beta = ln ? plainArg(a, 2, "layernorm's beta") : Value();
      for (Value p : {gamma, beta}) {
        if (!p)
          continue;
        Shape ps = shapeOf(p);
        check(shapes::lastAxisNorm(shapeOf(x), ps));
      }
      size_t epsAt = ln ? 3 : 2;
      double eps = numArg(a, epsAt, ln ? 1e-5 : 1e-6, "eps");
      Interval in = requireRange(a, epsAt + 1, x.tensor, e);
      return unary(x, shapeOf(x), [&](Type t) {
        return fhe::NormOp::create(builder, loc, t, x.tensor, gamma, beta,
                                   builder.getStringAttr(fn),
                                   builder.getF64FloatAttr(eps), rangeAttr(in));
      });
    }
    if (fn == "softmax") {
      Args a = bindArgs(e, {"x", "axis", "range"}, 2);
      Val x = tensorArg(a, 0);
      int64_t axis = evalInt(*a.byPosition[1], "the axis");
      Shape s = check(shapes::roll(shapeOf(x), axis));
      Interval in = requireRange(a, 2, x.tensor, e);
      Val r = unary(x, s, [&](Type t) {
        return fhe::SoftmaxOp::create(builder, loc, t, x.tensor,
                                      builder.getI64IntegerAttr(axis),
                                      rangeAttr(in));
      });
      setRange(r.tensor, Interval{0, 1});
      return r;
    }
    if (fn == "bootstrap") {
      Args a = bindArgs(e, {"x"}, 1);
      Val x = tensorArg(a, 0);
      if (!fhe::isCipher(x.tensor.getType()))
        fail(e.loc, "bootstrap applies to cipher tensors only");
      Val r = unary(x, shapeOf(x), [&](Type t) {
        return fhe::BootstrapOp::create(builder, loc, t, x.tensor);
      });
      setRange(r.tensor, rangeOf(x.tensor));
      return r;
    }
    if (fn == "load")
      fail(e.loc, "load(...) is only allowed in a 'weights' declaration");
    fail(e.loc, "unknown function '" + fn + "'" + suggestName(fn));
  }

  mlir::DenseF64ArrayAttr rangeAttr(Interval in) {
    return builder.getDenseF64ArrayAttr({in.lo, in.hi});
  }

  static std::string fmtNum(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
  }

  static Interval polyRange(const std::vector<double> &c,
                            const std::string &basis, Interval in) {
    // Denser than for the functions: degrees up to ~30 oscillate faster.
    return sampledImage(
        [&](double x) {
          return evaluatePolynomial(c, basis == "chebyshev", in.lo, in.hi, x);
        },
        in, 512);
  }

  Val callUser(const Function &f, const Expr &call) {
    if (!call.named.empty())
      fail(call.named[0].loc, "user functions take positional arguments only");
    if (call.elements.size() != f.params.size())
      fail(call.loc, "'" + f.name + "' takes " +
                         std::to_string(f.params.size()) + " argument" +
                         (f.params.size() == 1 ? "" : "s") + ", got " +
                         std::to_string(call.elements.size()));
    if (++depth > 64)
      fail(call.loc, "calls nest deeper than 64 (recursion is not allowed)");
    std::vector<Val> args;
    for (const ExprPtr &a : call.elements)
      args.push_back(eval(*a));
    // Parameters live in a fresh scope that sees only globals.
    auto saved = std::move(scopes);
    scopes.clear();
    scopes.emplace_back();
    for (size_t i = 0; i < args.size(); ++i) {
      ResolvedType t = resolveType(f.params[i].type);
      checkType(args[i], t, call.elements[i]->loc,
                "argument '" + f.params[i].name + "' of '" + f.name + "'");
      bind(f.params[i].name, args[i], f.params[i].loc);
    }
    ResolvedType result = resolveType(f.result);
    SourceLoc savedReturn = returnLoc;
    std::optional<Val> r = execBlock(f.body);
    if (!r)
      fail(f.loc, "'" + f.name + "' does not return a value");
    checkType(*r, result, returnLoc, "the result of '" + f.name + "'");
    returnLoc = savedReturn;
    scopes = std::move(saved);
    --depth;
    return *r;
  }

  const Program &prog;
  const SourceFile &file;
  mlir::MLIRContext &ctx;
  mlir::OpBuilder builder;
  const std::map<std::string, std::string> &overrides;
  bool insecure;
  std::map<std::string, Val> globals;
  std::map<std::string, const Function *> functions;
  std::vector<std::map<std::string, Val>> scopes;
  std::map<const void *, Interval> ranges;
  std::map<std::string, Value> weightValues;
  SourceLoc returnLoc;
  int depth = 0;
  int recursion = 0;
};

} // namespace

FheProgram buildFhe(const Program &program, mlir::MLIRContext &context,
                    const std::map<std::string, std::string> &overrides,
                    bool insecure) {
  return withStack(kFrontEndStackBytes, [&] {
    return Sema(program, context, overrides, insecure).run();
  });
}

} // namespace cerium::dsl
