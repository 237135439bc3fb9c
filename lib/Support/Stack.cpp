//===- Stack.cpp - Work on a thread with a large stack --------------------===//

#include "cerium/Support/Stack.h"
#include "cerium/Support/Error.h"

#include <pthread.h>

#include <cstring>
#include <exception>

namespace cerium {

namespace {

struct Task {
  const std::function<void()> *work;
  std::exception_ptr error;
};

void *runTask(void *arg) {
  auto *task = static_cast<Task *>(arg);
  try {
    (*task->work)();
  } catch (...) {
    task->error = std::current_exception();
  }
  return nullptr;
}

} // namespace

void runWithStack(size_t bytes, const std::function<void()> &work) {
  Task task{&work, nullptr};
  pthread_attr_t attr;
  if (int err = pthread_attr_init(&attr))
    throw Error(std::string("cannot start a worker thread: ") +
                std::strerror(err));
  pthread_t thread;
  int err = pthread_attr_setstacksize(&attr, bytes);
  if (!err)
    err = pthread_create(&thread, &attr, runTask, &task);
  pthread_attr_destroy(&attr);
  if (err)
    throw Error(std::string("cannot start a worker thread: ") +
                std::strerror(err));
  pthread_join(thread, nullptr);
  if (task.error)
    std::rethrow_exception(task.error);
}

} // namespace cerium
