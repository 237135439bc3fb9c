//===- LimitRotationKeys.cpp - Rotations within a key budget --------------===//
//
// Every distinct rotation amount costs a switching key (tens of MiB at
// N = 2^16); a program of many linear maps can ask for hundreds. With a
// budget of K keys, the powers of two below the slot count are kept (any
// amount is a sum of them) plus the K - log2(slots) amounts whose direct
// key saves the most key switches (uses x (set bits - 1)); every other
// rotation becomes a chain of power-of-two rotations, one per set bit.
//
//===----------------------------------------------------------------------===//

#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/bit.h"

#include <algorithm>
#include <map>
#include <set>
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
  explicit LimitRotationKeysPass(unsigned maxKeys) { maxKeysOption = maxKeys; }

  StringRef getArgument() const final { return "ckks-limit-rotation-keys"; }
  StringRef getDescription() const final {
    return "Compose rotations from powers of two so that the program needs "
           "at most max-keys rotation keys";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!maxKeysOption)
      return;
    auto slotsAttr = module->getAttrOfType<IntegerAttr>("ckks.slots");
    if (!slotsAttr) {
      module.emitError("ckks-limit-rotation-keys needs the ckks.slots "
                       "module attribute");
      return signalPassFailure();
    }
    const int64_t slots = slotsAttr.getInt();
    // Amounts of `slots` or more rotate the whole ring, not the program's
    // slots: a sparse bootstrap's trace onto the subring (n, 2n, ...,
    // N / 4). Reduced modulo the slots they would vanish; they keep their
    // own keys.
    auto ringwide = [&](RotateOp r) { return r.getOffset() >= slots; };
    std::vector<RotateOp> rotations;
    std::map<int64_t, int64_t> uses;
    std::set<int64_t> ringAmounts;
    module.walk([&](RotateOp r) {
      if (ringwide(r)) {
        ringAmounts.insert(r.getOffset());
        return;
      }
      rotations.push_back(r);
      ++uses[((r.getOffset() % slots) + slots) % slots];
    });
    const size_t budget = maxKeysOption > ringAmounts.size()
                              ? maxKeysOption - ringAmounts.size()
                              : 0;
    if (uses.size() <= budget)
      return;
    const unsigned powers = unsigned(llvm::countr_zero(uint64_t(slots)));
    if (budget < powers) {
      module.emitError("a budget of ")
          << unsigned(maxKeysOption)
          << " rotation keys cannot compose every rotation "
          << "of " << slots << " slots: it needs at least "
          << powers + ringAmounts.size();
      return signalPassFailure();
    }
    // The amounts that keep a key of their own.
    std::set<int64_t> keep;
    for (unsigned p = 0; p < powers; ++p)
      keep.insert(int64_t(1) << p);
    std::vector<std::pair<int64_t, int64_t>> savings; // (saving, amount)
    for (auto [amount, count] : uses)
      if (!keep.count(amount))
        savings.push_back(
            {count * (llvm::popcount(uint64_t(amount)) - 1), amount});
    std::sort(savings.begin(), savings.end(), [](auto a, auto b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (size_t i = 0; i < savings.size() && keep.size() < budget; ++i)
      keep.insert(savings[i].second);
    for (RotateOp r : rotations) {
      const int64_t amount = ((r.getOffset() % slots) + slots) % slots;
      if (keep.count(amount))
        continue;
      OpBuilder b(r);
      Value x = r.getInput();
      for (unsigned p = 0; p < powers; ++p)
        if (amount >> p & 1)
          x = RotateOp::create(b, r.getLoc(), x,
                               b.getI64IntegerAttr(int64_t(1) << p));
      r.replaceAllUsesWith(x);
      r.erase();
    }
  }

  Option<unsigned> maxKeysOption{
      *this, "max-keys", llvm::cl::desc("rotation keys at most (0: no limit)"),
      llvm::cl::init(0)};
};

} // namespace

std::unique_ptr<Pass> createLimitRotationKeysPass(unsigned maxKeys) {
  return std::make_unique<LimitRotationKeysPass>(maxKeys);
}

void registerLimitRotationKeysPass() {
  PassRegistration<LimitRotationKeysPass>();
}

} // namespace cerium::ckks
