//===- LimitRotationKeys.cpp - Rotations within a key budget --------------===//
//
// Every distinct rotation amount costs a switching key (tens of MiB at
// N = 2^16); a program of many linear maps can ask for hundreds. Within a
// budget — a count of keys, bytes of keys, or both — the powers of two
// below the slot count are kept (any amount is a sum of them), then the
// other amounts by the key switches their own key saves per byte it costs;
// every other rotation becomes a shortest chain of kept amounts (at most one
// step per set bit), and a power of two no chain needs gives its room to
// the next amounts. A key is made over [P, Q_level] for the highest level its
// rotations run at, so with the prime layout (`ckks.rns`) both its bytes
// and the work of each key switch it saves are priced by level (a key
// switch's work grows with digits x limbs, as the key's bytes do).
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

using namespace mlir;

namespace cerium::ckks {
namespace {

class LimitRotationKeysPass
    : public PassWrapper<LimitRotationKeysPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LimitRotationKeysPass)

  LimitRotationKeysPass() = default;
  LimitRotationKeysPass(const LimitRotationKeysPass &other)
      : PassWrapper(other) {}
  LimitRotationKeysPass(unsigned maxKeys, uint64_t maxKeyBytes) {
    maxKeysOption = maxKeys;
    maxKeyBytesOption = maxKeyBytes;
  }

  StringRef getArgument() const final { return "ckks-limit-rotation-keys"; }
  StringRef getDescription() const final {
    return "Compose rotations from kept amounts so that the program needs "
           "at most max-keys rotation keys of at most max-key-bytes in all";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!maxKeysOption && !maxKeyBytesOption)
      return;
    auto slotsAttr = module->getAttrOfType<IntegerAttr>("ckks.slots");
    if (!slotsAttr) {
      module.emitError("ckks-limit-rotation-keys needs the ckks.slots "
                       "module attribute");
      return signalPassFailure();
    }
    std::optional<RnsLayout> layout;
    if (module->hasAttr(RnsLayout::kAttrName)) {
      layout = RnsLayout::of(module);
      if (!layout)
        return signalPassFailure();
    } else if (maxKeyBytesOption) {
      module.emitError("ckks-limit-rotation-keys: a byte budget needs the "
                       "prime layout (ckks.rns)");
      return signalPassFailure();
    }
    // A key's bytes at a level, and the work of one key switch there in the
    // same unit; without a layout (no byte budget) every key and key switch
    // counts one.
    auto keyBytes = [&](unsigned level) {
      return layout ? layout->keyBytes(level) : 1.0;
    };
    const int64_t slots = slotsAttr.getInt();
    // Amounts of `slots` or more rotate the whole ring, not the program's
    // slots: a sparse bootstrap's trace onto the subring (n, 2n, ...,
    // N / 4) and its CoeffToSlot / SlotToCoeff factors over 2n slots
    // (amounts in (n, 2n)). Reduced modulo the slots they would vanish;
    // they keep their own keys. (Those in (n, 2n) could be composed as n
    // and a chain for the rest; not done.)
    auto ringwide = [&](RotateOp r) {
      return r.getOffset() >= uint64_t(slots);
    };
    auto levelOf = [](RotateOp r) {
      return cast<CiphertextType>(r.getInput().getType()).getLevel();
    };
    // Amounts below the slots: r rotates by its amount modulo the slots.
    auto modSlots = [&](int64_t amount) {
      return (amount % slots + slots) % slots;
    };
    auto amountOf = [&](RotateOp r) -> int64_t {
      return modSlots(r.getOffset());
    };
    struct Uses {
      unsigned level = 0;  // the highest a rotation by it runs at
      double switches = 0; // its rotations' key-switch work, by level
    };
    std::vector<RotateOp> rotations;
    std::map<int64_t, Uses> uses;
    std::map<int64_t, unsigned> ringLevels;
    module.walk([&](RotateOp r) {
      const unsigned level = levelOf(r);
      if (ringwide(r)) {
        unsigned &l = ringLevels[r.getOffset()];
        l = std::max(l, level);
        return;
      }
      rotations.push_back(r);
      Uses &u = uses[amountOf(r)];
      u.level = std::max(u.level, level);
      u.switches += keyBytes(level);
    });
    const size_t maxKeys = maxKeysOption ? size_t(maxKeysOption) : SIZE_MAX;
    const double maxBytes =
        maxKeyBytesOption ? double(uint64_t(maxKeyBytesOption)) : INFINITY;
    double ringBytes = 0;
    for (auto [amount, level] : ringLevels)
      ringBytes += keyBytes(level);
    double allBytes = ringBytes;
    for (auto &[amount, u] : uses)
      allBytes += keyBytes(u.level);
    if (uses.size() + ringLevels.size() <= maxKeys && allBytes <= maxBytes)
      return;
    // The powers of two first, each at the highest level of a rotation with
    // its bit (a bound: a rotation with its own key composes nothing; the
    // chains below may leave one unused, or price it lower).
    const unsigned powers = unsigned(llvm::countr_zero(uint64_t(slots)));
    std::map<int64_t, unsigned> keep;
    for (auto &[amount, u] : uses)
      for (unsigned p = 0; p < powers; ++p)
        if (amount >> p & 1) {
          unsigned &l = keep[int64_t(1) << p];
          l = std::max(l, u.level);
        }
    size_t keys = ringLevels.size() + keep.size();
    double bytes = ringBytes;
    for (auto [amount, level] : keep)
      bytes += keyBytes(level);
    if (keys > maxKeys) {
      module.emitError("a budget of ")
          << unsigned(maxKeysOption)
          << " rotation keys cannot compose every rotation "
          << "of " << slots << " slots: it needs at least " << keys;
      return signalPassFailure();
    }
    if (bytes > maxBytes) {
      module.emitError("a budget of ")
          << llvm::formatv("{0:F1}", maxBytes / 1048576.0).str()
          << " MiB of rotation keys cannot compose every rotation of " << slots
          << " slots: it needs at least "
          << llvm::formatv("{0:F1}", bytes / 1048576.0).str() << " MiB";
      return signalPassFailure();
    }
    // The other amounts by the work their own key saves (one key switch
    // per set bit but one, at each use's level), per byte of the key under
    // a byte budget.
    struct Candidate {
      double value;
      int64_t amount;
    };
    std::vector<Candidate> candidates;
    // Under a count alone every key costs one: the work saved decides.
    for (auto &[amount, u] : uses)
      if (!keep.count(amount))
        candidates.push_back(
            {u.switches * (llvm::popcount(uint64_t(amount)) - 1) /
                 (maxKeyBytesOption ? keyBytes(u.level) : 1.0),
             amount});
    std::sort(candidates.begin(), candidates.end(), [](auto a, auto b) {
      return a.value != b.value ? a.value > b.value : a.amount < b.amount;
    });
    auto addCandidates = [&] {
      bool added = false;
      for (const Candidate &c : candidates) {
        if (keys == maxKeys)
          break;
        const unsigned level = uses[c.amount].level;
        if (keep.count(c.amount) || bytes + keyBytes(level) > maxBytes)
          continue; // a smaller key further down may still fit
        keep.emplace(c.amount, level);
        ++keys;
        bytes += keyBytes(level);
        added = true;
      }
      return added;
    };
    addCandidates();
    // Every other rotation becomes a shortest chain of kept amounts: a
    // breadth-first search over the amounts modulo the slots from 0, by
    // the kept amounts whose keys reach the rotation's level (a key is
    // made as long as its highest use: the budget priced it so), which is
    // never longer than the power-of-two chain (one step per set bit) and
    // often shorter (with 3 and 16 kept, 19 is two steps, not three).
    // Rotations of one ciphertext share their chains' prefixes (the search
    // tree's paths from 0), and repeated amounts their results.
    std::map<unsigned, std::vector<int64_t>> trees; // by level: each parent
    auto treeAt = [&](unsigned level) -> const std::vector<int64_t> & {
      auto [it, fresh] = trees.try_emplace(level);
      std::vector<int64_t> &parent = it->second;
      if (!fresh)
        return parent;
      parent.assign(size_t(slots), -1);
      parent[0] = 0;
      std::vector<int64_t> queue{0};
      for (size_t i = 0; i < queue.size(); ++i)
        for (auto [step, keyLevel] : keep)
          if (keyLevel >= level) {
            const int64_t to = (queue[i] + step) % slots;
            if (parent[size_t(to)] < 0) {
              parent[size_t(to)] = queue[i];
              queue.push_back(to);
            }
          }
      return parent;
    };
    // The amounts a chain for `amount` at `level` passes, from its first
    // step's to the amount (none if the kept keys do not reach it).
    auto chainTo = [&](int64_t amount,
                       unsigned level) -> std::optional<std::vector<int64_t>> {
      const std::vector<int64_t> &parent = treeAt(level);
      std::vector<int64_t> path;
      for (int64_t at = amount; at != 0; at = parent[size_t(at)]) {
        if (parent[size_t(at)] < 0)
          return std::nullopt;
        path.push_back(at);
      }
      std::reverse(path.begin(), path.end());
      return path;
    };
    // A step's kept amount, in [0, slots): the sum mod the slots rotates
    // the same, but another amount is another key.
    auto stepAmount = [&](int64_t from, int64_t to) {
      return modSlots(to - from);
    };
    // A kept key no chain steps by (a power of two the chains go around)
    // gives its room to the next candidates, and one the chains step by
    // only at lower levels than it was priced at is priced at those (its
    // key is made only that long); the chains are searched again until
    // nothing moves. A candidate kept has rotations of its own, so only
    // powers of two leave, and the chains found stay possible (they did
    // without the keys dropped, at the levels kept).
    for (;;) {
      std::map<int64_t, unsigned> stepLevel; // highest level stepped at
      for (RotateOp r : rotations) {
        const int64_t amount = amountOf(r);
        const unsigned level = levelOf(r);
        if (keep.count(amount)) {
          unsigned &l = stepLevel[amount];
          l = std::max(l, level);
          continue;
        }
        auto chain = chainTo(amount, level);
        if (!chain) {
          r.emitError("ckks-limit-rotation-keys: no chain of kept keys "
                      "reaches rotation amount ")
              << amount;
          return signalPassFailure();
        }
        int64_t from = 0;
        for (int64_t at : *chain) {
          unsigned &l = stepLevel[stepAmount(from, at)];
          l = std::max(l, level);
          from = at;
        }
      }
      bool moved = false;
      for (auto it = keep.begin(); it != keep.end();) {
        auto used = stepLevel.find(it->first);
        if (used == stepLevel.end()) {
          bytes -= keyBytes(it->second);
          --keys;
          it = keep.erase(it);
          moved = true;
          continue;
        }
        if (used->second < it->second) {
          bytes -= keyBytes(it->second) - keyBytes(used->second);
          it->second = used->second;
          moved = true;
        }
        ++it;
      }
      if (!moved)
        break;
      trees.clear();
      if (!addCandidates())
        break;
    }
    // x rotated by each amount made so far in the rotation's block (program
    // order: each dominates the rotations after it there).
    using Made = std::tuple<const void *, const void *, int64_t>;
    std::map<Made, Value> made;
    for (RotateOp r : rotations) {
      const int64_t amount = amountOf(r);
      Value in = r.getInput();
      const void *block = r->getBlock();
      auto madeBefore = made.find({block, in.getAsOpaquePointer(), amount});
      if (madeBefore != made.end()) {
        r.replaceAllUsesWith(madeBefore->second);
        r.erase();
        continue;
      }
      if (keep.count(amount)) {
        made[{block, in.getAsOpaquePointer(), amount}] = r.getResult();
        continue;
      }
      // Each step of the chain (found above, so it exists) made unless made.
      OpBuilder b(r);
      Value x = in;
      int64_t from = 0;
      const std::vector<int64_t> chain = *chainTo(amount, levelOf(r));
      for (int64_t at : chain) {
        Value &step = made[{block, in.getAsOpaquePointer(), at}];
        if (!step)
          step = RotateOp::create(b, r.getLoc(), x,
                                  b.getI64IntegerAttr(stepAmount(from, at)));
        x = step;
        from = at;
      }
      r.replaceAllUsesWith(x);
      r.erase();
    }
  }

  Option<unsigned> maxKeysOption{
      *this, "max-keys", llvm::cl::desc("rotation keys at most (0: no limit)"),
      llvm::cl::init(0)};
  Option<uint64_t> maxKeyBytesOption{
      *this, "max-key-bytes",
      llvm::cl::desc("bytes of rotation keys at most, each over [P, Q_level] "
                     "for its highest level (0: no limit; needs ckks.rns)"),
      llvm::cl::init(0)};
};

} // namespace

std::unique_ptr<Pass> createLimitRotationKeysPass(unsigned maxKeys,
                                                  uint64_t maxKeyBytes) {
  return std::make_unique<LimitRotationKeysPass>(maxKeys, maxKeyBytes);
}

void registerLimitRotationKeysPass() {
  PassRegistration<LimitRotationKeysPass>();
}

} // namespace cerium::ckks
