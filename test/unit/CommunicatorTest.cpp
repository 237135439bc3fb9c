//===- CommunicatorTest.cpp - Data movement between the ranks of a run ----===//
//
// LocalCommunicator.* run in one process. MpiCommunicator.* need two ranks:
// ctest starts this executable as `mpirun -np 2 ...
// --gtest_filter=MpiCommunicator.*`, and both ranks run the same tests in
// the same order, so that their collectives match; outside mpirun they
// skip.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "cerium/Runtime/Communicator.h"

#include <array>
#include <chrono>
#include <climits>
#include <thread>

using namespace cerium;
using namespace cerium::runtime;
using namespace std::chrono_literals;

namespace {

template <class F> std::string errorOf(F f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(LocalCommunicator, IsOneRank) {
  auto comm = createLocalCommunicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_EQ(comm->localRank(), 0);
  EXPECT_EQ(comm->transport(), "local");
}

TEST(LocalCommunicator, AllGatherCopiesMineToAll) {
  auto comm = createLocalCommunicator();
  std::vector<uint32_t> mine = {1, 2, 3}, all(3);
  std::array<size_t, 1> counts = {3};
  comm->allGather(mine, all, counts);
  EXPECT_EQ(all, mine);
  // In place, and nothing: both fine.
  comm->allGather(all, all, counts);
  EXPECT_EQ(all, mine);
  counts[0] = 0;
  comm->allGather({}, {}, counts);
  // Nothing left the process.
  EXPECT_EQ(comm->wordsSent(), 0u);
  EXPECT_EQ(comm->wordsReceived(), 0u);
}

TEST(LocalCommunicator, AllGatherChecksItsArguments) {
  auto comm = createLocalCommunicator();
  std::vector<uint32_t> mine = {1, 2}, all(2);
  std::array<size_t, 2> two = {2, 0};
  EXPECT_EQ(errorOf([&] { comm->allGather(mine, all, two); }),
            "allGather: 2 counts for 1 ranks");
  std::array<size_t, 1> three = {3};
  EXPECT_EQ(errorOf([&] { comm->allGather(mine, all, three); }),
            "allGather: rank 0 passes 2 words, its count is 3");
  std::array<size_t, 1> counts = {2};
  EXPECT_EQ(
      errorOf([&] { comm->allGather(mine, std::span(all).first(1), counts); }),
      "allGather: the result holds 1 words, the counts add up to 2");
}

TEST(LocalCommunicator, BroadcastAndBarrierAreNoOps) {
  auto comm = createLocalCommunicator();
  std::vector<uint32_t> words = {7, 8};
  comm->broadcast(words, 0);
  EXPECT_EQ(words, (std::vector<uint32_t>{7, 8}));
  comm->barrier();
  EXPECT_EQ(errorOf([&] { comm->broadcast(words, 1); }),
            "broadcast: root 1 is not a rank of a one-process run");
}

TEST(LocalCommunicator, AbortExitsWithTheCode) {
  auto comm = createLocalCommunicator();
  EXPECT_EXIT(comm->abort(3), ::testing::ExitedWithCode(3), "");
}

TEST(LocalCommunicator, StartedByMpirunReadsTheLaunchersEnvironment) {
  const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
  std::vector<std::pair<std::string, std::string>> saved;
  for (const char *name : names)
    if (const char *value = std::getenv(name))
      saved.emplace_back(name, value);
  for (const char *name : names)
    unsetenv(name);
  EXPECT_FALSE(startedByMpirun());
  for (const char *name : names) {
    setenv(name, "2", 1);
    EXPECT_TRUE(startedByMpirun()) << name;
    unsetenv(name);
  }
  for (const auto &[name, value] : saved)
    setenv(name.c_str(), value.c_str(), 1);
}

TEST(LocalCommunicator, NcclNeedsADevice) {
  // Whether or not NCCL is compiled in and a GPU present: no device -1.
  auto comm = createLocalCommunicator();
  EXPECT_THROW(createNcclCommunicator(*comm, -1, std::chrono::seconds(1)),
               Error);
}

/// Long enough for a loaded machine; the tests end well before it.
constexpr auto kPatient = 20s;

/// A 64-bit value as two words, and back (broadcast moves words).
std::array<uint32_t, 2> split(uint64_t v) {
  return {uint32_t(v), uint32_t(v >> 32)};
}
uint64_t join(const std::array<uint32_t, 2> &w) {
  return w[0] | uint64_t(w[1]) << 32;
}

uint64_t monotonicNanoseconds() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

class MpiCommunicator : public ::testing::Test {
protected:
  void SetUp() override {
    if (!startedByMpirun())
      GTEST_SKIP() << "needs two ranks: mpirun -np 2 <this test> "
                      "--gtest_filter=MpiCommunicator.*";
    world = createMpiCommunicator(kPatient);
    ASSERT_EQ(world->size(), 2);
    me = world->rank();
  }

  /// Rank 0's seed on both ranks, so that each knows the other's data
  /// (and CERIUM_TEST_SEED reproduces a run).
  uint64_t sharedSeed() {
    auto words = split(me == 0 ? test::testSeed() : 0);
    world->broadcast(words, 0);
    return join(words);
  }

  std::unique_ptr<Communicator> world;
  int me = 0;
};

TEST_F(MpiCommunicator, IsTheWorld) {
  EXPECT_EQ(world->transport(), "MPI");
  EXPECT_TRUE(me == 0 || me == 1);
  // Both ranks run on this host: their places on it are 0 and 1 too.
  EXPECT_EQ(world->localRank(), me);
}

TEST_F(MpiCommunicator, AllGatherUnequalParts) {
  uint64_t seed = sharedSeed();
  SCOPED_TRACE("seed (rerun with CERIUM_TEST_SEED=" + std::to_string(seed) +
               ")");
  Prng prng(seed);
  // Empty parts on either rank and on both, then random sizes.
  std::vector<std::array<size_t, 2>> shapes = {
      {0, 5}, {7, 0}, {0, 0}, {1, 1}, {3, 1000}};
  for (int i = 0; i < 8; ++i)
    shapes.push_back({prng.uniformBelow(5000), prng.uniformBelow(5000)});
  for (const auto &counts : shapes) {
    SCOPED_TRACE("counts " + std::to_string(counts[0]) + ", " +
                 std::to_string(counts[1]));
    std::vector<uint32_t> want(counts[0] + counts[1]);
    for (uint32_t &w : want)
      w = prng.next32();
    size_t offset = me == 0 ? 0 : counts[0];
    std::span<const uint32_t> mine =
        std::span(want).subspan(offset, counts[me]);
    // Every word the exchange fails to write stays wrong.
    std::vector<uint32_t> all(want.size());
    for (size_t i = 0; i < all.size(); ++i)
      all[i] = ~want[i];
    uint64_t sent = world->wordsSent(), received = world->wordsReceived();
    world->allGather(mine, all, counts);
    EXPECT_EQ(all, want);
    EXPECT_EQ(world->wordsSent() - sent, counts[me]);
    EXPECT_EQ(world->wordsReceived() - received, counts[1 - me]);
  }
}

TEST_F(MpiCommunicator, AllGatherInPlace) {
  std::array<size_t, 2> counts = {3, 2};
  std::vector<uint32_t> want = {10, 11, 12, 20, 21};
  std::vector<uint32_t> all(want.size(), 0);
  size_t offset = me == 0 ? 0 : counts[0];
  std::copy_n(want.begin() + offset, counts[me], all.begin() + offset);
  world->allGather(std::span(all).subspan(offset, counts[me]), all, counts);
  EXPECT_EQ(all, want);
}

TEST_F(MpiCommunicator, AllGatherRefusesPartsBeyondMpisLimit) {
  // Refused before any buffer is looked at, on both ranks alike.
  std::array<size_t, 2> counts = {size_t(INT_MAX) + 1, 0};
  EXPECT_EQ(errorOf([&] { world->allGather({}, {}, counts); }),
            "MPI rank " + std::to_string(me) +
                ": allGather: the part of rank 0 (2147483648 words at word "
                "0) is beyond MPI's limit of 2147483647 words");
}

TEST_F(MpiCommunicator, BroadcastFromEachRoot) {
  uint64_t seed = sharedSeed();
  SCOPED_TRACE("seed (rerun with CERIUM_TEST_SEED=" + std::to_string(seed) +
               ")");
  Prng prng(seed);
  for (int root = 0; root < 2; ++root) {
    std::vector<uint32_t> want(1000 + root);
    for (uint32_t &w : want)
      w = prng.next32();
    std::vector<uint32_t> words =
        me == root ? want : std::vector<uint32_t>(want.size());
    uint64_t sent = world->wordsSent(), received = world->wordsReceived();
    world->broadcast(words, root);
    EXPECT_EQ(words, want) << "root " << root;
    EXPECT_EQ(world->wordsSent() - sent, me == root ? want.size() : 0);
    EXPECT_EQ(world->wordsReceived() - received, me == root ? 0 : want.size());
  }
  std::vector<uint32_t> words(1);
  EXPECT_EQ(errorOf([&] { world->broadcast(words, 2); }),
            "MPI rank " + std::to_string(me) +
                ": broadcast: root 2 is not a rank of this run of 2");
}

TEST_F(MpiCommunicator, BarrierWaitsForTheLastRank) {
  world->barrier();
  // Rank 1 arrives late; rank 0 must not leave before it arrived.
  // steady_clock is CLOCK_MONOTONIC, one clock for the processes of a
  // machine.
  uint64_t arrived = 0;
  if (me == 1) {
    std::this_thread::sleep_for(200ms);
    arrived = monotonicNanoseconds();
  }
  world->barrier();
  uint64_t left = monotonicNanoseconds();
  auto words = split(arrived);
  world->broadcast(words, 1);
  if (me == 0) { // braces: EXPECT_GE is an if-else
    EXPECT_GE(left, join(words));
  }
}

TEST_F(MpiCommunicator, TimeoutNamesRankOperationAndLimit) {
  auto impatient = createMpiCommunicator(300ms);
  world->barrier();
  if (me == 0) {
    auto start = std::chrono::steady_clock::now();
    std::string error = errorOf([&] { impatient->barrier(); });
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(error, "MPI rank 0: barrier did not complete within 300 ms (a "
                     "rank is missing or hung)");
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 2s);
  } else {
    // Joins the barrier that rank 0 gave up on: rank 0 has been there for
    // long, so it completes at once.
    std::this_thread::sleep_for(1s);
    impatient->barrier();
  }
  // MPI matches a communicator's collectives in order: both ranks are in
  // step again, and the timeout is resolved (MPI_Finalize at exit, no
  // abort).
  world->barrier();
}

} // namespace
