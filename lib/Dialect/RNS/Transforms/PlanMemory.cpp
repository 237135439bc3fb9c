//===- PlanMemory.cpp - Arena offsets for limb arrays by liveness ---------===//

#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/DenseMap.h"

#include <map>
#include <optional>

using namespace mlir;

namespace cerium::rns {
namespace {

/// First-fit allocator over limb slots with coalescing free ranges.
class Arena {
public:
  int64_t allocate(int64_t size) {
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

int64_t sizeOf(Value v) {
  return int64_t(cast<LimbsType>(v.getType()).getNumLimbs());
}

/// Ops that may write their result over an operand (element by element, or
/// an in-place transform).
bool writesInPlace(Operation *op) { return isa<KernelOp, NttOp, InttOp>(op); }

class PlanMemoryPass
    : public PassWrapper<PlanMemoryPass, OperationPass<func::FuncOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PlanMemoryPass)

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

    // Placement inside a concat: an operand that is a whole array used only
    // by the concat is computed where the concat's result will hold it, and
    // so is the operand of an in-place op (ntt, intt, kernel) whose result
    // is placed that way and which it feeds alone. The concat then copies
    // nothing for it. placed[v] = (the concat, v's limb position in it).
    llvm::DenseMap<Value, std::pair<Operation *, int64_t>> placed;
    for (Operation &op : llvm::reverse(block)) {
      if (auto concat = dyn_cast<ConcatOp>(op)) {
        int64_t position = 0;
        for (Value v : concat.getInputs()) {
          if (isa<OpResult>(v) && !v.getDefiningOp<SliceOp>() &&
              v.hasOneUse() && !placed.count(v))
            placed[v] = {concat, position};
          position += sizeOf(v);
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
        if (isa<OpResult>(v) && !v.getDefiningOp<SliceOp>() && v.hasOneUse() &&
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
    SmallVector<int64_t> argOffsets;
    for (BlockArgument a : block.getArguments()) {
      offset[a] = arena.allocate(sizeOf(a));
      argOffsets.push_back(offset[a]);
    }
    Builder b(func.getContext());
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
        offsets.push_back(offset.lookup(slice.getInput()) + slice.getOffset());
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
                   sizeOf(d) == sizeOf(r) && !placed.count(d);
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
      op.setAttr("rns.offsets", b.getDenseI64ArrayAttr(offsets));
    }
    func->setAttr("rns.arg_offsets", b.getDenseI64ArrayAttr(argOffsets));
    func->setAttr("rns.arena_limbs", b.getI64IntegerAttr(arena.peakSize()));
  }
};

} // namespace

std::unique_ptr<Pass> createPlanMemoryPass() {
  return std::make_unique<PlanMemoryPass>();
}

void registerRnsPasses() {
  registerPass([] { return createFuseElementwisePass(); });
  registerPass([] { return createPlanMemoryPass(); });
  registerPass([] { return createPartitionPass(); });
}

} // namespace cerium::rns
