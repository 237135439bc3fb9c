//===- NcclCommunicator.cpp - The GPUs of a run over NCCL -----------------===//
//
// The communicator is non-blocking (ncclConfig_t::blocking = 0): creating
// it and enqueueing a collective return at once, and every wait polls
// ncclCommGetAsyncError and the stream against a deadline, so that a GPU
// whose peer hung ends with an error (after ncclCommAbort) instead of a
// hang. Barrier and abort are the world's: NCCL's collectives complete
// before each call returns, so they need nothing of their own.
//
//===----------------------------------------------------------------------===//

#include "cerium/Runtime/Communicator.h"
#include "cerium/Support/Error.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>

namespace cerium::runtime {

namespace {

/// As for MPI: yield while the partner is likely there, then sleep between
/// polls.
constexpr auto kSpin = std::chrono::microseconds(200);

struct StreamDeleter {
  void operator()(cudaStream_t stream) const { cudaStreamDestroy(stream); }
};
using Stream = std::unique_ptr<CUstream_st, StreamDeleter>;

class NcclCommunicator final : public Communicator {
public:
  NcclCommunicator(Communicator &world, int device,
                   std::chrono::milliseconds timeout)
      : world(world), timeout(timeout) {
    checkCuda(cudaSetDevice(device), "cudaSetDevice");
    // NCCL's id travels over the world as 32-bit words.
    static_assert(sizeof(ncclUniqueId) % sizeof(uint32_t) == 0);
    ncclUniqueId id{};
    if (world.rank() == 0)
      checkNccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    std::array<uint32_t, sizeof(ncclUniqueId) / sizeof(uint32_t)> words;
    std::memcpy(words.data(), &id, sizeof id);
    world.broadcast(words, 0);
    std::memcpy(&id, words.data(), sizeof id);

    cudaStream_t s = nullptr;
    checkCuda(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking),
              "cudaStreamCreate");
    stream.reset(s);
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    checkNccl(
        ncclCommInitRankConfig(&comm, world.size(), id, world.rank(), &config),
        "ncclCommInitRank");
    wait("ncclCommInitRank");
  }

  ~NcclCommunicator() override {
    if (!comm)
      return;
    // Unwinding from an error: the other ranks may never finalize, so the
    // communicator goes at once.
    if (std::uncaught_exceptions() > 0) {
      ncclCommAbort(comm);
      return;
    }
    // Finalize lets the other ranks receive what this one still sends and
    // waits until all are done with the communicator; destroy then frees it
    // locally. A destructor cannot report a failure, and wait has aborted
    // the communicator on one.
    try {
      checkNccl(ncclCommFinalize(comm), "ncclCommFinalize");
      wait("ncclCommFinalize");
      ncclCommDestroy(comm);
    } catch (const Error &) {
    }
  }

  int rank() const override { return world.rank(); }
  int size() const override { return world.size(); }
  int localRank() const override { return world.localRank(); }
  std::string transport() const override { return "NCCL"; }

  void allGather(std::span<const uint32_t> mine, std::span<uint32_t> all,
                 std::span<const size_t> counts) override {
    size_t total = checkGather(rank(), size(), mine, all, counts);
    live("allGather");
    if (total == 0)
      return;
    if (std::ranges::all_of(counts, [&](size_t c) { return c == counts[0]; }))
      checkNccl(ncclAllGather(mine.data(), all.data(), counts[0], ncclUint32,
                              comm, stream.get()),
                "ncclAllGather");
    else
      gatherByBroadcasts(mine, all, counts);
    wait("allGather");
    sent += uint64_t(mine.size()) * uint64_t(size() - 1);
    received += total - mine.size();
  }

  void broadcast(std::span<uint32_t> words, int root) override {
    if (root < 0 || root >= size())
      throw Error(where() + "broadcast: root " + std::to_string(root) +
                  " is not a rank of this run of " + std::to_string(size()));
    live("broadcast");
    if (words.empty())
      return;
    checkNccl(ncclBroadcast(words.data(), words.data(), words.size(),
                            ncclUint32, root, comm, stream.get()),
              "ncclBroadcast");
    wait("broadcast");
    if (rank() == root)
      sent += uint64_t(words.size()) * uint64_t(size() - 1);
    else
      received += words.size();
  }

  void barrier() override { world.barrier(); }

  [[noreturn]] void abort(int code) override {
    world.abort(code);
    // Not reached, but [[noreturn]] does not carry through a virtual call.
    std::_Exit(code);
  }

private:
  std::string where() const {
    return "NCCL rank " + std::to_string(rank()) + ": ";
  }

  /// Unequal parts: NCCL's all-gather needs equal ones, so each rank
  /// broadcasts its part into its slot, all in one group (one launch).
  void gatherByBroadcasts(std::span<const uint32_t> mine,
                          std::span<uint32_t> all,
                          std::span<const size_t> counts) {
    checkNccl(ncclGroupStart(), "ncclGroupStart");
    size_t offset = 0;
    for (int r = 0; r < size(); ++r) {
      // Every rank skips the same empty parts (counts is the same on all).
      if (counts[r] != 0) {
        uint32_t *slot = all.data() + offset;
        const uint32_t *send = r == rank() ? mine.data() : slot;
        checkNccl(ncclBroadcast(send, slot, counts[r], ncclUint32, r, comm,
                                stream.get()),
                  "ncclBroadcast");
      }
      offset += counts[r];
    }
    checkNccl(ncclGroupEnd(), "ncclGroupEnd");
  }

  /// After an error the communicator is gone; later calls say why.
  void live(const char *operation) const {
    if (!comm)
      throw Error(where() + operation +
                  ": the communicator was aborted after an earlier error");
  }

  [[noreturn]] void fail(const std::string &what) {
    if (comm) {
      ncclCommAbort(comm);
      comm = nullptr;
    }
    throw Error(where() + what);
  }

  void checkCuda(cudaError_t code, const char *operation) {
    if (code != cudaSuccess)
      fail(std::string(operation) + " failed: " + cudaGetErrorString(code));
  }

  /// A non-blocking communicator answers ncclInProgress for what it has
  /// not finished yet; wait completes it.
  void checkNccl(ncclResult_t code, const char *operation) {
    if (code == ncclSuccess || code == ncclInProgress)
      return;
    std::string detail = ncclGetLastError(comm);
    fail(std::string(operation) + " failed: " + ncclGetErrorString(code) +
         (detail.empty() ? "" : " (" + detail + ")"));
  }

  /// Until the communicator is idle and the stream's work done.
  void wait(const char *operation) {
    bool finished = pollUntil(
        [&] {
          ncclResult_t state = ncclSuccess;
          checkNccl(ncclCommGetAsyncError(comm, &state), operation);
          checkNccl(state, operation);
          if (state != ncclSuccess)
            return false; // in progress
          cudaError_t done = cudaStreamQuery(stream.get());
          if (done != cudaErrorNotReady)
            checkCuda(done, operation);
          return done == cudaSuccess;
        },
        timeout, kSpin);
    if (!finished)
      fail(timeoutMessage(operation, timeout));
  }

  Communicator &world;
  const std::chrono::milliseconds timeout;
  Stream stream;
  ncclComm_t comm = nullptr;
};

} // namespace

std::unique_ptr<Communicator>
createNcclCommunicator(Communicator &world, int device,
                       std::chrono::milliseconds timeout) {
  return std::make_unique<NcclCommunicator>(world, device, timeout);
}

} // namespace cerium::runtime
