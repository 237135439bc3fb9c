//===- MpiCommunicator.cpp - The ranks of a run over MPI ------------------===//
//
// Every collective is MPI's non-blocking one, completed by polling
// MPI_Test against a deadline: a blocking MPI call would wait forever for a
// rank that hung. MPI_COMM_WORLD returns its errors (MPI_ERRORS_RETURN),
// which become one-line cerium::Errors.
//
//===----------------------------------------------------------------------===//

#include "cerium/Runtime/Communicator.h"
#include "cerium/Support/Error.h"

// Only MPI's C interface: OpenMPI's and MPICH's mpi.h otherwise pull in the
// deprecated C++ bindings, which would need their own library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>
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

std::string mpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, size_t(length));
}

void finalizeAtExit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized)
    return;
  // MPI_Finalize synchronizes with every rank: after an unresolved timeout
  // it would wait for the rank that hung, so the run ends here instead.
  if (unresolvedTimeout)
    MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);
  MPI_Finalize();
}

/// Joins the MPI world, once per process.
void initializeMpi() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized)
    throw Error("MPI: already finalized, a run cannot join it again");
  if (!initialized) {
    // FUNNELED: the backends run OpenMP threads, but only the main thread
    // calls MPI.
    int provided = 0;
    int code =
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
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

class MpiCommunicator final : public Communicator {
public:
  explicit MpiCommunicator(std::chrono::milliseconds timeout)
      : timeout(timeout) {
    initializeMpi();
    check(MPI_Comm_rank(MPI_COMM_WORLD, &myRank), "MPI_Comm_rank");
    // The processes sharing this host's memory, ranked among themselves.
    MPI_Comm host;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, myRank,
                              MPI_INFO_NULL, &host),
          "MPI_Comm_split_type");
    check(MPI_Comm_rank(host, &hostRank), "MPI_Comm_rank");
    MPI_Comm_free(&host);
    check(MPI_Comm_size(MPI_COMM_WORLD, &numRanks), "MPI_Comm_size");
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

  [[noreturn]] void abort(int code) override {
    // MPI_Abort ends the process without flushing stdio buffers.
    std::cout.flush();
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, code);
    // MPI does not promise that MPI_Abort returns never.
    std::_Exit(code);
  }

private:
  std::string where() const {
    return "MPI rank " + std::to_string(myRank) + ": ";
  }

  void check(int code, const char *operation) const {
    if (code != MPI_SUCCESS)
      throw Error(where() + operation + " failed: " + mpiErrorText(code));
  }

  void wait(MPI_Request &request, const char *operation) {
    bool finished = pollUntil(
        [&] {
          int done = 0;
          check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), operation);
          return done != 0;
        },
        timeout, kSpin);
    // A request left active after a timeout (MPI cannot cancel a
    // collective) is resolved by the next collective completing.
    unresolvedTimeout = !finished;
    if (!finished)
      throw Error(where() + timeoutMessage(operation, timeout));
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
