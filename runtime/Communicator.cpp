//===- Communicator.cpp - The one-process communicator and the factories --===//

#include "cerium/Runtime/Communicator.h"
#include "cerium/Support/Error.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <thread>

namespace cerium::runtime {

Communicator::~Communicator() = default;

bool Communicator::pollUntil(const std::function<bool()> &done,
                             std::chrono::milliseconds timeout,
                             std::chrono::microseconds spin) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  while (!done()) {
    Clock::duration waited = Clock::now() - start;
    if (waited >= timeout)
      return false;
    if (waited < spin)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

std::string Communicator::timeoutMessage(const char *operation,
                                         std::chrono::milliseconds timeout) {
  return std::string(operation) + " did not complete within " +
         std::to_string(timeout.count()) + " ms (a rank is missing or hung)";
}

size_t Communicator::checkGather(int rank, int size,
                                 std::span<const uint32_t> mine,
                                 std::span<uint32_t> all,
                                 std::span<const size_t> counts) {
  if (counts.size() != size_t(size))
    throw Error("allGather: " + std::to_string(counts.size()) + " counts for " +
                std::to_string(size) + " ranks");
  size_t total = 0;
  for (size_t c : counts) {
    // Bounded before summing, so that the sum cannot wrap around.
    if (c > SIZE_MAX / counts.size())
      throw Error("allGather: a count of " + std::to_string(c) +
                  " words is out of range");
    total += c;
  }
  if (mine.size() != counts[rank])
    throw Error("allGather: rank " + std::to_string(rank) + " passes " +
                std::to_string(mine.size()) + " words, its count is " +
                std::to_string(counts[rank]));
  if (all.size() != total)
    throw Error("allGather: the result holds " + std::to_string(all.size()) +
                " words, the counts add up to " + std::to_string(total));
  return total;
}

namespace {

class LocalCommunicator final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int localRank() const override { return 0; }
  std::string transport() const override { return "local"; }

  void allGather(std::span<const uint32_t> mine, std::span<uint32_t> all,
                 std::span<const size_t> counts) override {
    checkGather(0, 1, mine, all, counts);
    if (mine.data() != all.data())
      std::ranges::copy(mine, all.begin());
  }

  void broadcast(std::span<uint32_t> words, int root) override {
    if (root != 0)
      throw Error("broadcast: root " + std::to_string(root) +
                  " is not a rank of a one-process run");
  }

  void barrier() override {}

  // std::exit flushes the C streams and, through the static destructors,
  // std::cout and std::cerr, so the caller's reason is not lost.
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

} // namespace

std::unique_ptr<Communicator> createLocalCommunicator() {
  return std::make_unique<LocalCommunicator>();
}

bool startedByMpirun() {
  // OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE, MPICH's Hydra PMI_SIZE, and
  // PMIx launchers (OpenMPI 5, Slurm's srun --mpi=pmix) PMIX_RANK.
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name))
      return true;
  return false;
}

#ifndef CERIUM_HAVE_MPI
std::unique_ptr<Communicator>
createMpiCommunicator(std::chrono::milliseconds timeout) {
  throw Error("multi-process runs need MPI, which was not compiled in "
              "(install libopenmpi-dev and reconfigure)");
}
#endif

#ifndef CERIUM_HAVE_NCCL
std::unique_ptr<Communicator>
createNcclCommunicator(Communicator &world, int device,
                       std::chrono::milliseconds timeout) {
  throw Error("exchanging limbs between GPUs needs NCCL, which was not "
              "compiled in (configure with CUDA and NCCL present)");
}
#endif

} // namespace cerium::runtime
