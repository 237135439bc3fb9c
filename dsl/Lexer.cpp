//===- Lexer.cpp - Tokens of the .fhe language ----------------------------===//

#include "cerium/DSL/Lexer.h"

#include <cctype>
#include <unordered_map>

namespace cerium::dsl {

const char *describe(Tok kind) {
  switch (kind) {
  case Tok::Eof:
    return "end of file";
  case Tok::Identifier:
    return "a name";
  case Tok::Integer:
    return "an integer";
  case Tok::Float:
    return "a number";
  case Tok::String:
    return "a string";
  case Tok::KwWeights:
    return "'weights'";
  case Tok::KwLoad:
    return "'load'";
  case Tok::KwFn:
    return "'fn'";
  case Tok::KwLet:
    return "'let'";
  case Tok::KwReturn:
    return "'return'";
  case Tok::KwFor:
    return "'for'";
  case Tok::KwIn:
    return "'in'";
  case Tok::KwIf:
    return "'if'";
  case Tok::KwElse:
    return "'else'";
  case Tok::KwAssume:
    return "'assume'";
  case Tok::KwOption:
    return "'option'";
  case Tok::KwCipher:
    return "'cipher'";
  case Tok::KwPlain:
    return "'plain'";
  case Tok::KwTrue:
    return "'true'";
  case Tok::KwFalse:
    return "'false'";
  case Tok::KwConst:
    return "'const'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::Comma:
    return "','";
  case Tok::Semi:
    return "';'";
  case Tok::Colon:
    return "':'";
  case Tok::Assign:
    return "'='";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::At:
    return "'@'";
  case Tok::Dot:
    return "'.'";
  case Tok::DotDot:
    return "'..'";
  case Tok::Arrow:
    return "'->'";
  case Tok::Less:
    return "'<'";
  case Tok::LessEq:
    return "'<='";
  case Tok::Greater:
    return "'>'";
  case Tok::GreaterEq:
    return "'>='";
  case Tok::EqEq:
    return "'=='";
  case Tok::NotEq:
    return "'!='";
  case Tok::AndAnd:
    return "'&&'";
  case Tok::OrOr:
    return "'||'";
  case Tok::Bang:
    return "'!'";
  }
  return "a token";
}

namespace {

const std::unordered_map<std::string_view, Tok> kKeywords = {
    {"weights", Tok::KwWeights}, {"load", Tok::KwLoad},
    {"fn", Tok::KwFn},           {"let", Tok::KwLet},
    {"return", Tok::KwReturn},   {"for", Tok::KwFor},
    {"in", Tok::KwIn},           {"if", Tok::KwIf},
    {"else", Tok::KwElse},       {"assume", Tok::KwAssume},
    {"option", Tok::KwOption},   {"cipher", Tok::KwCipher},
    {"plain", Tok::KwPlain},     {"true", Tok::KwTrue},
    {"false", Tok::KwFalse},     {"const", Tok::KwConst},
};

class Lexer {
public:
  explicit Lexer(const SourceFile &file) : file(file), text(file.text()) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") // UTF-8 byte-order mark
      pos = 3;
    for (;;) {
      skipSpaceAndComments();
      Token t;
      t.loc = here();
      if (pos == text.size()) {
        t.kind = Tok::Eof;
        out.push_back(std::move(t));
        return out;
      }
      char c = text[pos];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
        lexWord(t);
      else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && pos + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[pos + 1]))))
        lexNumber(t);
      else if (c == '"')
        lexString(t);
      else
        lexPunct(t);
      out.push_back(std::move(t));
    }
  }

private:
  SourceLoc here() const { return {line, column}; }
  [[noreturn]] void fail(SourceLoc loc, const std::string &msg) const {
    throw SourceError(file, loc, msg);
  }
  void advance(size_t n = 1) {
    for (size_t i = 0; i < n && pos < text.size(); ++i, ++pos) {
      if (text[pos] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
  }
  bool peekIs(size_t ahead, char c) const {
    return pos + ahead < text.size() && text[pos + ahead] == c;
  }

  void skipSpaceAndComments() {
    while (pos < text.size()) {
      char c = text[pos];
      if (c == '#') {
        while (pos < text.size() && text[pos] != '\n')
          advance();
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else {
        return;
      }
    }
  }

  void lexWord(Token &t) {
    size_t start = pos;
    while (pos < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '_'))
      advance();
    t.text = std::string(text.substr(start, pos - start));
    auto kw = kKeywords.find(t.text);
    t.kind = kw == kKeywords.end() ? Tok::Identifier : kw->second;
  }

  void lexNumber(Token &t) {
    size_t start = pos;
    bool isFloat = false;
    auto digits = [&] {
      while (pos < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[pos])))
        advance();
    };
    digits();
    // A '.' followed by another '.' is a range, not a fraction.
    if (pos < text.size() && text[pos] == '.' && !peekIs(1, '.')) {
      isFloat = true;
      advance();
      digits();
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      isFloat = true;
      advance();
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        advance();
      if (pos >= text.size() ||
          !std::isdigit(static_cast<unsigned char>(text[pos])))
        fail(t.loc, "malformed number: the exponent has no digits");
      digits();
    }
    if (pos < text.size() &&
        (std::isalpha(static_cast<unsigned char>(text[pos])) ||
         text[pos] == '_'))
      fail(t.loc, "malformed number '" +
                      std::string(text.substr(start, pos - start + 1)) + "'");
    t.kind = isFloat ? Tok::Float : Tok::Integer;
    t.text = std::string(text.substr(start, pos - start));
    // Integers are int64 in the compiler: converting a longer literal would
    // be undefined behaviour (found by fuzzing).
    if (!isFloat) {
      int64_t value = 0;
      for (char c : t.text)
        if (__builtin_mul_overflow(value, int64_t(10), &value) ||
            __builtin_add_overflow(value, int64_t(c - '0'), &value))
          fail(t.loc, "integer literal is too large (at most 2^63 - 1; "
                      "write a real number such as 1e20)");
    }
  }

  void lexString(Token &t) {
    advance(); // opening quote
    for (;;) {
      if (pos >= text.size() || text[pos] == '\n')
        fail(t.loc, "unterminated string");
      char c = text[pos];
      if (c == '"') {
        advance();
        break;
      }
      if (c == '\\') {
        if (peekIs(1, '"') || peekIs(1, '\\')) {
          t.text += text[pos + 1];
          advance(2);
          continue;
        }
        fail(here(), "unknown escape in string (only \\\" and \\\\ exist)");
      }
      t.text += c;
      advance();
    }
    t.kind = Tok::String;
  }

  void lexPunct(Token &t) {
    auto two = [&](char second, Tok kind) {
      if (peekIs(1, second)) {
        t.kind = kind;
        advance(2);
        return true;
      }
      return false;
    };
    char c = text[pos];
    switch (c) {
    case '(':
      t.kind = Tok::LParen;
      break;
    case ')':
      t.kind = Tok::RParen;
      break;
    case '[':
      t.kind = Tok::LBracket;
      break;
    case ']':
      t.kind = Tok::RBracket;
      break;
    case '{':
      t.kind = Tok::LBrace;
      break;
    case '}':
      t.kind = Tok::RBrace;
      break;
    case ',':
      t.kind = Tok::Comma;
      break;
    case ';':
      t.kind = Tok::Semi;
      break;
    case ':':
      t.kind = Tok::Colon;
      break;
    case '+':
      t.kind = Tok::Plus;
      break;
    case '*':
      t.kind = Tok::Star;
      break;
    case '/':
      t.kind = Tok::Slash;
      break;
    case '@':
      t.kind = Tok::At;
      break;
    case '-':
      if (two('>', Tok::Arrow))
        return;
      t.kind = Tok::Minus;
      break;
    case '.':
      if (two('.', Tok::DotDot))
        return;
      t.kind = Tok::Dot;
      break;
    case '=':
      if (two('=', Tok::EqEq))
        return;
      t.kind = Tok::Assign;
      break;
    case '<':
      if (two('=', Tok::LessEq))
        return;
      t.kind = Tok::Less;
      break;
    case '>':
      if (two('=', Tok::GreaterEq))
        return;
      t.kind = Tok::Greater;
      break;
    case '!':
      if (two('=', Tok::NotEq))
        return;
      t.kind = Tok::Bang;
      break;
    case '&':
      if (two('&', Tok::AndAnd))
        return;
      fail(t.loc, "unexpected character '&' (did you mean '&&'?)");
    case '|':
      if (two('|', Tok::OrOr))
        return;
      fail(t.loc, "unexpected character '|' (did you mean '||'?)");
    default: {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0x80)
        fail(t.loc, "unexpected non-ASCII character outside a string or "
                    "comment");
      fail(t.loc, std::string("unexpected character '") + c + "'");
    }
    }
    advance();
  }

  const SourceFile &file;
  std::string_view text;
  size_t pos = 0;
  uint32_t line = 1, column = 1;
};

} // namespace

std::vector<Token> lex(const SourceFile &file) { return Lexer(file).run(); }

} // namespace cerium::dsl
