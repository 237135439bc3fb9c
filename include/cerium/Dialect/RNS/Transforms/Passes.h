//===- Passes.h - rns transformations ---------------------------*- C++ -*-===//
#ifndef CERIUM_DIALECT_RNS_TRANSFORMS_PASSES_H
#define CERIUM_DIALECT_RNS_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>
#include <string>

namespace cerium::rns {

/// Moves every elementwise op on limb arrays into an `rns.kernel` and
/// merges kernels: a producer whose only result has one use, in a kernel,
/// joins that kernel (vertical fusion: the intermediate never reaches
/// memory); adjacent independent kernels over the same limbs join into one
/// multi-result kernel (horizontal fusion: shared operands are read once).
/// The tensor product of two ciphertexts becomes one kernel reading four
/// polynomials and writing three. A vertical merge keeps the producer's
/// operands live until the consumer, so it is taken only where the limbs
/// live in between stay within the unfused peak: a long chain of sums
/// becomes several kernels rather than one that holds every term.
std::unique_ptr<mlir::Pass> createFuseElementwisePass();

/// A key switch whose digits are all rotated by one automorphism, each
/// copy used by it alone, reads the unrotated digits through it instead
/// (`permute`): the rotated copies are never written.
std::unique_ptr<mlir::Pass> createFoldDigitAutomorphPass();

/// Gives every run of uses of one rns.encode that lie within `distance`
/// ops of the previous use an encode of its own, made right before the
/// run: a constant CSE shared between far-apart code (two bootstraps at
/// one level) is encoded again rather than held in the arena in between.
std::unique_ptr<mlir::Pass>
createRematerializeEncodesPass(int64_t distance = 1000);

/// Memory planning by liveness: gives every limb array an offset (in limbs)
/// in one arena, reusing the space of arrays after their last use; a kernel,
/// ntt or intt writes its result over an operand that dies there. Slices are
/// views of their operand's space. An array used only by a concat (and the
/// in-place chain that produces it) is computed inside the concat's result,
/// so the concat copies nothing for it. Records `rns.offsets` on each op,
/// `rns.arg_offsets` and `rns.arena_limbs` on the function.
///
/// With `rank` >= 0 on a partitioned schedule (rns-partition), plans the
/// memory of that process: an array that limb-wise ops make and read holds
/// only the limbs of the rank's primes, in order; one made on another rank
/// that nothing here reads takes no space; arrays needed whole (inputs,
/// gathered, converted or returned ones, those ops run whole here read)
/// keep every limb. Ops record the form of each result where one is not
/// whole (`rns.held`: 0 whole, 1 this rank's limbs, 2 none). Sets
/// `rns.plan_rank`.
std::unique_ptr<mlir::Pass> createPlanMemoryPass(int64_t rank = -1);

struct PartitionOptions {
  /// Processes the schedule runs on.
  int64_t ranks = 1;
  /// The link's price in modular products: per word moved and per
  /// collective (its latency). The defaults are shared-memory MPI between
  /// CPU processes, measured on an AVX2 Zen 3 host: a vectorized modular
  /// product takes about 0.1 ns, a gathered word about 1.1 ns (1 MiB in
  /// 0.3 ms), a collective about 5 us. Every process of a run partitions
  /// with the same fixed prices, so all of them make the same plan.
  double wordCost = 12, messageCost = 4.5e4;
  /// "auto" chooses per component by cost; "limbs" and "ciphertexts" force
  /// one way everywhere (tests, measurements).
  std::string mode = "auto";
};

/// Splits the schedule over `ranks` processes (see Partition.cpp): marks
/// each op `rns.on = "limbs"` (every rank computes the limbs of its primes,
/// prime id mod ranks) or `rns.on = R` (rank R alone; unmarked: every rank,
/// for encodes shared by several groups), and inserts `rns.all_gather`
/// where an op or the return needs an array whole: before each limb-wise
/// base conversion and before the return. Sets `rns.ranks`. Runs on a
/// planned schedule too (the gathers work in place and need no memory), so
/// the runtime partitions an artifact for the processes it runs on.
std::unique_ptr<mlir::Pass>
createPartitionPass(const PartitionOptions &options = {});

void registerRnsPasses();

} // namespace cerium::rns

#endif // CERIUM_DIALECT_RNS_TRANSFORMS_PASSES_H
