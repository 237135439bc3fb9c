//===- Stack.h - Work on a thread with a large stack ------------*- C++ -*-===//
//
// The front end recurses over the syntax tree. Its nesting bounds keep the
// depth finite; running it on a thread with a large stack keeps that depth
// safe whatever the build (sanitizers make frames several times larger) and
// whatever stack the caller has.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_SUPPORT_STACK_H
#define CERIUM_SUPPORT_STACK_H

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>

namespace cerium {

/// The front end's stack: reserved address space, committed only as used.
inline constexpr size_t kFrontEndStackBytes = size_t(512) << 20;

/// Runs `work` on a new thread with a `bytes` stack and waits for it;
/// an exception it throws is rethrown here.
void runWithStack(size_t bytes, const std::function<void()> &work);

/// The same, returning `work`'s result.
template <class F> std::invoke_result_t<F> withStack(size_t bytes, F &&work) {
  std::optional<std::invoke_result_t<F>> result;
  runWithStack(bytes, [&] { result.emplace(work()); });
  return std::move(*result);
}

} // namespace cerium

#endif // CERIUM_SUPPORT_STACK_H
