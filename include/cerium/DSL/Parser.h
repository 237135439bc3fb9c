//===- Parser.h - .fhe parser -----------------------------------*- C++ -*-===//
#ifndef CERIUM_DSL_PARSER_H
#define CERIUM_DSL_PARSER_H

#include "cerium/DSL/AST.h"

namespace cerium::dsl {

/// Parses a whole program; throws SourceError at the first syntax error.
Program parse(std::shared_ptr<const SourceFile> file);

/// Parses `file` as one expression (used for the {expr} interpolations of
/// weight names).
ExprPtr parseExpression(std::shared_ptr<const SourceFile> file);

} // namespace cerium::dsl

#endif // CERIUM_DSL_PARSER_H
