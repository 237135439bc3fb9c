//===- AST.h - Syntax tree of .fhe programs ---------------------*- C++ -*-===//
//
// What the parser produces: items, statements and expressions with their
// source locations. Semantic analysis (names, shapes, compile-time values)
// runs on this tree and builds the fhe dialect.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DSL_AST_H
#define CERIUM_DSL_AST_H

#include "cerium/DSL/Source.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cerium::dsl {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  MatMul,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  And,
  Or
};
enum class UnaryOp { Neg, Not };

const char *spelling(BinaryOp op);

/// A keyword argument `name = value` of a call.
struct NamedArg {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

struct Expr {
  enum class Kind {
    Number,    // number (isInteger tells 12 from 12.0)
    String,    // text (may hold {expr} interpolations, resolved by sema)
    Bool,      // boolean
    Name,      // name
    List,      // [elements...]
    Tuple,     // (elements...) with two or more elements
    Unary,     // unaryOp operand
    Binary,    // lhs binaryOp rhs
    Call,      // callee(args..., named...)
    Index,     // base[index]
    Slice,     // base[lo:hi] (lo/hi optional)
    Transpose, // base.T
  };
  Kind kind;
  SourceLoc loc;

  double number = 0;
  bool isInteger = false;
  /// An integer literal's exact value (`number` rounds past 2^53).
  int64_t integer = 0;
  bool boolean = false;
  std::string text; // String contents, Name, Call callee
  UnaryOp unaryOp = UnaryOp::Neg;
  BinaryOp binaryOp = BinaryOp::Add;
  std::vector<ExprPtr> elements; // List, Tuple, Call positional args
  std::vector<NamedArg> named;   // Call keyword args
  ExprPtr lhs, rhs;              // Unary operand (lhs), Binary, Index/Slice
  ExprPtr sliceHi;               // Slice upper bound (lhs = base, rhs = lo)

  Expr(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind { Let, Assign, Return, For, If, Assume, ExprStmt };
  Kind kind;
  SourceLoc loc;
  std::string name; // Let, Assign, For variable
  ExprPtr value;    // Let/Assign/Return value, For lower bound, If cond,
                    // Assume subject, ExprStmt
  ExprPtr upper;    // For upper bound (exclusive); Assume upper bound
  ExprPtr lower;    // Assume lower bound
  Block body;       // For body, If then-branch
  Block elseBody;   // If else-branch (an else-if is one nested If)

  Stmt(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

/// `cipher[d0, ...]`, `plain[...]`, `f64`, `int`, or a tuple of them.
struct TypeExpr {
  enum class Kind { Cipher, Plain, F64, Int, Tuple };
  Kind kind;
  SourceLoc loc;
  std::vector<ExprPtr> dims;      // Cipher/Plain
  std::vector<TypeExpr> elements; // Tuple
};

struct Param {
  std::string name;
  SourceLoc loc;
  TypeExpr type;
};

struct Function {
  std::string name;
  SourceLoc loc;
  std::vector<Param> params;
  TypeExpr result;
  Block body;
};

struct WeightsDecl {
  std::string name, path;
  SourceLoc loc, pathLoc;
};

/// `const NAME = expr;` and `option KEY = value;`.
struct Binding {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

struct Program {
  std::shared_ptr<const SourceFile> source;
  std::vector<WeightsDecl> weights;
  std::vector<Binding> consts;
  std::vector<Binding> options;
  std::vector<Function> functions;
};

} // namespace cerium::dsl

#endif // CERIUM_DSL_AST_H
