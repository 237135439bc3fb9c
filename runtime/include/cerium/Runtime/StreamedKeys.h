//===- StreamedKeys.h - Switching keys read as the schedule needs them -*- C++
//-*-===//
//
// cerium-run --memory-limit: when the evaluation keys do not fit beside the
// arena, they stay in their (mapped) file and are read ahead of use, in the
// order of the schedule's key switches (StreamWindow).
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_STREAMEDKEYS_H
#define CERIUM_RUNTIME_STREAMEDKEYS_H

#include "cerium/CKKS/Serialization.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/Runtime/StreamWindow.h"

#include <memory>

namespace cerium::runtime {

class StreamedKeys : public KeySource {
public:
  /// The key switches of `main` that process `rank` runs, in order, read
  /// from `file` as `selection` says, holding at most `budgetBytes` of keys
  /// (at least minimumBudget: the caller checks that).
  StreamedKeys(mlir::func::FuncOp main, int rank,
               std::shared_ptr<const ckks::EvalKeyFile> file,
               ckks::KeySelection selection, size_t budgetBytes);

  const ckks::SwitchingKey &key(const ckks::KeyName &name) override;

  /// Bytes a key takes as this process holds it (0: not held).
  static size_t heldBytes(const ckks::EvalKeyFile &file,
                          const ckks::KeyName &name,
                          const ckks::KeySelection &selection);
  /// The least budget streaming works in: the largest key held, plus
  /// what reading one takes (its file pages, one digit being expanded),
  /// which the window leaves free.
  static size_t minimumBudget(const ckks::EvalKeyFile &file,
                              const ckks::KeySelection &selection);
  /// The most key bytes held at once so far, and how many keys were read.
  size_t peakBytes() const;
  size_t reads() const;

private:
  /// The largest key held, and the most that reading one takes besides.
  struct Room {
    size_t largest = 0, reading = 0;
  };
  static Room roomFor(const ckks::EvalKeyFile &file,
                      const ckks::KeySelection &selection);

  std::unique_ptr<StreamWindow<ckks::KeyName, ckks::SwitchingKey>> window;
};

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_STREAMEDKEYS_H
