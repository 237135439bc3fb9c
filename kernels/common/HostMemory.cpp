//===- HostMemory.cpp - Large host arrays on transparent huge pages -------===//

#include "cerium/kernels/HostMemory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace cerium::kernels {

void adviseHugePages(void *p, size_t bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (begin + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t last = (begin + bytes) & ~(kHugePageBytes - 1);
  if (last > first)
    ::madvise(reinterpret_cast<void *>(first), last - first, MADV_HUGEPAGE);
}

uint32_t *allocateHostWords(size_t words) {
  const size_t bytes = words * sizeof(uint32_t);
  if (bytes < kHugePageBytes) {
    void *p = std::malloc(bytes ? bytes : 1);
    if (!p)
      throw std::bad_alloc();
    return static_cast<uint32_t *>(p);
  }
  const size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  void *p = std::aligned_alloc(kHugePageBytes, rounded);
  if (!p)
    throw std::bad_alloc();
  adviseHugePages(p, rounded);
  return static_cast<uint32_t *>(p);
}

void freeHostWords(uint32_t *p) { std::free(p); }

void touchPages(uint32_t *p, size_t words) {
  constexpr size_t kPageWords = 4096 / sizeof(uint32_t);
  const auto pages =
      static_cast<int64_t>((words + kPageWords - 1) / kPageWords);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < pages; ++i)
    p[size_t(i) * kPageWords] = 0;
  // p need not start a page: the range's last page may start past the
  // last word written above.
  if (words)
    p[words - 1] = 0;
}

} // namespace cerium::kernels
