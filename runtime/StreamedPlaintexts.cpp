//===- StreamedPlaintexts.cpp - Constants read as the schedule needs them -===//

#include "cerium/Runtime/StreamedPlaintexts.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"

#include <cstring>
#include <unistd.h>

namespace cerium::runtime {

namespace {

/// Calls `f` on each #rns.stored encode of `main` that process `rank` runs
/// (rank -1: every one), in order.
void forEachStored(mlir::func::FuncOp main, int rank,
                   llvm::function_ref<void(rns::StoredValuesAttr)> f) {
  main.walk([&](rns::EncodeOp e) {
    if (rank >= 0 && !runsOn(e, rank))
      return;
    if (auto stored = mlir::dyn_cast<rns::StoredValuesAttr>(e.getValues()))
      f(stored);
  });
}

/// How many constants the window reads ahead at most: enough to keep the
/// encodes fed (a copy takes microseconds, an encode far longer).
constexpr size_t kReadAhead = 32;

size_t largestConstant(mlir::func::FuncOp main) {
  size_t largest = 0;
  forEachStored(main, -1, [&](rns::StoredValuesAttr s) {
    largest = std::max(largest, size_t(s.getBytes()));
  });
  return largest;
}

/// The file pages a copy of `bytes` reads: its own and a page at each end.
size_t readingBytes(size_t bytes) {
  return bytes + 2 * size_t(::sysconf(_SC_PAGESIZE));
}

} // namespace

size_t StreamedPlaintexts::minimumBudget(mlir::func::FuncOp main) {
  const size_t largest = largestConstant(main);
  return largest + readingBytes(largest);
}

StreamedPlaintexts::StreamedPlaintexts(
    mlir::func::FuncOp main, int rank,
    std::shared_ptr<const MappedContainer> file,
    std::span<const uint8_t> section, size_t budgetBytes) {
  std::vector<uint64_t> uses;
  std::map<uint64_t, size_t> bytesOf;
  forEachStored(main, rank, [&](rns::StoredValuesAttr s) {
    uses.push_back(s.getOffset());
    bytesOf.try_emplace(s.getOffset(), size_t(s.getBytes()));
  });
  const size_t reading = readingBytes(largestConstant(main));
  window = std::make_unique<StreamWindow<uint64_t, Words>>(
      std::move(uses), bytesOf, budgetBytes - std::min(budgetBytes, reading),
      [file, section, bytesOf](uint64_t offset) {
        const size_t bytes = bytesOf.at(offset);
        auto words = std::make_shared<Words>((bytes + 7) / 8);
        std::memcpy(words->data(), section.data() + offset, bytes);
        // Where the copy came from, as payload bytes.
        const size_t from =
            size_t(section.data() - file->payload.data()) + offset;
        file->release(from, from + bytes, /*edges=*/true);
        return std::shared_ptr<const Words>(std::move(words));
      },
      kReadAhead);
}

SlotValueData StreamedPlaintexts::values(mlir::Operation *encode) {
  auto stored = mlir::cast<rns::StoredValuesAttr>(
      mlir::cast<rns::EncodeOp>(encode).getValues());
  const Words &words = window->get(stored.getOffset(), [&] {
    return "the plaintext constant at byte " +
           std::to_string(stored.getOffset()) + " of the constant section";
  });
  if (stored.getBytes() > words.size() * 8) // readArtifact refuses this
    throw Error("internal error: a plaintext constant longer than its place");
  return {words.data(), size_t(stored.getCount()), stored.getF32()};
}

} // namespace cerium::runtime
