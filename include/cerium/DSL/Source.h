//===- Source.h - Source text and diagnostics for .fhe programs -*- C++ -*-===//
//
// Every diagnostic about a program names file:line:col, says what is wrong in
// one sentence, and shows the line with a caret under the column (DSL.md).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DSL_SOURCE_H
#define CERIUM_DSL_SOURCE_H

#include "cerium/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace cerium::dsl {

/// A position in a source file: 1-based line and column (in bytes).
struct SourceLoc {
  uint32_t line = 0, column = 0;
  bool valid() const { return line != 0; }
};

class SourceFile {
public:
  SourceFile(std::string path, std::string text)
      : filePath(std::move(path)), contents(std::move(text)) {}
  /// Reads a file; throws cerium::Error naming it if it cannot be read.
  static std::shared_ptr<const SourceFile> read(const std::string &path);

  const std::string &path() const { return filePath; }
  std::string_view text() const { return contents; }
  /// The text of a 1-based line, without its newline.
  std::string_view line(uint32_t number) const;
  /// "path:line:col: error: message", then the line and a caret.
  std::string format(SourceLoc loc, const std::string &message) const;

private:
  std::string filePath, contents;
};

/// A diagnosed error in a program: what() is the formatted diagnostic.
class SourceError : public Error {
public:
  SourceError(const SourceFile &file, SourceLoc loc, const std::string &message)
      : Error(file.format(loc, message)), where(loc), what_(message) {}
  SourceLoc loc() const { return where; }
  /// The one-sentence message, without location or source line.
  const std::string &message() const { return what_; }

private:
  SourceLoc where;
  std::string what_;
};

} // namespace cerium::dsl

#endif // CERIUM_DSL_SOURCE_H
