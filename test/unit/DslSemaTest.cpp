//===- DslSemaTest.cpp - Semantic analysis: errors and the fhe it builds --===//
//
// Every error class of DSL.md ("Errors") gives a one-sentence diagnostic at
// the right file:line:col, and valid programs build verified fhe IR.
//
//===----------------------------------------------------------------------===//

#include "cerium/DSL/Parser.h"
#include "cerium/DSL/Sema.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace cerium::dsl;

namespace {

const std::string kExamples = CERIUM_EXAMPLES_DIR;

class DslSema : public ::testing::Test {
protected:
  DslSema() {
    context.loadDialect<cerium::fhe::FHEDialect, mlir::func::FuncDialect>();
  }
  /// Builds a program placed in examples/digits (so its weights resolve).
  FheProgram build(const std::string &text,
                   std::map<std::string, std::string> overrides = {}) {
    auto src =
        std::make_shared<SourceFile>(kExamples + "/digits/test.fhe", text);
    return buildFhe(parse(src), context, overrides);
  }
  std::string print(FheProgram &&p) {
    std::string s;
    llvm::raw_string_ostream os(s);
    p.module->print(os);
    return s;
  }
  /// The first line of the diagnostic, without the path.
  std::string errorOf(const std::string &text,
                      std::map<std::string, std::string> overrides = {}) {
    try {
      build(text, overrides);
    } catch (const cerium::Error &e) {
      std::string msg = e.what();
      msg = msg.substr(0, msg.find('\n'));
      size_t at = msg.find("test.fhe:");
      return at == std::string::npos ? msg : msg.substr(at + 9);
    }
    return "";
  }
  mlir::MLIRContext context;
};

TEST_F(DslSema, BuildsTheSpecExample) {
  FheProgram p = build(R"(
weights w = load("digits.safetensors");
fn main(x: cipher[64]) -> cipher[10] {
  let h = linear(x, w["fc1.weight"], w["fc1.bias"]);
  h = relu(h, range = [-16, 16]);
  return linear(h, w["fc2.weight"], w["fc2.bias"]);
}
)");
  ASSERT_EQ(p.inputs.size(), 1u);
  EXPECT_EQ(p.inputs[0].name, "x");
  EXPECT_EQ(p.inputs[0].shape, (std::vector<int64_t>{64}));
  ASSERT_EQ(p.outputs.size(), 1u);
  EXPECT_EQ(p.outputs[0].shape, (std::vector<int64_t>{10}));
  std::string ir = print(std::move(p));
  EXPECT_NE(ir.find("fhe.nonlinear"), std::string::npos) << ir;
  EXPECT_NE(ir.find("-> !fhe.cipher<[10]>"), std::string::npos) << ir;
}

TEST_F(DslSema, OptionsAndOverrides) {
  const char *prog = R"(
option precision = 1e-4;
option ring_dim = 16384;
option slots = auto;
fn main(x: cipher[4]) -> cipher[4] { return x; }
)";
  FheProgram p = build(prog);
  EXPECT_EQ(p.options.precision, 1e-4);
  EXPECT_EQ(p.options.ringDim, 16384);
  EXPECT_EQ(p.options.slots, 0);
  EXPECT_EQ(p.options.security, 128);
  p = build(prog, {{"precision", "0.01"}, {"ring_dim", "auto"}});
  EXPECT_EQ(p.options.precision, 0.01);
  EXPECT_EQ(p.options.ringDim, 0);
  EXPECT_EQ(errorOf(prog, {{"security", "0"}}),
            "--opt security: = 0 needs --insecure");
  // N / 2 slots at most.
  EXPECT_EQ(errorOf(prog, {{"slots", "16384"}}),
            "--opt slots: = 16384 does not fit ring_dim = 16384, which holds "
            "at most 8192 slots");
  EXPECT_EQ(errorOf("option ring_dim = 1024;\noption slots = 1024;\n"
                    "fn main(x: cipher[4]) -> cipher[4] { return x; }\n"),
            "2:8: error: option 'slots' = 1024 does not fit ring_dim = 1024, "
            "which holds at most 512 slots");
}

TEST_F(DslSema, RangesAreDerivedThroughOps) {
  // assume x in [-1, 1] reaches relu through 2 * x + 1 (range [-1, 3]).
  std::string ir = print(build(R"(
fn main(x: cipher[4]) -> cipher[4] {
  assume x in [-1, 1];
  return relu(2 * x + 1);
}
)"));
  EXPECT_NE(ir.find("range = array<f64: -1.000000e+00, 3.000000e+00>"),
            std::string::npos)
      << ir;
}

TEST_F(DslSema, AssumeOfAComputedValueMarksItsOp) {
  // The analyses after the source (bootstraps' bounds) read it there.
  std::string ir = print(build(R"(
fn main(x: cipher[4]) -> cipher[4] {
  let h = x * 3;
  assume h in [-1, 1];
  return h;
}
)"));
  EXPECT_NE(ir.find("fhe.assumed = array<f64: -1.000000e+00, 1.000000e+00>"),
            std::string::npos)
      << ir;
}

struct BadCase {
  const char *text;
  const char *error; // "line:col: error: message"
};

TEST_F(DslSema, ErrorsNameTheProblem) {
  const BadCase cases[] = {
      {"fn main(x: cipher[4]) -> cipher[4] { return y; }",
       "1:45: error: unknown name 'y'"},
      {"fn main(x: cipher[4]) -> cipher[4] { let xs = x; return xz; }",
       "1:57: error: unknown name 'xz'"},
      {"fn main(x: cipher[4]) -> cipher[4] { return relu(x, [0, 1], 0.1, 3); "
       "}",
       "1:45: error: 'relu' takes at most 3 arguments, got 4"},
      {"fn main(x: cipher[4]) -> cipher[4] { return linear(x); }",
       "1:45: error: 'linear' needs its argument 'W'"},
      {"fn main(x: cipher[4], y: cipher[3]) -> cipher[4] { return x + y; }",
       "1:61: error: shape mismatch in '+': shapes [4] and [3] do not "
       "broadcast"},
      {"fn main(x: cipher[4]) -> cipher[5] { return x; }",
       "1:38: error: main's result has type cipher[4] but cipher[5] is "
       "declared"},
      {"fn f(a: cipher[3]) -> cipher[3] { return a; }\n"
       "fn main(x: cipher[4]) -> cipher[4] { return f(x); }",
       "2:47: error: argument 'a' of 'f' has type cipher[4] but cipher[3] is "
       "declared"},
      {"fn main(x: cipher[4]) -> cipher[4] { if x { return x; } return x; }",
       "1:41: error: the condition of 'if' must be a compile-time value, not "
       "a cipher tensor"},
      {"fn main(x: cipher[4], y: cipher[4]) -> cipher[4] { return x / y; }",
       "1:63: error: cannot divide by a cipher value: the divisor must be a "
       "scalar or a plain tensor"},
      {"fn main(x: cipher[4]) -> cipher[4] { return sigmoid(x); }",
       "1:45: error: 'sigmoid' needs the range of its input: pass range = "
       "[lo, hi] or 'assume' a range for the input"},
      {"weights w = load(\"digits.safetensors\");\n"
       "fn main(x: cipher[64]) -> cipher[32] { return linear(x, "
       "w[\"fc1.weigth\"]); }",
       "2:59: error: no tensor 'fc1.weigth' in "},
      {"weights w = load(\"missing.safetensors\");\n"
       "fn main(x: cipher[4]) -> cipher[4] { return x; }",
       "1:18: error: cannot load weights: "},
      {"option colour = 3;\nfn main(x: cipher[4]) -> cipher[4] { return x; }",
       "1:8: error: option 'colour' is unknown (options: security, "
       "precision, ring_dim, slots, max_levels, max_rotation_keys, "
       "max_key_memory, layout_search)"},
      {"option max_levels = 0;\nfn main(x: cipher[4]) -> cipher[4] { return "
       "x; }",
       "1:8: error: option 'max_levels' must be an integer in [1, 1024] or "
       "auto"},
      {"fn main(x: cipher[4]) -> cipher[4] { return log(x, range = [-1, 1]); "
       "}",
       "1:45: error: 'log' needs a positive input range, got [-1, 1]"},
      {"fn main(x: cipher[4]) -> cipher[4] { y = x; return y; }",
       "1:38: error: assignment to unknown name 'y' (declare it with 'let')"},
      {"fn main(x: cipher[2, 3]) -> cipher[3, 3] { return x @ x; }",
       "1:53: error: matmul of [2, 3] and [2, 3]: inner dimensions 3 and 2 "
       "differ"},
      {"fn main(x: cipher[4]) -> cipher[4] { return roll(x, 1, 1); }",
       "1:45: error: axis 1 is out of range for shape [4]"},
      // Compile-time integers are exact 64-bit values: no wrap, no rounding
      // through doubles (2^53 + 1 - (2^53 - 3) is 4), no unbounded unrolling.
      {"const B = 4611686018427387904 * 4; fn main(x: cipher[4]) -> "
       "cipher[4] { return x; }",
       "1:31: error: integer overflow: the result does not fit 64 bits"},
      {"fn main(x: cipher[9007199254740993 - 9007199254740989]) -> "
       "cipher[5] { return x; }",
       "1:72: error: main's result has type cipher[4] but cipher[5] is "
       "declared"},
      {"fn main(x: cipher[4]) -> cipher[4] { let y = x; for i in "
       "0..100000000 { y = y + x; } return y; }",
       "1:61: error: a loop of more than 2^24 iterations (loops are unrolled "
       "at compile time)"},
      {"fn main(x: cipher[3, 6148914691236517206]) -> cipher[4] { return x; "
       "}",
       "1:22: error: a tensor of more than 2^32 elements"},
      // The index and bounds as written.
      {"fn main(x: cipher[4, 6]) -> cipher[6] { return x[-5]; }",
       "1:50: error: index -5 is out of range for shape [4, 6]"},
      {"fn main(x: cipher[4, 6]) -> cipher[1, 6] { return x[5:9]; }",
       "1:52: error: slice [5:9] of shape [4, 6] is empty"},
      {"option slots = 1; fn main(x: cipher[4]) -> cipher[4] { return x; }",
       "1:8: error: option 'slots' must be a power of two, at least 2, or "
       "auto"},
      {"option ring_dim = 4; fn main(x: cipher[4]) -> cipher[4] { return x; "
       "}",
       "1:8: error: option 'ring_dim' must be a power of two from 16 to "
       "131072, or auto"},
      {"fn main(x: cipher[4]) -> cipher[4] { return frobnicate(x); }",
       "1:45: error: unknown function 'frobnicate'"},
      {"fn g(x: cipher[4]) -> cipher[4] { return g(x); }\n"
       "fn main(x: cipher[4]) -> cipher[4] { return g(x); }",
       "1:42: error: calls nest deeper than 64 (recursion is not allowed)"},
      {"fn helper(x: cipher[4]) -> cipher[4] { return x; }",
       "1:1: error: the program has no 'fn main' (the function the tools "
       "run)"},
  };
  for (const BadCase &c : cases) {
    std::string err = errorOf(c.text);
    EXPECT_EQ(err.rfind(c.error, 0), 0u)
        << "program: " << c.text << "\n got: " << err;
  }
}

// Each function nests within the parser's bound, but inlining composes them:
// evaluation depth is bounded across calls too.
TEST_F(DslSema, DeepEvaluationAcrossCallsIsASourceError) {
  std::string text;
  const int functions = 60, terms = 100;
  for (int i = 0; i < functions; ++i) {
    // (append, not "f" + ...: GCC 12 warns falsely of overlapping copies
    // there, -Wrestrict, depending on inlining)
    std::string inner =
        i == 0 ? "a" : std::string("f").append(std::to_string(i - 1)) + "(a)";
    std::string body = inner; // a + (a + (... inner)): 100 nodes deep
    for (int t = 0; t < terms; ++t)
      body = "a + (" + body + ")";
    text += "fn f" + std::to_string(i) +
            "(a: cipher[4]) -> cipher[4] { return " + body + "; }\n";
  }
  text += "fn main(x: cipher[4]) -> cipher[4] { return f" +
          std::to_string(functions - 1) + "(x); }\n";
  EXPECT_NE(errorOf(text).find("error: evaluation nests deeper than 2048 "
                               "levels"),
            std::string::npos)
      << errorOf(text);
}

TEST_F(DslSema, MissingWeightListsCloseMatches) {
  std::string err =
      errorOf("weights w = load(\"digits.safetensors\");\n"
              "fn main(x: cipher[64]) -> cipher[32] { return linear(x, "
              "w[\"fc1.weigth\"]); }");
  EXPECT_NE(err.find("close matches: fc1.weight"), std::string::npos) << err;
}

TEST_F(DslSema, InterpolatedWeightNames) {
  std::string ir = print(build(R"(
weights w = load("digits.safetensors");
fn main(x: cipher[64]) -> cipher[10] {
  let h = x;
  for i in 1..2 {
    h = relu(linear(h, w["fc{i}.weight"], w["fc{i}.bias"]), range = [-8, 8]);
  }
  return linear(h, w["fc{1 + 1}.weight"], w["fc2.bias"]);
}
)"));
  EXPECT_NE(ir.find("[\"fc1.weight\"]"), std::string::npos) << ir;
  EXPECT_NE(ir.find("[\"fc2.weight\"]"), std::string::npos) << ir;
}

} // namespace
