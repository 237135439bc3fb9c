//===- Source.cpp - Source text and diagnostics ---------------------------===//

#include "cerium/DSL/Source.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cerium::dsl {

std::shared_ptr<const SourceFile> SourceFile::read(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw Error(path + ": cannot read: " + std::strerror(errno));
  return std::make_shared<SourceFile>(path, text.str());
}

std::string_view SourceFile::line(uint32_t number) const {
  std::string_view text = contents;
  for (uint32_t l = 1; l < number; ++l) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos)
      return {};
    text.remove_prefix(nl + 1);
  }
  return text.substr(0, text.find('\n'));
}

std::string SourceFile::format(SourceLoc loc,
                               const std::string &message) const {
  if (!loc.valid())
    return filePath + ": error: " + message;
  std::string out = filePath + ":" + std::to_string(loc.line) + ":" +
                    std::to_string(loc.column) + ": error: " + message;
  std::string_view text = line(loc.line);
  // A long line is shown as a window around the column, marked with "...".
  constexpr size_t kContext = 60;
  size_t column = loc.column - 1, first = 0;
  std::string prefix, suffix;
  if (column > kContext) {
    first = column - kContext;
    prefix = "...";
  }
  if (text.size() > column + kContext) {
    text = text.substr(0, column + kContext);
    suffix = "...";
  }
  text.remove_prefix(std::min(first, text.size()));
  std::string caret(prefix.size(), ' ');
  // Keep tabs so the caret lines up under the column.
  for (size_t i = first; i < column && i - first < text.size(); ++i)
    caret += text[i - first] == '\t' ? '\t' : ' ';
  out += "\n  " + prefix;
  out += text;
  out += suffix + "\n  " + caret + "^";
  return out;
}

} // namespace cerium::dsl
