//===- Lexer.h - Tokens of the .fhe language --------------------*- C++ -*-===//
#ifndef CERIUM_DSL_LEXER_H
#define CERIUM_DSL_LEXER_H

#include "cerium/DSL/Source.h"

#include <string>
#include <vector>

namespace cerium::dsl {

enum class Tok {
  Eof,
  Identifier,
  Integer,
  Float,
  String,
  // Keywords.
  KwWeights,
  KwLoad,
  KwFn,
  KwLet,
  KwReturn,
  KwFor,
  KwIn,
  KwIf,
  KwElse,
  KwAssume,
  KwOption,
  KwCipher,
  KwPlain,
  KwTrue,
  KwFalse,
  KwConst,
  // Punctuation and operators.
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Semi,
  Colon,
  Assign,
  Plus,
  Minus,
  Star,
  Slash,
  At,
  Dot,
  DotDot,
  Arrow,
  Less,
  LessEq,
  Greater,
  GreaterEq,
  EqEq,
  NotEq,
  AndAnd,
  OrOr,
  Bang,
};

/// How a token kind reads in diagnostics ("'('", "an identifier", ...).
const char *describe(Tok kind);

struct Token {
  Tok kind = Tok::Eof;
  SourceLoc loc;
  /// Identifier or keyword spelling, number spelling, or the decoded string.
  std::string text;
};

/// Splits the whole file into tokens; throws SourceError on a bad character,
/// an unterminated string or a malformed number.
std::vector<Token> lex(const SourceFile &file);

} // namespace cerium::dsl

#endif // CERIUM_DSL_LEXER_H
