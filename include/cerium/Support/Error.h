//===- Error.h - User-facing errors -----------------------------*- C++ -*-===//
//
// Every error that reaches a user is one line: tools catch cerium::Error at
// the top, print what(), and exit non-zero.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_SUPPORT_ERROR_H
#define CERIUM_SUPPORT_ERROR_H

#include <stdexcept>
#include <string>

namespace cerium {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace cerium

#endif // CERIUM_SUPPORT_ERROR_H
