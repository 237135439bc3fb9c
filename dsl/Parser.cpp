//===- Parser.cpp - Recursive-descent parser for .fhe ---------------------===//
//
// Precedence, lowest first: || ; && ; == != < <= > >= ; + - ; * / @ ;
// unary - ! ; postfix (call, [index], [lo:hi], .T) ; primary.
//
//===----------------------------------------------------------------------===//

#include "cerium/DSL/Parser.h"
#include "cerium/DSL/Lexer.h"
#include "cerium/Support/Stack.h"

#include <cstdlib>

namespace cerium::dsl {

const char *spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::MatMul:
    return "@";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::And:
    return "&&";
  case BinaryOp::Or:
    return "||";
  }
  return "?";
}

namespace {

/// How deep syntax may nest (parentheses, operator chains, blocks, types).
/// Semantic analysis and the tree's destructor recurse over it, so a bound
/// keeps a hostile source from overflowing the stack; real programs stay far
/// below it.
constexpr int kMaxNesting = 256;

class Parser {
public:
  Parser(std::shared_ptr<const SourceFile> file)
      : file(std::move(file)), tokens(lex(*this->file)) {}

  ExprPtr runExpression() {
    ExprPtr e = parseExpr();
    if (!at(Tok::Eof))
      fail(cur().loc, "unexpected " + found() + " after the expression");
    return e;
  }

  Program run() {
    Program prog;
    prog.source = file;
    while (!at(Tok::Eof)) {
      switch (cur().kind) {
      case Tok::KwWeights:
        prog.weights.push_back(parseWeights());
        break;
      case Tok::KwConst:
        prog.consts.push_back(parseBinding());
        break;
      case Tok::KwOption:
        prog.options.push_back(parseBinding());
        break;
      case Tok::KwFn:
        prog.functions.push_back(parseFunction());
        break;
      default:
        fail(cur().loc, "expected 'weights', 'const', 'option' or 'fn' at top "
                        "level, found " +
                            found());
      }
    }
    return prog;
  }

private:
  const Token &cur() const { return tokens[pos]; }
  const Token &peek(size_t ahead = 1) const {
    return tokens[std::min(pos + ahead, tokens.size() - 1)];
  }
  bool at(Tok k) const { return cur().kind == k; }
  bool accept(Tok k) {
    if (!at(k))
      return false;
    ++pos;
    return true;
  }
  std::string found() const {
    const Token &t = cur();
    switch (t.kind) {
    case Tok::Identifier:
      return "'" + t.text + "'";
    case Tok::Integer:
    case Tok::Float:
      return "'" + t.text + "'";
    case Tok::String:
      return "a string";
    default:
      return describe(t.kind);
    }
  }
  [[noreturn]] void fail(SourceLoc loc, const std::string &msg) const {
    throw SourceError(*file, loc, msg);
  }

  /// Restores the nesting depth when a parse function returns.
  class NestingScope {
  public:
    explicit NestingScope(Parser &parser)
        : parser(parser), saved(parser.nesting) {}
    ~NestingScope() { parser.nesting = saved; }

  private:
    Parser &parser;
    int saved;
  };
  /// One level deeper: a nested construct, or one more link of an operator
  /// or postfix chain (each makes the tree one node deeper).
  void deeper(SourceLoc loc) {
    if (++nesting > kMaxNesting)
      fail(loc, "nested too deeply (more than " + std::to_string(kMaxNesting) +
                    " levels of parentheses, operators, blocks or types)");
  }
  const Token &expect(Tok k, const char *context) {
    if (!at(k))
      fail(cur().loc, std::string("expected ") + describe(k) + " " + context +
                          ", found " + found());
    return tokens[pos++];
  }

  WeightsDecl parseWeights() {
    WeightsDecl w;
    w.loc = cur().loc;
    ++pos;
    w.name = expect(Tok::Identifier, "after 'weights'").text;
    expect(Tok::Assign, "after the weights name");
    expect(Tok::KwLoad, "in a weights declaration");
    expect(Tok::LParen, "after 'load'");
    w.pathLoc = cur().loc;
    w.path = expect(Tok::String, "(the weights file) in load(...)").text;
    expect(Tok::RParen, "after the weights file");
    expect(Tok::Semi, "after a weights declaration");
    return w;
  }

  Binding parseBinding() {
    const char *what = at(Tok::KwConst) ? "after 'const'" : "after 'option'";
    ++pos;
    Binding b;
    b.loc = cur().loc;
    b.name = expect(Tok::Identifier, what).text;
    expect(Tok::Assign, "after the name");
    b.value = parseExpr();
    expect(Tok::Semi, "at the end of the declaration");
    return b;
  }

  TypeExpr parseType() {
    NestingScope scope(*this);
    TypeExpr t;
    t.loc = cur().loc;
    deeper(t.loc);
    if (accept(Tok::KwCipher) || (at(Tok::KwPlain) && (++pos, true))) {
      t.kind = tokens[pos - 1].kind == Tok::KwCipher ? TypeExpr::Kind::Cipher
                                                     : TypeExpr::Kind::Plain;
      expect(Tok::LBracket, "after the tensor kind (e.g. cipher[64])");
      do
        t.dims.push_back(parseExpr());
      while (accept(Tok::Comma));
      expect(Tok::RBracket, "after the dimensions");
      return t;
    }
    if (at(Tok::Identifier) && (cur().text == "f64" || cur().text == "int")) {
      t.kind = cur().text == "f64" ? TypeExpr::Kind::F64 : TypeExpr::Kind::Int;
      ++pos;
      return t;
    }
    if (accept(Tok::LParen)) {
      t.kind = TypeExpr::Kind::Tuple;
      do
        t.elements.push_back(parseType());
      while (accept(Tok::Comma));
      expect(Tok::RParen, "after the tuple type");
      return t;
    }
    fail(cur().loc, "expected a type (cipher[...], plain[...], f64 or int), "
                    "found " +
                        found());
  }

  Function parseFunction() {
    ++pos; // fn
    Function f;
    f.loc = cur().loc;
    f.name = expect(Tok::Identifier, "after 'fn'").text;
    expect(Tok::LParen, "after the function name");
    if (!at(Tok::RParen)) {
      do {
        Param p;
        p.loc = cur().loc;
        p.name = expect(Tok::Identifier, "(a parameter name)").text;
        expect(Tok::Colon, "after the parameter name");
        p.type = parseType();
        f.params.push_back(std::move(p));
      } while (accept(Tok::Comma));
    }
    expect(Tok::RParen, "after the parameters");
    expect(Tok::Arrow, "before the result type");
    f.result = parseType();
    f.body = parseBlock();
    return f;
  }

  Block parseBlock() {
    NestingScope scope(*this);
    deeper(cur().loc);
    expect(Tok::LBrace, "to open a block");
    Block b;
    while (!at(Tok::RBrace)) {
      if (at(Tok::Eof))
        fail(cur().loc, "expected '}' to close the block, found end of file");
      b.push_back(parseStmt());
    }
    ++pos;
    return b;
  }

  StmtPtr parseStmt() {
    SourceLoc loc = cur().loc;
    switch (cur().kind) {
    case Tok::KwLet: {
      ++pos;
      auto s = std::make_unique<Stmt>(Stmt::Kind::Let, loc);
      s->name = expect(Tok::Identifier, "after 'let'").text;
      expect(Tok::Assign, "after the name");
      s->value = parseExpr();
      expect(Tok::Semi, "at the end of the statement");
      return s;
    }
    case Tok::KwReturn: {
      ++pos;
      auto s = std::make_unique<Stmt>(Stmt::Kind::Return, loc);
      s->value = parseExpr();
      expect(Tok::Semi, "after the returned value");
      return s;
    }
    case Tok::KwFor: {
      ++pos;
      auto s = std::make_unique<Stmt>(Stmt::Kind::For, loc);
      s->name = expect(Tok::Identifier, "after 'for'").text;
      expect(Tok::KwIn, "after the loop variable");
      s->value = parseAdditive();
      expect(Tok::DotDot, "in the loop range (A..B)");
      s->upper = parseAdditive();
      s->body = parseBlock();
      return s;
    }
    case Tok::KwIf:
      return parseIf();
    case Tok::KwAssume: {
      ++pos;
      auto s = std::make_unique<Stmt>(Stmt::Kind::Assume, loc);
      s->value = parsePostfix();
      expect(Tok::KwIn, "after the assumed value");
      expect(Tok::LBracket, "to open the range [lo, hi]");
      s->lower = parseExpr();
      expect(Tok::Comma, "between the range bounds");
      s->upper = parseExpr();
      expect(Tok::RBracket, "to close the range");
      expect(Tok::Semi, "after the assumption");
      return s;
    }
    case Tok::Identifier:
      if (peek().kind == Tok::Assign) {
        auto s = std::make_unique<Stmt>(Stmt::Kind::Assign, loc);
        s->name = cur().text;
        pos += 2;
        s->value = parseExpr();
        expect(Tok::Semi, "at the end of the statement");
        return s;
      }
      [[fallthrough]];
    default:
      fail(loc, "expected a statement (let, an assignment, return, for, if "
                "or assume), found " +
                    found());
    }
  }

  StmtPtr parseIf() {
    NestingScope scope(*this);
    deeper(cur().loc);
    auto s = std::make_unique<Stmt>(Stmt::Kind::If, cur().loc);
    ++pos;
    s->value = parseExpr();
    s->body = parseBlock();
    if (accept(Tok::KwElse)) {
      if (at(Tok::KwIf))
        s->elseBody.push_back(parseIf());
      else
        s->elseBody = parseBlock();
    }
    return s;
  }

  // Expressions.
  ExprPtr binary(ExprPtr lhs, BinaryOp op, SourceLoc loc, ExprPtr rhs) {
    deeper(loc);
    auto e = std::make_unique<Expr>(Expr::Kind::Binary, loc);
    e->binaryOp = op;
    e->lhs = std::move(lhs);
    e->rhs = std::move(rhs);
    return e;
  }

  ExprPtr parseExpr() {
    NestingScope scope(*this);
    deeper(cur().loc);
    return parseOr();
  }

  ExprPtr parseOr() {
    NestingScope scope(*this);
    ExprPtr e = parseAnd();
    while (at(Tok::OrOr)) {
      SourceLoc loc = cur().loc;
      ++pos;
      e = binary(std::move(e), BinaryOp::Or, loc, parseAnd());
    }
    return e;
  }

  ExprPtr parseAnd() {
    NestingScope scope(*this);
    ExprPtr e = parseComparison();
    while (at(Tok::AndAnd)) {
      SourceLoc loc = cur().loc;
      ++pos;
      e = binary(std::move(e), BinaryOp::And, loc, parseComparison());
    }
    return e;
  }

  ExprPtr parseComparison() {
    NestingScope scope(*this);
    ExprPtr e = parseAdditive();
    for (;;) {
      BinaryOp op;
      switch (cur().kind) {
      case Tok::Less:
        op = BinaryOp::Lt;
        break;
      case Tok::LessEq:
        op = BinaryOp::Le;
        break;
      case Tok::Greater:
        op = BinaryOp::Gt;
        break;
      case Tok::GreaterEq:
        op = BinaryOp::Ge;
        break;
      case Tok::EqEq:
        op = BinaryOp::Eq;
        break;
      case Tok::NotEq:
        op = BinaryOp::Ne;
        break;
      default:
        return e;
      }
      SourceLoc loc = cur().loc;
      ++pos;
      e = binary(std::move(e), op, loc, parseAdditive());
    }
  }

  ExprPtr parseAdditive() {
    NestingScope scope(*this);
    ExprPtr e = parseMultiplicative();
    while (at(Tok::Plus) || at(Tok::Minus)) {
      BinaryOp op = at(Tok::Plus) ? BinaryOp::Add : BinaryOp::Sub;
      SourceLoc loc = cur().loc;
      ++pos;
      e = binary(std::move(e), op, loc, parseMultiplicative());
    }
    return e;
  }

  ExprPtr parseMultiplicative() {
    NestingScope scope(*this);
    ExprPtr e = parseUnary();
    for (;;) {
      BinaryOp op;
      if (at(Tok::Star))
        op = BinaryOp::Mul;
      else if (at(Tok::Slash))
        op = BinaryOp::Div;
      else if (at(Tok::At))
        op = BinaryOp::MatMul;
      else
        return e;
      SourceLoc loc = cur().loc;
      ++pos;
      e = binary(std::move(e), op, loc, parseUnary());
    }
  }

  ExprPtr parseUnary() {
    NestingScope scope(*this);
    if (at(Tok::Minus) || at(Tok::Bang)) {
      deeper(cur().loc);
      auto e = std::make_unique<Expr>(Expr::Kind::Unary, cur().loc);
      e->unaryOp = at(Tok::Minus) ? UnaryOp::Neg : UnaryOp::Not;
      ++pos;
      e->lhs = parseUnary();
      // Fold "-3" into the literal, as DSL.md lists it among the numbers.
      if (e->unaryOp == UnaryOp::Neg && e->lhs->kind == Expr::Kind::Number) {
        e->lhs->number = -e->lhs->number;
        e->lhs->integer = -e->lhs->integer;
        e->lhs->loc = e->loc;
        return std::move(e->lhs);
      }
      return e;
    }
    return parsePostfix();
  }

  ExprPtr parsePostfix() {
    NestingScope scope(*this);
    ExprPtr e = parsePrimary();
    for (;;) {
      if (at(Tok::LParen) || at(Tok::LBracket) || at(Tok::Dot))
        deeper(cur().loc);
      if (at(Tok::LParen)) {
        if (e->kind != Expr::Kind::Name)
          fail(cur().loc, "only named functions can be called");
        auto call = std::make_unique<Expr>(Expr::Kind::Call, e->loc);
        call->text = e->text;
        ++pos;
        parseArgs(*call);
        e = std::move(call);
      } else if (at(Tok::LBracket)) {
        SourceLoc loc = cur().loc;
        ++pos;
        ExprPtr lo, hi;
        if (!at(Tok::Colon))
          lo = parseExpr();
        if (accept(Tok::Colon)) {
          if (!at(Tok::RBracket))
            hi = parseExpr();
          auto s = std::make_unique<Expr>(Expr::Kind::Slice, loc);
          s->lhs = std::move(e);
          s->rhs = std::move(lo);
          s->sliceHi = std::move(hi);
          e = std::move(s);
        } else {
          auto ix = std::make_unique<Expr>(Expr::Kind::Index, loc);
          ix->lhs = std::move(e);
          ix->rhs = std::move(lo);
          e = std::move(ix);
        }
        expect(Tok::RBracket, "to close the index");
      } else if (at(Tok::Dot)) {
        SourceLoc loc = cur().loc;
        ++pos;
        const Token &attr = expect(Tok::Identifier, "after '.'");
        if (attr.text != "T")
          fail(attr.loc, "unknown attribute '." + attr.text +
                             "' (only .T, the transpose, exists)");
        auto t = std::make_unique<Expr>(Expr::Kind::Transpose, loc);
        t->lhs = std::move(e);
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  void parseArgs(Expr &call) {
    if (accept(Tok::RParen))
      return;
    do {
      if (at(Tok::RParen))
        break; // trailing comma
      if (at(Tok::Identifier) && peek().kind == Tok::Assign) {
        NamedArg arg;
        arg.loc = cur().loc;
        arg.name = cur().text;
        pos += 2;
        arg.value = parseExpr();
        call.named.push_back(std::move(arg));
      } else {
        if (!call.named.empty())
          fail(cur().loc, "positional argument after a keyword argument");
        call.elements.push_back(parseExpr());
      }
    } while (accept(Tok::Comma));
    expect(Tok::RParen, "to close the argument list");
  }

  ExprPtr parsePrimary() {
    const Token &t = cur();
    switch (t.kind) {
    case Tok::Integer:
    case Tok::Float: {
      auto e = std::make_unique<Expr>(Expr::Kind::Number, t.loc);
      e->number = std::strtod(t.text.c_str(), nullptr);
      e->isInteger = t.kind == Tok::Integer;
      // In range: the lexer refuses integer literals past 2^63 - 1.
      if (e->isInteger)
        e->integer = std::strtoll(t.text.c_str(), nullptr, 10);
      ++pos;
      return e;
    }
    case Tok::String: {
      auto e = std::make_unique<Expr>(Expr::Kind::String, t.loc);
      e->text = t.text;
      ++pos;
      return e;
    }
    case Tok::KwTrue:
    case Tok::KwFalse: {
      auto e = std::make_unique<Expr>(Expr::Kind::Bool, t.loc);
      e->boolean = t.kind == Tok::KwTrue;
      ++pos;
      return e;
    }
    case Tok::Identifier: {
      auto e = std::make_unique<Expr>(Expr::Kind::Name, t.loc);
      e->text = t.text;
      ++pos;
      return e;
    }
    case Tok::LBracket: {
      auto e = std::make_unique<Expr>(Expr::Kind::List, t.loc);
      ++pos;
      while (!at(Tok::RBracket)) {
        e->elements.push_back(parseExpr());
        if (!accept(Tok::Comma))
          break;
      }
      expect(Tok::RBracket, "to close the list");
      return e;
    }
    case Tok::LParen: {
      SourceLoc loc = t.loc;
      ++pos;
      ExprPtr first = parseExpr();
      if (accept(Tok::RParen))
        return first;
      auto tuple = std::make_unique<Expr>(Expr::Kind::Tuple, loc);
      tuple->elements.push_back(std::move(first));
      while (accept(Tok::Comma)) {
        if (at(Tok::RParen))
          break;
        tuple->elements.push_back(parseExpr());
      }
      expect(Tok::RParen, "to close the parenthesis");
      return tuple;
    }
    default:
      fail(t.loc, "expected an expression, found " + found());
    }
  }

  std::shared_ptr<const SourceFile> file;
  std::vector<Token> tokens;
  size_t pos = 0;
  int nesting = 0;
};

} // namespace

Program parse(std::shared_ptr<const SourceFile> file) {
  return withStack(kFrontEndStackBytes,
                   [&] { return Parser(std::move(file)).run(); });
}

ExprPtr parseExpression(std::shared_ptr<const SourceFile> file) {
  return withStack(kFrontEndStackBytes,
                   [&] { return Parser(std::move(file)).runExpression(); });
}

} // namespace cerium::dsl
