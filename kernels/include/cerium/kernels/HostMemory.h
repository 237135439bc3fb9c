//===- HostMemory.h - Large host arrays on transparent huge pages -*- C++
//-*-===//
//
// Keys, arenas and plaintext buffers are hundreds of megabytes that the
// kernels stream through once per operation. On 4 KiB pages every
// gigabyte is 262,144 first-touch faults (each zeroes a page; inside a VM
// each also faults on the host) and as many TLB entries: measured at
// N = 2^16, a bootstrap's kernels ran ~10% slower in `cerium-run`, whose
// arena is touched for the first time, than warm. Linux's default THP mode
// (`madvise`) gives huge pages only to ranges that ask for them.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_HOSTMEMORY_H
#define CERIUM_KERNELS_HOSTMEMORY_H

#include <cstddef>
#include <cstdint>

namespace cerium::kernels {

/// The huge-page size that `adviseHugePages` aligns to.
inline constexpr size_t kHugePageBytes = size_t(2) << 20;

/// Asks for transparent huge pages on the whole 2 MiB pages inside
/// [p, p + bytes); a hint only (no effect where THP is off or for smaller
/// ranges). Call it before the range is first written.
void adviseHugePages(void *p, size_t bytes);

/// `words` uninitialized 32-bit words, 2 MiB aligned with huge pages asked
/// for when at least that large; released with `freeHostWords`. Throws
/// std::bad_alloc.
uint32_t *allocateHostWords(size_t words);
void freeHostWords(uint32_t *p);

/// Writes one word per 4 KiB page of [p, p + words), on all threads: the
/// first-touch faults (the kernel zeroing each page, and inside a VM the
/// host's fault too) happen here instead of inside the first kernel that
/// writes the range. Where huge pages are short the range falls back to
/// 4 KiB pages, whose faults cost a few microseconds each: in a bootstrap
/// at N = 2^16 a few base conversions writing fresh arena then took 15-19 ms
/// instead of 1-4 (docs/benchmarks.md, "Session 12").
void touchPages(uint32_t *p, size_t words);

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_HOSTMEMORY_H
