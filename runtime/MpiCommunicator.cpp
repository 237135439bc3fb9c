//===- MpiCommunicator.cpp - The ranks of a run over MPI ------------------===//
//
// Every collective is MPI's non-blocking one, completed by polling
// MPI_Test against a deadline: a blocking MPI call would wait forever for a
// rank that hung. MPI_COMM_WORLD returns its errors (MPI_ERRORS_RETURN),
// which become one-line cerium::Errors. The two waits MPI has no
// non-blocking form of, MPI_Init and MPI_Finalize, run under a watchdog
// with the same deadline, and MPI_Finalize only after a polled barrier.
//
//===----------------------------------------------------------------------===//

#include "cerium/Runtime/Communicator.h"
#include "cerium/Support/Error.h"

// Only MPI's C interface: OpenMPI's and MPICH's mpi.h otherwise pull in the
// deprecated C++ bindings, which would need their own library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace cerium::runtime {

namespace {

/// Polling: MPI moves a large part in fragments, each advanced only inside
/// an MPI_Test, so the first 50 ms of a wait poll without sleeping (a
/// yield still hands the core to a rank that shares it and is computing;
/// sleeping 100 us between polls made the 19 gathers of a small N = 2^16
/// program take 48 ms instead of 6).
constexpr auto kSpin = std::chrono::milliseconds(50);

/// Set by a collective that timed out, cleared by the next one that
/// completes (MPI matches the collectives of a communicator in order, so
/// that one completing means every rank got past the one that timed out).
bool unresolvedTimeout = false;

/// Set when an MPI call failed: the world is in no known state, so the
/// process aborts at exit instead of meeting the others in a barrier.
bool mpiFailed = false;

/// The longest timeout of this process's communicators: it bounds the
/// waits at exit too (the barrier before MPI_Finalize and MPI_Finalize).
std::chrono::milliseconds exitTimeout{0};

std::string mpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, size_t(length));
}

/// Ends this process with one line on stderr: a watchdog's way out of an
/// MPI call that does not return (mpirun then ends the other ranks).
[[noreturn]] void exitWithLine(const std::string &line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(nullptr);
  std::_Exit(EXIT_FAILURE);
}

/// Runs `call`, an MPI call with no non-blocking form (MPI_Init,
/// MPI_Finalize: both wait for every rank inside MPI), under a watchdog
/// that ends the process with `late`'s line once `timeout` has passed.
template <class Call>
int underWatchdog(std::chrono::milliseconds timeout, const std::string &late,
                  Call call) {
  std::mutex mutex;
  std::condition_variable returned;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mutex);
    if (!returned.wait_for(lock, timeout, [&] { return done; }))
      exitWithLine(late);
  });
  int code = call();
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  returned.notify_one();
  watchdog.join();
  return code;
}

class MpiCommunicator final : public Communicator {
public:
  explicit MpiCommunicator(std::chrono::milliseconds timeout)
      : timeout(timeout) {
    exitTimeout = std::max(exitTimeout, timeout);
    initializeMpi(timeout);
    check(MPI_Comm_rank(MPI_COMM_WORLD, &myRank), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &numRanks), "MPI_Comm_size");
    // This process's place among those on its host (what picks its GPU):
    // the ranks before it with the same host name. MPI_Comm_split_type
    // would say the same, but it is a blocking collective, and a rank that
    // never arrives would hold this one there past any timeout.
    char host[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    check(MPI_Get_processor_name(host, &length), "MPI_Get_processor_name");
    std::vector<char> hosts(size_t(numRanks) * MPI_MAX_PROCESSOR_NAME);
    MPI_Request request;
    check(MPI_Iallgather(host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, hosts.data(),
                         MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD,
                         &request),
          "the exchange of host names");
    wait(request, "the exchange of host names");
    for (int r = 0; r < myRank; ++r)
      if (std::strncmp(hosts.data() + size_t(r) * MPI_MAX_PROCESSOR_NAME, host,
                       MPI_MAX_PROCESSOR_NAME) == 0)
        ++hostRank;
  }

  int rank() const override { return myRank; }
  int size() const override { return numRanks; }
  int localRank() const override { return hostRank; }
  std::string transport() const override { return "MPI"; }

  void allGather(std::span<const uint32_t> mine, std::span<uint32_t> all,
                 std::span<const size_t> counts) override {
    // MPI counts and displacements are ints; checked first, so that a part
    // too large for MPI is named as such.
    std::vector<int> intCounts(counts.size()), displacements(counts.size());
    size_t offset = 0;
    for (size_t r = 0; r < counts.size(); ++r) {
      if (counts[r] > size_t(INT_MAX) || offset > size_t(INT_MAX))
        throw Error(where() + "allGather: the part of rank " +
                    std::to_string(r) + " (" + std::to_string(counts[r]) +
                    " words at word " + std::to_string(offset) +
                    ") is beyond MPI's limit of " + std::to_string(INT_MAX) +
                    " words");
      intCounts[r] = int(counts[r]);
      displacements[r] = int(offset);
      offset += counts[r];
    }
    size_t total = checkGather(myRank, numRanks, mine, all, counts);
    const void *send = mine.data() == all.data() + displacements[myRank]
                           ? MPI_IN_PLACE
                           : mine.data();
    MPI_Request request;
    check(MPI_Iallgatherv(send, intCounts[myRank], MPI_UINT32_T, all.data(),
                          intCounts.data(), displacements.data(), MPI_UINT32_T,
                          MPI_COMM_WORLD, &request),
          "allGather");
    wait(request, "allGather");
    sent += uint64_t(mine.size()) * uint64_t(numRanks - 1);
    received += total - mine.size();
  }

  void broadcast(std::span<uint32_t> words, int root) override {
    if (root < 0 || root >= numRanks)
      throw Error(where() + "broadcast: root " + std::to_string(root) +
                  " is not a rank of this run of " + std::to_string(numRanks));
    if (words.size() > size_t(INT_MAX))
      throw Error(where() + "broadcast: " + std::to_string(words.size()) +
                  " words are beyond MPI's limit of " +
                  std::to_string(INT_MAX) + " words");
    MPI_Request request;
    check(MPI_Ibcast(words.data(), int(words.size()), MPI_UINT32_T, root,
                     MPI_COMM_WORLD, &request),
          "broadcast");
    wait(request, "broadcast");
    if (myRank == root)
      sent += uint64_t(words.size()) * uint64_t(numRanks - 1);
    else
      received += words.size();
  }

  void barrier() override {
    MPI_Request request;
    check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "barrier");
    wait(request, "barrier");
  }

  [[noreturn]] void abort(int code) override { abortWorld(code); }

private:
  /// Joins the MPI world, once per process.
  static void initializeMpi(std::chrono::milliseconds timeout) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (finalized)
      throw Error("MPI: already finalized, a run cannot join it again");
    if (!initialized) {
      // FUNNELED: the backends run OpenMP threads, but only the main thread
      // calls MPI (the watchdog makes no MPI call).
      int provided = 0;
      int code = underWatchdog(
          timeout, "error: MPI: " + timeoutMessage("MPI_Init_thread", timeout),
          [&] {
            return MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED,
                                   &provided);
          });
      if (code != MPI_SUCCESS)
        throw Error("MPI: MPI_Init_thread failed: " + mpiErrorText(code));
      // Whoever initialized MPI finalizes it; here that is this process's
      // exit.
      std::atexit(finalizeAtExit);
    }
    int code = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (code != MPI_SUCCESS)
      throw Error("MPI: MPI_Comm_set_errhandler failed: " + mpiErrorText(code));
  }

  /// MPI_Finalize synchronizes with every rank, without a bound: a rank
  /// that hung after the last collective would hold this one there (rank
  /// 0 too, its output written), so every rank first meets the others in
  /// a polled barrier and aborts the run, with one line, if they do not
  /// come within the timeout.
  static void finalizeAtExit() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      return;
    // After an unresolved timeout the others are not in step (the barrier
    // could meet a collective of theirs), and after a failed MPI call MPI
    // is in no known state: the run ends here. The line was printed with
    // the error.
    if (unresolvedTimeout || mpiFailed)
      abortWorld(EXIT_FAILURE);
    int rank = -1, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::string where = "error (process " + std::to_string(rank) +
                              " of " + std::to_string(size) + "): MPI rank " +
                              std::to_string(rank) + ": ";
    const char *operation = "the barrier before MPI_Finalize";
    MPI_Request request;
    std::optional<std::string> why;
    bool timedOut = false;
    if (int code = MPI_Ibarrier(MPI_COMM_WORLD, &request); code != MPI_SUCCESS)
      why = std::string(operation) + " failed: " + mpiErrorText(code);
    else
      why = pollRequest(request, operation, exitTimeout, timedOut);
    if (why) {
      std::fprintf(stderr, "%s%s\n", where.c_str(), why->c_str());
      abortWorld(EXIT_FAILURE);
    }
    // Every rank is here: MPI_Finalize's own synchronization finds them
    // all, and the watchdog only guards against MPI itself hanging.
    underWatchdog(exitTimeout,
                  where + timeoutMessage("MPI_Finalize", exitTimeout),
                  [] { return MPI_Finalize(); });
  }

  /// Polls `request` (a collective's, `operation`) until it completes, an MPI
  /// call fails or `timeout` passes; why it did not complete, if it did not
  /// (`timedOut` says which).
  static std::optional<std::string>
  pollRequest(MPI_Request &request, const char *operation,
              std::chrono::milliseconds timeout, bool &timedOut) {
    int code = MPI_SUCCESS;
    const bool finished = pollUntil(
        [&] {
          int done = 0;
          code = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
          return code != MPI_SUCCESS || done != 0;
        },
        timeout, kSpin);
    timedOut = !finished;
    if (code != MPI_SUCCESS)
      return std::string(operation) + " failed: " + mpiErrorText(code);
    if (!finished)
      return timeoutMessage(operation, timeout);
    return std::nullopt;
  }

  [[noreturn]] static void abortWorld(int code) {
    // MPI_Abort ends the process without flushing stdio buffers.
    std::cout.flush();
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, code);
    // MPI does not promise that MPI_Abort returns never.
    std::_Exit(code);
  }

  std::string where() const {
    return "MPI rank " + std::to_string(myRank) + ": ";
  }

  void check(int code, const char *operation) const {
    if (code == MPI_SUCCESS)
      return;
    mpiFailed = true;
    throw Error(where() + operation + " failed: " + mpiErrorText(code));
  }

  void wait(MPI_Request &request, const char *operation) {
    bool timedOut = false;
    std::optional<std::string> why =
        pollRequest(request, operation, timeout, timedOut);
    // A request left active after a timeout (MPI cannot cancel a
    // collective) is resolved by the next collective completing.
    unresolvedTimeout = timedOut;
    if (why) {
      mpiFailed |= !timedOut;
      throw Error(where() + *why);
    }
  }

  std::chrono::milliseconds timeout;
  int myRank = 0, numRanks = 1, hostRank = 0;
};

} // namespace

std::unique_ptr<Communicator>
createMpiCommunicator(std::chrono::milliseconds timeout) {
  return std::make_unique<MpiCommunicator>(timeout);
}

} // namespace cerium::runtime
