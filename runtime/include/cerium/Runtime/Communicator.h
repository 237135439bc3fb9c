//===- Communicator.h - Data between the ranks of a run ---------*- C++ -*-===//
//
// A partitioned schedule (rns-partition) runs in several processes, one per
// rank; they exchange limbs only at the schedule's rns.all_gather ops. The
// communicator is that exchange: MPI between CPU processes, NCCL between
// GPUs (MPI starts the processes and carries NCCL's id). Every wait is
// bounded by a timeout, so a rank that dies or hangs ends the run with an
// error instead of a hang.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_RUNTIME_COMMUNICATOR_H
#define CERIUM_RUNTIME_COMMUNICATOR_H

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace cerium::runtime {

class Communicator {
public:
  virtual ~Communicator();
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// This process's place among the run's processes on its host (what picks
  /// its GPU).
  virtual int localRank() const = 0;
  /// What carries the data, for the run's one-line banner ("MPI", "NCCL").
  virtual std::string transport() const = 0;
  /// Every rank passes its part (`mine`, counts[rank] words); on return
  /// `all` holds the parts of ranks 0, 1, ... one after another
  /// (sum of counts words). counts is the same on every rank; `mine` may be
  /// this rank's own slot of `all` (in place). Buffers are in the memory
  /// the transport works on (host for MPI, device for NCCL).
  /// Throws cerium::Error when the others do not answer within the timeout.
  /// After a timeout the exchange may still complete into `all` later, so
  /// the run should end (abort) rather than reuse the buffers.
  virtual void allGather(std::span<const uint32_t> mine,
                         std::span<uint32_t> all,
                         std::span<const size_t> counts) = 0;
  /// Root's `words` to every rank.
  virtual void broadcast(std::span<uint32_t> words, int root) = 0;
  /// Waits for every rank (bounded by the timeout).
  virtual void barrier() = 0;
  /// Ends every process of the run with `code` (after the caller printed
  /// its one-line reason); does not return.
  [[noreturn]] virtual void abort(int code) = 0;
  /// Words this rank has sent and received so far (for profiles and
  /// benchmarks): what the collectives move by definition (an all-gather
  /// sends this rank's part to every other rank), not what the transport's
  /// algorithm forwards on the way.
  uint64_t wordsSent() const { return sent; }
  uint64_t wordsReceived() const { return received; }

protected:
  /// Checks allGather's arguments against this rank and size (one-line
  /// cerium::Error naming what is wrong); returns the sum of counts.
  static size_t checkGather(int rank, int size, std::span<const uint32_t> mine,
                            std::span<uint32_t> all,
                            std::span<const size_t> counts);
  /// Polls `done` until it says so: yielding for the first `spin` (a
  /// partner that is there answers fast, and transports advance only when
  /// polled), then sleeping 100 us between polls (a partner that long away
  /// is computing, maybe on this core). Returns false after `timeout`.
  static bool pollUntil(const std::function<bool()> &done,
                        std::chrono::milliseconds timeout,
                        std::chrono::microseconds spin);
  /// The one-line message of a wait that timed out.
  static std::string timeoutMessage(const char *operation,
                                    std::chrono::milliseconds timeout);

  uint64_t sent = 0, received = 0;
};

/// One process: size 1, nothing to exchange.
std::unique_ptr<Communicator> createLocalCommunicator();

/// Whether this process was started by mpirun (OpenMPI's or MPICH's
/// environment), so that the run should join an MPI world.
bool startedByMpirun();

/// The MPI world (MPI_Init on first use, MPI_Finalize at exit); every
/// collective waits at most `timeout`. Throws cerium::Error when MPI
/// support was not compiled in or MPI cannot start. A process that exits
/// after a timeout that no later collective resolved aborts the run at exit
/// instead of waiting in MPI_Finalize for the rank that hung.
std::unique_ptr<Communicator>
createMpiCommunicator(std::chrono::milliseconds timeout);

/// NCCL between the GPUs of `world`'s ranks (rank r on CUDA device
/// `device`), NCCL's unique id passed over `world`; barrier and abort are
/// `world`'s, which must outlive it. Buffers are device memory, written
/// completely before the call (NCCL works on its own stream); on return the
/// exchange has completed. Every NCCL wait is bounded by `timeout`.
/// Throws cerium::Error without CUDA/NCCL support or devices.
std::unique_ptr<Communicator>
createNcclCommunicator(Communicator &world, int device,
                       std::chrono::milliseconds timeout);

} // namespace cerium::runtime

#endif // CERIUM_RUNTIME_COMMUNICATOR_H
