//===- StreamedPlaintexts.h - Constants read as the schedule needs them -*-===//
//
// cerium-run --memory-limit: when an artifact's constant section does not
// fit beside the arena and keys, its constants are copied out of the
// mapped file ahead of the encodes that use them, in the schedule's order
// (StreamWindow), and the file's pages dropped after each copy: at most the
// budget is held, whatever the section's size.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_STREAMEDPLAINTEXTS_H
#define CERIUM_RUNTIME_STREAMEDPLAINTEXTS_H

#include "cerium/Runtime/Schedule.h"
#include "cerium/Runtime/StreamWindow.h"
#include "cerium/Support/Container.h"

#include <memory>

namespace cerium::runtime {

class StreamedPlaintexts : public PlaintextSource {
public:
  /// The #rns.stored encodes of `main` that process `rank` runs, in order,
  /// read from `section` (bytes of `file`'s payload), holding at most
  /// `budgetBytes` (at least minimumBudget: the caller checks that).
  StreamedPlaintexts(mlir::func::FuncOp main, int rank,
                     std::shared_ptr<const MappedContainer> file,
                     std::span<const uint8_t> section, size_t budgetBytes);

  SlotValueData values(mlir::Operation *encode) override;

  /// The least budget streaming works in: the largest constant held, and
  /// as much again for the file pages it is copied from.
  static size_t minimumBudget(mlir::func::FuncOp main);
  /// The most constant bytes held at once so far, and how many were read.
  size_t peakBytes() const { return window->peakBytes(); }
  size_t reads() const { return window->reads(); }

private:
  /// A constant's values as 8-byte words (f64, or f32 pairs): aligned for
  /// either.
  using Words = std::vector<uint64_t>;
  std::unique_ptr<StreamWindow<uint64_t, Words>> window;
};

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_STREAMEDPLAINTEXTS_H
