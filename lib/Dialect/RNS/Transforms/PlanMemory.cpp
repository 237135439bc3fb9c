//===- PlanMemory.cpp - Arena offsets for limb arrays by liveness ---------===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "cerium/kernels/RnsContext.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "mlir/Pass/Pass.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <map>
#include <optional>

using namespace mlir;

namespace cerium::rns {
namespace {

/// First-fit allocator over limb slots with coalescing free ranges.
class Arena {
public:
  int64_t allocate(int64_t size) {
    if (size == 0)
      return 0; // an array with no limbs on this rank
    for (auto it = free.begin(); it != free.end(); ++it)
      if (it->second >= size) {
        int64_t at = it->first, rest = it->second - size;
        free.erase(it);
        if (rest)
          free[at + size] = rest;
        return at;
      }
    // Grow: extend a free range that ends at the top, if any.
    int64_t at = end;
    if (!free.empty()) {
      auto last = std::prev(free.end());
      if (last->first + last->second == end) {
        at = last->first;
        free.erase(last);
      }
    }
    end = at + size;
    peak = std::max(peak, end);
    return at;
  }
  void release(int64_t at, int64_t size) {
    if (size == 0)
      return;
    auto next = free.lower_bound(at);
    if (next != free.end() && at + size == next->first) {
      size += next->second;
      next = free.erase(next);
    }
    if (next != free.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == at) {
        prev->second += size;
        return;
      }
    }
    free[at] = size;
  }
  int64_t peakSize() const { return peak; }

private:
  std::map<int64_t, int64_t> free; // offset -> size
  int64_t end = 0, peak = 0;
};

ArrayRef<uint32_t> primesOf(Value v) {
  return cast<LimbsType>(v.getType()).getPrimes();
}

/// Limbs among `primes` that `rank` of `ranks` owns.
int64_t ownedAmong(ArrayRef<uint32_t> primes, int64_t rank, int64_t ranks) {
  return llvm::count_if(primes, [&](uint32_t id) {
    return kernels::ownerOfPrime(id, int(ranks)) == rank;
  });
}

/// How one rank holds an array (`rns.held`): every limb, only the limbs of
/// its primes, or nothing.
enum class Held : int64_t { Whole = 0, Owned = 1, None = 2 };

/// Ops that may write their result over an operand (element by element, or
/// an in-place transform).
bool writesInPlace(Operation *op) { return isa<KernelOp, NttOp, InttOp>(op); }

class PlanMemoryPass
    : public PassWrapper<PlanMemoryPass, OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PlanMemoryPass)

  PlanMemoryPass() = default;
  PlanMemoryPass(const PlanMemoryPass &other) : PassWrapper(other) {}
  explicit PlanMemoryPass(int64_t forRank) { rank = forRank; }

  Option<int64_t> rank{
      *this, "rank",
      llvm::cl::desc("Plan a partitioned schedule for this process: arrays "
                     "its limb-wise ops make hold only its primes' limbs"),
      llvm::cl::init(-1)};

  StringRef getArgument() const final { return "rns-plan-memory"; }
  StringRef getDescription() const final {
    return "Assign arena offsets to limb arrays, reusing dead ones";
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Block &block = func.getBody().front();
    // Every value's storage root (slices view their operand's storage), and
    // the last op that touches each root.
    llvm::DenseMap<Value, Value> root;
    llvm::DenseMap<Value, Operation *> lastUse;
    for (BlockArgument a : block.getArguments())
      root[a] = a;
    for (Operation &op : block) {
      for (Value r : op.getResults())
        root[r] = isa<SliceOp>(op) ? root.lookup(op.getOperand(0)) : r;
      for (Value v : op.getOperands())
        if (root.count(v))
          lastUse[root.lookup(v)] = &op;
    }

    // A partitioned schedule planned for one rank holds each array in one
    // of three forms. Owned: an array that limb-wise ops make and only
    // limb-wise ops read holds just the limbs of this rank's primes, in
    // order (the others are never computed here). None: an array made on
    // another rank (`rns.on`) that nothing here reads takes no space.
    // Whole: the rest, among them what something needs whole: inputs,
    // base conversion inputs, gathered and returned arrays (a gather fills
    // in the other ranks' limbs in place), and what ops run whole here read.
    int64_t ranks = 1;
    if (auto attr = func->getAttrOfType<IntegerAttr>("rns.ranks"))
      ranks = attr.getInt();
    if (rank >= 0 && ranks > 1 && rank >= ranks) {
      func.emitError("rns-plan-memory for rank ")
          << int64_t(rank) << " of a schedule partitioned for " << ranks;
      return signalPassFailure();
    }
    const bool perRank = rank >= 0 && ranks > 1;
    enum class Where { Limbs, Here, Elsewhere };
    auto where = [&](Operation &op) {
      Attribute on = op.getAttr("rns.on");
      if (auto limbs = dyn_cast_or_null<StringAttr>(on))
        return limbs.getValue() == "limbs" ? Where::Limbs : Where::Here;
      if (auto one = dyn_cast_or_null<IntegerAttr>(on))
        return one.getInt() == rank ? Where::Here : Where::Elsewhere;
      return Where::Here;
    };
    llvm::DenseMap<Value, Held> held; // roots not held whole
    if (perRank) {
      llvm::DenseSet<Value> whole, read;
      for (Operation &op : block) {
        if (isa<SliceOp>(op))
          continue; // its uses decide
        Where at = where(op);
        for (Value v : op.getOperands())
          if (at != Where::Elsewhere || isa<AllGatherOp>(op))
            read.insert(root.lookup(v));
        if (auto b = dyn_cast<BaseConvertOp>(op))
          whole.insert(root.lookup(b.getInput()));
        if (at == Where::Here || isa<AllGatherOp>(op))
          for (Value v : op.getOperands())
            whole.insert(root.lookup(v));
      }
      // A limb-wise concat held whole copies its operands whole, so that
      // it is as complete as they are: rns-partition takes the result of a
      // concat of whole arrays as whole on every rank (no gather), which a
      // copy of an operand's own limbs alone would break. Backwards, so
      // that chains of concats propagate.
      for (Operation &op : llvm::reverse(block))
        if (auto concat = dyn_cast<ConcatOp>(op);
            concat && where(op) == Where::Limbs &&
            whole.count(root.lookup(concat.getResult())))
          for (Value v : concat.getInputs())
            whole.insert(root.lookup(v));
      for (Operation &op : block) {
        if (isa<SliceOp, AllGatherOp>(op))
          continue;
        Where at = where(op);
        for (Value r : op.getResults())
          if (at == Where::Limbs && !whole.count(r))
            held[r] = Held::Owned;
          else if (at == Where::Elsewhere && !read.count(r))
            held[r] = Held::None;
      }
    }
    // Plans with the given forms; writes the plan's attributes if asked.
    // Held in part, arrays can pack worse than whole ones: of the two plans
    // the smaller is taken (whole arrays are valid on every rank).
    Builder b(func.getContext());
    SmallVector<int64_t> argOffsets;
    auto plan = [&](const llvm::DenseMap<Value, Held> &held,
                    bool write) -> int64_t {
      auto heldAs = [&](Value v) {
        return held.lookup(root.lookup(v)); // Held::Whole when not listed
      };
      auto isOwned = [&](Value v) { return heldAs(v) == Held::Owned; };
      // Limbs an array takes in this plan.
      auto sizeOf = [&](Value v) {
        switch (heldAs(v)) {
        case Held::Owned:
          return ownedAmong(primesOf(v), rank, ranks);
        case Held::None:
          return int64_t(0);
        case Held::Whole:
          break;
        }
        return int64_t(primesOf(v).size());
      };

      // Placement inside a concat: an operand that is a whole array used only
      // by the concat is computed where the concat's result will hold it, and
      // so is the operand of an in-place op (ntt, intt, kernel) whose result
      // is placed that way and which it feeds alone. The concat then copies
      // nothing for it. placed[v] = (the concat, v's limb position in it).
      llvm::DenseMap<Value, std::pair<Operation *, int64_t>> placed;
      for (Operation &op : llvm::reverse(block)) {
        if (auto concat = dyn_cast<ConcatOp>(op)) {
          int64_t position = 0;
          // Positions count limbs in the concat's own form.
          const bool ownedConcat = isOwned(concat.getResult());
          for (Value v : concat.getInputs()) {
            if (isa<OpResult>(v) && !v.getDefiningOp<SliceOp>() &&
                v.hasOneUse() && !placed.count(v) &&
                heldAs(v) == heldAs(concat.getResult()))
              placed[v] = {concat, position};
            position += ownedConcat ? ownedAmong(primesOf(v), rank, ranks)
                                    : int64_t(primesOf(v).size());
          }
          continue;
        }
        if (!writesInPlace(&op) || op.getNumResults() != 1)
          continue;
        // A copy: inserting into `placed` below may move its buckets.
        std::optional<std::pair<Operation *, int64_t>> target;
        if (auto it = placed.find(op.getResult(0)); it != placed.end())
          target = it->second;
        if (!target)
          continue;
        for (Value v : op.getOperands())
          if (isa<OpResult>(v) && !v.getDefiningOp<SliceOp>() &&
              v.hasOneUse() && heldAs(v) == heldAs(op.getResult(0)) &&
              sizeOf(v) == sizeOf(op.getResult(0)) && !placed.count(v)) {
            placed[v] = *target;
            break;
          }
      }

      Arena arena;
      llvm::DenseMap<Value, int64_t> offset;
      // The space of each concat some operands are placed in, allocated when
      // the first of them is computed.
      llvm::DenseMap<Operation *, int64_t> concatSpace;
      auto placedAt = [&](Value v) -> std::optional<int64_t> {
        auto it = placed.find(v);
        if (it == placed.end())
          return std::nullopt;
        Operation *concat = it->second.first;
        auto space = concatSpace.find(concat);
        if (space == concatSpace.end())
          space = concatSpace
                      .try_emplace(concat,
                                   arena.allocate(sizeOf(concat->getResult(0))))
                      .first;
        return space->second + it->second.second;
      };
      argOffsets.clear();
      for (BlockArgument a : block.getArguments()) {
        offset[a] = arena.allocate(sizeOf(a));
        argOffsets.push_back(offset[a]);
      }
      for (Operation &op : block) {
        if (isa<func::ReturnOp>(op))
          break;
        SmallVector<Value> dying;
        for (Value v : op.getOperands()) {
          Value r = root.lookup(v);
          if (r && lastUse.lookup(r) == &op && !llvm::is_contained(dying, r))
            dying.push_back(r);
        }
        SmallVector<int64_t> offsets;
        if (auto slice = dyn_cast<SliceOp>(op)) {
          int64_t skipped = int64_t(slice.getOffset());
          if (isOwned(slice.getInput()))
            skipped = ownedAmong(primesOf(slice.getInput()).take_front(skipped),
                                 rank, ranks);
          offsets.push_back(offset.lookup(slice.getInput()) + skipped);
        } else if (auto space = concatSpace.find(&op);
                   space != concatSpace.end()) {
          offsets.push_back(space->second); // allocated with its first operand
        } else {
          for (Value r : op.getResults()) {
            if (std::optional<int64_t> at = placedAt(r)) {
              offsets.push_back(*at);
              continue;
            }
            // Reuse a dying operand's space exactly (same place, same size),
            // so that element i of the result overwrites element i of it.
            auto reusable = llvm::find_if(dying, [&](Value d) {
              return writesInPlace(&op) &&
                     llvm::is_contained(op.getOperands(), d) &&
                     heldAs(d) == heldAs(r) && sizeOf(d) == sizeOf(r) &&
                     !placed.count(d);
            });
            if (reusable != dying.end()) {
              offsets.push_back(offset.lookup(*reusable));
              dying.erase(reusable);
            } else {
              offsets.push_back(arena.allocate(sizeOf(r)));
            }
          }
        }
        // Arrays placed inside a concat live and die with its result.
        for (Value d : dying)
          if (!placed.count(d))
            arena.release(offset.lookup(d), sizeOf(d));
        for (auto [r, at] : llvm::zip(op.getResults(), offsets)) {
          offset[r] = at;
          if (r.use_empty() && !isa<SliceOp>(op) && !placed.count(r))
            arena.release(at, sizeOf(r));
        }
        if (!write)
          continue;
        op.setAttr("rns.offsets", b.getDenseI64ArrayAttr(offsets));
        SmallVector<int64_t> forms;
        for (Value r : op.getResults())
          forms.push_back(int64_t(heldAs(r)));
        if (llvm::any_of(forms, [](int64_t f) { return f != 0; }))
          op.setAttr("rns.held", b.getDenseI64ArrayAttr(forms));
        else
          op.removeAttr("rns.held");
      }
      return arena.peakSize();
    };
    const llvm::DenseMap<Value, Held> allWhole;
    const llvm::DenseMap<Value, Held> &chosen =
        perRank && plan(held, false) <= plan(allWhole, false) ? held : allWhole;
    const int64_t peak = plan(chosen, true);
    func->setAttr("rns.arg_offsets", b.getDenseI64ArrayAttr(argOffsets));
    func->setAttr("rns.arena_limbs", b.getI64IntegerAttr(peak));
    if (perRank)
      func->setAttr("rns.plan_rank", b.getI64IntegerAttr(rank));
    else
      func->removeAttr("rns.plan_rank");
  }
};

} // namespace

std::unique_ptr<Pass> createPlanMemoryPass(int64_t rank) {
  return std::make_unique<PlanMemoryPass>(rank);
}

void registerRnsPasses() {
  registerPass([] { return createFoldDigitAutomorphPass(); });
  registerPass([] { return createFuseElementwisePass(); });
  registerPass([] { return createPlanMemoryPass(); });
  registerPass([] { return createPartitionPass(); });
  registerPass([] { return createRematerializeEncodesPass(); });
}

} // namespace cerium::rns
