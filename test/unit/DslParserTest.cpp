//===- DslParserTest.cpp - .fhe lexer and parser --------------------------===//

#include "cerium/DSL/Lexer.h"
#include "cerium/DSL/Parser.h"

#include <gtest/gtest.h>

using namespace cerium::dsl;

namespace {

Program parseText(const std::string &text) {
  return parse(std::make_shared<SourceFile>("test.fhe", text));
}

/// The full diagnostic of a program that must not parse.
std::string errorOf(const std::string &text) {
  try {
    parseText(text);
  } catch (const SourceError &e) {
    return e.what();
  }
  return "";
}

// The example of DSL.md, verbatim.
const char *kDigits = R"(# digits.fhe — a two-layer classifier over 8x8 images
weights w = load("digits.safetensors");

fn main(x: cipher[64]) -> cipher[10] {
  let h = linear(x, w["fc1.weight"], w["fc1.bias"]);   # [32]
  h = relu(h, range = [-16, 16]);
  return linear(h, w["fc2.weight"], w["fc2.bias"]);
}
)";

TEST(DslParser, ParsesTheSpecExample) {
  Program p = parseText(kDigits);
  ASSERT_EQ(p.weights.size(), 1u);
  EXPECT_EQ(p.weights[0].name, "w");
  EXPECT_EQ(p.weights[0].path, "digits.safetensors");
  ASSERT_EQ(p.functions.size(), 1u);
  const Function &f = p.functions[0];
  EXPECT_EQ(f.name, "main");
  ASSERT_EQ(f.params.size(), 1u);
  EXPECT_EQ(f.params[0].type.kind, TypeExpr::Kind::Cipher);
  ASSERT_EQ(f.body.size(), 3u);
  EXPECT_EQ(f.body[0]->kind, Stmt::Kind::Let);
  EXPECT_EQ(f.body[1]->kind, Stmt::Kind::Assign);
  const Expr &relu = *f.body[1]->value;
  EXPECT_EQ(relu.kind, Expr::Kind::Call);
  EXPECT_EQ(relu.text, "relu");
  ASSERT_EQ(relu.named.size(), 1u);
  EXPECT_EQ(relu.named[0].name, "range");
  const Expr &range = *relu.named[0].value;
  ASSERT_EQ(range.kind, Expr::Kind::List);
  EXPECT_EQ(range.elements[0]->number, -16);
  EXPECT_EQ(f.body[2]->kind, Stmt::Kind::Return);
  // Locations are 1-based line:column.
  EXPECT_EQ(f.body[0]->loc.line, 5u);
  EXPECT_EQ(f.body[0]->loc.column, 3u);
}

TEST(DslParser, ParsesEveryConstruct) {
  Program p = parseText(R"(
option precision = 1e-4;
option ring_dim = auto;
const HIDDEN = 16;
const taps = [1.0, -2, 0.5, 2.5E+4];
weights m = load("model \"v2\" \\ x.safetensors");

fn block(x: cipher[4, HIDDEN], i: int) -> cipher[4, HIDDEN] {
  let y = layernorm(x, m["layers.{i}.ln.gamma"], m["layers.{i}.ln.beta"]);
  y = y @ m["layers.{i + 1}.w"].T + -x / 2.0;
  return softmax(y, 1);
}

fn main(x: cipher[4, 16], b: plain[16]) -> (cipher[4, 16], cipher[1]) {
  assume x in [-1, 1];
  for i in 0..2 {
    x = block(x, i);
  }
  if HIDDEN > 8 && !(HIDDEN == 3) {
    x = x * b;
  } else if HIDDEN <= 2 || true {
    x = roll(x, -1, 1);
  } else {
    x = transpose(reshape(x, [16, 4]), [1, 0]);
  }
  let s = sum(x[0][1:3]) + mean(x[:2], 0)[0] + poly(x[1:], taps, basis = "chebyshev", range = [-1, 1],);
  return (x, s);
}
)");
  EXPECT_EQ(p.options.size(), 2u);
  EXPECT_EQ(p.consts.size(), 2u);
  EXPECT_EQ(p.weights[0].path, "model \"v2\" \\ x.safetensors");
  ASSERT_EQ(p.functions.size(), 2u);
  EXPECT_EQ(p.functions[1].result.kind, TypeExpr::Kind::Tuple);
  EXPECT_EQ(p.functions[1].result.elements.size(), 2u);
  const Block &body = p.functions[1].body;
  EXPECT_EQ(body[0]->kind, Stmt::Kind::Assume);
  EXPECT_EQ(body[1]->kind, Stmt::Kind::For);
  ASSERT_EQ(body[2]->kind, Stmt::Kind::If);
  ASSERT_EQ(body[2]->elseBody.size(), 1u);
  EXPECT_EQ(body[2]->elseBody[0]->kind, Stmt::Kind::If);
  EXPECT_EQ(body[2]->elseBody[0]->elseBody.size(), 1u);
  // y @ W.T + -x / 2.0 parses as (y @ (W.T)) + ((-x) / 2.0).
  const Expr &assign = *p.functions[0].body[1]->value;
  ASSERT_EQ(assign.kind, Expr::Kind::Binary);
  EXPECT_EQ(assign.binaryOp, BinaryOp::Add);
  EXPECT_EQ(assign.lhs->binaryOp, BinaryOp::MatMul);
  EXPECT_EQ(assign.lhs->rhs->kind, Expr::Kind::Transpose);
  EXPECT_EQ(assign.rhs->binaryOp, BinaryOp::Div);
  EXPECT_EQ(assign.rhs->lhs->kind, Expr::Kind::Unary);
  // Slices keep absent bounds absent.
  const Expr &sum = *body[3]->value->lhs->lhs;
  EXPECT_EQ(sum.elements[0]->kind, Expr::Kind::Slice);
  const Expr &tupleRet = *body[4]->value;
  EXPECT_EQ(tupleRet.kind, Expr::Kind::Tuple);
}

TEST(DslLexer, NumbersAndRanges) {
  auto toks = lex(SourceFile("t.fhe", "12 0.5 1e-3 2.5E+4 .5 0..4"));
  std::vector<Tok> kinds;
  for (auto &t : toks)
    kinds.push_back(t.kind);
  EXPECT_EQ(kinds, (std::vector<Tok>{Tok::Integer, Tok::Float, Tok::Float,
                                     Tok::Float, Tok::Float, Tok::Integer,
                                     Tok::DotDot, Tok::Integer, Tok::Eof}));
}

struct BadProgram {
  const char *text;
  const char *expect; // full first line of the diagnostic
  const char *caretLine;
};

TEST(DslParser, SyntaxErrorsPointAtTheProblem) {
  const BadProgram cases[] = {
      {"fn main(x: cipher[4]) -> cipher[4] {\n  return x\n}\n",
       "test.fhe:3:1: error: expected ';' after the returned value, found '}'",
       "  ^"},
      {"let x = 3;",
       "test.fhe:1:1: error: expected 'weights', 'const', "
       "'option' or 'fn' at top level, found 'let'",
       "  ^"},
      {"fn main(x: cipher[4]) -> cipher[4] {\n  return x $ 2;\n}",
       "test.fhe:2:12: error: unexpected character '$'", "             ^"},
      {"weights w = load(\"a.safetensors);\n",
       "test.fhe:1:18: error: unterminated string", "                   ^"},
      {"fn main(x: tensor[4]) -> cipher[4] { return x; }",
       "test.fhe:1:12: error: expected a type (cipher[...], plain[...], f64 "
       "or int), found 'tensor'",
       "             ^"},
      {"fn main(x: cipher[4]) -> cipher[4] { return x.shape; }",
       "test.fhe:1:47: error: unknown attribute '.shape' (only .T, the "
       "transpose, exists)",
       "                                                ^"},
      {"const a = 1e+;",
       "test.fhe:1:11: error: malformed number: the "
       "exponent has no digits",
       "            ^"},
      {"fn main(x: cipher[4]) -> cipher[4] { x + 1; }",
       "test.fhe:1:38: error: expected a statement (let, an assignment, "
       "return, for, if or assume), found 'x'",
       "                                       ^"},
      {"fn main(x: cipher[4]) -> cipher[4] { return f(a = 1, 2); }",
       "test.fhe:1:54: error: positional argument after a keyword argument",
       "                                                       ^"},
      {"fn main(x: cipher[4]) -> cipher[4] {\n  let y = x;\n",
       "test.fhe:3:1: error: expected '}' to close the block, found end of "
       "file",
       "  ^"},
      {"const s = \"a\\nb\";",
       "test.fhe:1:13: error: unknown escape in string (only \\\" and \\\\ "
       "exist)",
       "              ^"},
  };
  for (const BadProgram &c : cases) {
    std::string msg = errorOf(c.text);
    ASSERT_FALSE(msg.empty()) << "parsed: " << c.text;
    // Three lines: the error, the source line, the caret.
    size_t nl1 = msg.find('\n'), nl2 = msg.find('\n', nl1 + 1);
    ASSERT_NE(nl2, std::string::npos) << msg;
    EXPECT_EQ(msg.substr(0, nl1), c.expect);
    EXPECT_EQ(msg.substr(nl2 + 1), c.caretLine) << msg;
  }
}

std::string repeat(const std::string &s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += s;
  return out;
}

// Deep nesting of every kind is one source error, not a stack overflow.
TEST(DslParser, DeepNestingIsASourceError) {
  const int n = 50000;
  const std::string header = "fn main(x: cipher[4]) -> cipher[4] { return ";
  const std::string sources[] = {
      header + repeat("(", n) + "x" + repeat(")", n) + "; }",
      header + repeat("-", n) + "x; }",
      header + "x" + repeat(" + x", n) + "; }",
      header + "x" + repeat("[0]", n) + "; }",
      header + "x" + repeat(".T", n) + "; }",
      header + repeat("f(", n) + "x" + repeat(")", n) + "; }",
      header + repeat("[", n) + "x" + repeat("]", n) + "; }",
      "fn main(x: cipher[4]) -> cipher[4] { " + repeat("if true { ", n) +
          repeat("}", n) + " return x; }",
      "fn main(x: cipher[4]) -> cipher[4] { if true { } " +
          repeat("else if true { } ", n) + "return x; }",
      "fn main(x: " + repeat("(", n) + "f64" + repeat(")", n) +
          ") -> cipher[4] { return x; }",
  };
  for (const std::string &text : sources) {
    std::string msg = errorOf(text);
    EXPECT_NE(msg.find("error: nested too deeply (more than 256 levels"),
              std::string::npos)
        << msg.substr(0, 200);
  }
  // Nesting well inside the bound parses.
  EXPECT_NO_THROW(parseText(header + repeat("(", 60) + "x" + repeat(")", 60) +
                            repeat(" + x", 60) + "; }"));
}

TEST(DslParser, UnreadableFileIsOneLine) {
  try {
    SourceFile::read("/nonexistent/x.fhe");
    FAIL();
  } catch (const cerium::Error &e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/x.fhe: cannot open: No such file or directory");
  }
}

} // namespace
