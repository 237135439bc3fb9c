//===- StreamedKeys.cpp - Switching keys read as the schedule needs them --===//

#include "cerium/Runtime/StreamedKeys.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Support/Error.h"

#include <omp.h>

#include <algorithm>

namespace cerium::runtime {

size_t StreamedKeys::heldBytes(const ckks::EvalKeyFile &file,
                               const ckks::KeyName &name,
                               const ckks::KeySelection &selection) {
  return file.bytes(name, ckks::EvalKeyFile::keepOf(name, &selection),
                    &selection);
}

StreamedKeys::Room StreamedKeys::roomFor(const ckks::EvalKeyFile &file,
                                         const ckks::KeySelection &selection) {
  Room room;
  for (const ckks::KeyName &name : file.names())
    if (size_t held = heldBytes(file, name, selection)) {
      room.largest = std::max(room.largest, held);
      room.reading = std::max(room.reading, file.readingBytes(name));
    }
  return room;
}

size_t StreamedKeys::minimumBudget(const ckks::EvalKeyFile &file,
                                   const ckks::KeySelection &selection) {
  Room room = roomFor(file, selection);
  return room.largest + room.reading;
}

StreamedKeys::StreamedKeys(mlir::func::FuncOp main, int rank,
                           std::shared_ptr<const ckks::EvalKeyFile> file,
                           ckks::KeySelection selection, size_t budgetBytes)
    : file(std::move(file)), selection(std::move(selection)),
      budget(budgetBytes -
             std::min(budgetBytes,
                      roomFor(*this->file, this->selection).reading)) {
  main.walk([&](rns::KeySwitchOp k) {
    // Only the key switches this process runs (rns-partition).
    if (auto on = k->getAttrOfType<mlir::IntegerAttr>("rns.on"))
      if (on.getInt() != rank)
        return;
    ckks::KeyName name = keyName(k);
    if (!this->file->has(name))
      throw Error("the evaluation keys hold no " + name.describe().substr(4));
    uses.push_back(name);
    bytesOf.try_emplace(name, heldBytes(*this->file, name, this->selection));
  });
  worker = std::thread([this] {
    // One thread: the executor's kernels use the others while it reads.
    omp_set_num_threads(1);
    prefetch();
  });
}

StreamedKeys::~StreamedKeys() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  changed.notify_all();
  worker.join();
}

void StreamedKeys::prefetch() {
  std::unique_lock lock(mutex);
  while (!stopping && !failure) {
    // The window: distinct keys in order of next use from the one being
    // served, while they fit the budget (the first always).
    std::vector<ckks::KeyName> window;
    size_t bytes = 0;
    // Up to the end of the run: a next run starts over from its first use
    // (key() moves the cursor back), and may never come.
    for (size_t i = cursor; i < uses.size(); ++i) {
      const ckks::KeyName &name = uses[i];
      if (std::find(window.begin(), window.end(), name) != window.end())
        continue;
      if (!window.empty() && bytes + bytesOf.at(name) > budget)
        break;
      window.push_back(name);
      bytes += bytesOf.at(name);
    }
    for (auto it = held.begin(); it != held.end();) {
      if (std::find(window.begin(), window.end(), it->first) == window.end()) {
        heldTotal -= bytesOf.at(it->first);
        it = held.erase(it);
      } else {
        ++it;
      }
    }
    auto next = std::find_if(window.begin(), window.end(),
                             [&](const auto &n) { return !held.count(n); });
    if (next == window.end()) {
      changed.wait(lock);
      continue;
    }
    ckks::KeyName name = *next;
    lock.unlock();
    std::shared_ptr<const ckks::SwitchingKey> key;
    std::exception_ptr error;
    try {
      key = std::make_shared<const ckks::SwitchingKey>(file->read(
          name, ckks::EvalKeyFile::keepOf(name, &selection), &selection));
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error) {
      failure = error;
    } else {
      // Dropped again at once if the cursor moved past its window.
      held.emplace(name, std::move(key));
      heldTotal += bytesOf.at(name);
      peak = std::max(peak, heldTotal);
      ++loaded;
    }
    changed.notify_all();
  }
}

const ckks::SwitchingKey &StreamedKeys::key(const ckks::KeyName &name) {
  std::unique_lock lock(mutex);
  if (uses.empty())
    throw Error("a key switch this process does not run asked for " +
                name.describe());
  // The schedule runs its key switches in order: the first use of `name`
  // from the cursor is this one (from the start again on a later run).
  size_t at = cursor;
  for (size_t i = 0; i < uses.size() && uses[at] != name; ++i)
    at = (at + 1) % uses.size();
  if (uses[at] != name)
    throw Error("the schedule uses " + name.describe() +
                " where the key stream expects none");
  cursor = at;
  changed.notify_all();
  changed.wait(lock, [&] { return failure || held.count(name); });
  if (failure)
    std::rethrow_exception(failure);
  // The cursor stays on this use until the next call: the window starts
  // here, so this key is held while the key switch runs.
  return *held.at(name);
}

size_t StreamedKeys::peakBytes() const {
  std::lock_guard lock(mutex);
  return peak;
}

size_t StreamedKeys::reads() const {
  std::lock_guard lock(mutex);
  return loaded;
}

} // namespace cerium::runtime
