//===- StreamedKeys.h - Switching keys read as the schedule needs them -*- C++
//-*-===//
//
// cerium-run --memory-limit: when the evaluation keys do not fit beside the
// arena, they stay in their (mapped) file and are read ahead of use. The
// schedule says exactly which key every key switch needs, in order, so the
// keys held are always the next ones: a background thread reads keys in
// the order of their next use for as long as they fit the budget, and drops
// a key once no use of it lies within that window.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_STREAMEDKEYS_H
#define CERIUM_RUNTIME_STREAMEDKEYS_H

#include "cerium/CKKS/Serialization.h"
#include "cerium/Runtime/Schedule.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cerium::runtime {

class StreamedKeys : public KeySource {
public:
  /// The key switches of `main` that process `rank` runs, in order, read
  /// from `file` as `selection` says, holding at most `budgetBytes` of keys
  /// (at least minimumBudget: the caller checks that).
  StreamedKeys(mlir::func::FuncOp main, int rank,
               std::shared_ptr<const ckks::EvalKeyFile> file,
               ckks::KeySelection selection, size_t budgetBytes);
  ~StreamedKeys() override;

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
  void prefetch();

  std::shared_ptr<const ckks::EvalKeyFile> file;
  ckks::KeySelection selection;
  const size_t budget;
  std::vector<ckks::KeyName> uses; // in schedule order
  std::map<ckks::KeyName, size_t> bytesOf;

  mutable std::mutex mutex;
  std::condition_variable changed;
  size_t cursor = 0; // the use served last (its key is not dropped)
  std::map<ckks::KeyName, std::shared_ptr<const ckks::SwitchingKey>> held;
  size_t heldTotal = 0, peak = 0, loaded = 0;
  std::exception_ptr failure;
  bool stopping = false;
  std::thread worker;
};

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_STREAMEDKEYS_H
