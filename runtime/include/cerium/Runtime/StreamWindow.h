//===- StreamWindow.h - Items read ahead of a known order of use *- C++ -*-===//
//
// cerium-run --memory-limit: what does not fit (switching keys, plaintext
// constants) stays in its mapped file and is read ahead of use. The
// schedule says exactly which item each use needs, in order, so the items
// held are always the next ones: a background thread reads items in the
// order of their next use for as long as they fit the budget, and drops an
// item once no use of it lies within that window. Knowing the future makes
// this Belady's choice: nothing held is needed later than anything dropped.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_STREAMWINDOW_H
#define CERIUM_RUNTIME_STREAMWINDOW_H

#include "cerium/Support/Error.h"

#include <omp.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace cerium::runtime {

template <class Name, class Item> class StreamWindow {
public:
  using Load = std::function<std::shared_ptr<const Item>(const Name &)>;

  /// `uses` in the order the run asks for them, each item's bytes as held,
  /// at most `budget` bytes and `maxItems` items held (the item in use
  /// always, whatever its size); `load` reads one (on the window's thread).
  /// The window is found again at each use, so many small items (constants)
  /// want a cap on how far ahead it reaches.
  StreamWindow(std::vector<Name> uses, std::map<Name, size_t> bytesOf,
               size_t budget, Load load, size_t maxItems = SIZE_MAX)
      : uses(std::move(uses)), bytesOf(std::move(bytesOf)), budget(budget),
        maxItems(maxItems), load(std::move(load)) {
    worker = std::thread([this] {
      // One thread: the executor's kernels use the others while it reads.
      omp_set_num_threads(1);
      prefetch();
    });
  }
  ~StreamWindow() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    worker.join();
  }
  StreamWindow(const StreamWindow &) = delete;
  StreamWindow &operator=(const StreamWindow &) = delete;

  /// The item `name` for the use about to run; valid until the next call.
  /// `describe` names it in errors.
  const Item &get(const Name &name,
                  const std::function<std::string()> &describe) {
    std::unique_lock lock(mutex);
    if (uses.empty())
      throw Error("a use this process does not run asked for " + describe());
    // Uses come in order: the first use of `name` from the cursor is this
    // one (from the start again on a later run).
    size_t at = cursor;
    for (size_t i = 0; i < uses.size() && uses[at] != name; ++i)
      at = (at + 1) % uses.size();
    if (uses[at] != name)
      throw Error("the schedule uses " + describe() +
                  " where the stream expects none");
    cursor = at;
    changed.notify_all();
    changed.wait(lock, [&] { return failure || held.count(name); });
    if (failure)
      std::rethrow_exception(failure);
    // The cursor stays on this use until the next call: the window starts
    // here, so this item is held while it is used.
    return *held.at(name);
  }

  /// The most bytes held at once so far, and how many items were read.
  size_t peakBytes() const {
    std::lock_guard lock(mutex);
    return peak;
  }
  size_t reads() const {
    std::lock_guard lock(mutex);
    return loaded;
  }

private:
  void prefetch() {
    std::unique_lock lock(mutex);
    while (!stopping && !failure) {
      // The window: distinct items in order of next use from the one being
      // served, while they fit the budget (the first always). Up to the
      // end of the run: a next run starts over from its first use (get()
      // moves the cursor back), and may never come.
      std::vector<Name> window;
      std::set<Name> inWindow;
      size_t bytes = 0;
      for (size_t i = cursor; i < uses.size(); ++i) {
        const Name &name = uses[i];
        if (inWindow.count(name))
          continue;
        if (!window.empty() &&
            (bytes + bytesOf.at(name) > budget || window.size() == maxItems))
          break;
        window.push_back(name);
        inWindow.insert(name);
        bytes += bytesOf.at(name);
      }
      for (auto it = held.begin(); it != held.end();) {
        if (!inWindow.count(it->first)) {
          heldTotal -= bytesOf.at(it->first);
          it = held.erase(it);
        } else {
          ++it;
        }
      }
      auto next = std::find_if(window.begin(), window.end(),
                               [&](const Name &n) { return !held.count(n); });
      if (next == window.end()) {
        changed.wait(lock);
        continue;
      }
      Name name = *next;
      lock.unlock();
      std::shared_ptr<const Item> item;
      std::exception_ptr error;
      try {
        item = load(name);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error) {
        failure = error;
      } else {
        // Dropped again at once if the cursor moved past its window.
        held.emplace(name, std::move(item));
        heldTotal += bytesOf.at(name);
        peak = std::max(peak, heldTotal);
        ++loaded;
      }
      changed.notify_all();
    }
  }

  const std::vector<Name> uses;
  const std::map<Name, size_t> bytesOf;
  const size_t budget, maxItems;
  const Load load;

  mutable std::mutex mutex;
  std::condition_variable changed;
  size_t cursor = 0; // the use served last (its item is not dropped)
  std::map<Name, std::shared_ptr<const Item>> held;
  size_t heldTotal = 0, peak = 0, loaded = 0;
  std::exception_ptr failure;
  bool stopping = false;
  std::thread worker;
};

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_STREAMWINDOW_H
