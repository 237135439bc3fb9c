//===- StreamedKeys.cpp - Switching keys read as the schedule needs them --===//

#include "cerium/Runtime/StreamedKeys.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Support/Error.h"

#include <algorithm>

namespace cerium::runtime {

size_t StreamedKeys::heldBytes(const ckks::EvalKeyFile &file,
                               const ckks::KeyName &name,
                               const ckks::KeySelection &selection) {
  return file.bytes(name, ckks::EvalKeyFile::keepOf(name, &selection),
                    &selection);
}

StreamedKeys::Room StreamedKeys::roomFor(const ckks::EvalKeyFile &file,
                                         const ckks::KeySelection &selection) {
  Room room;
  for (const ckks::KeyName &name : file.names())
    if (size_t held = heldBytes(file, name, selection)) {
      room.largest = std::max(room.largest, held);
      room.reading = std::max(room.reading, file.readingBytes(name));
    }
  return room;
}

size_t StreamedKeys::minimumBudget(const ckks::EvalKeyFile &file,
                                   const ckks::KeySelection &selection) {
  Room room = roomFor(file, selection);
  return room.largest + room.reading;
}

StreamedKeys::StreamedKeys(mlir::func::FuncOp main, int rank,
                           std::shared_ptr<const ckks::EvalKeyFile> file,
                           ckks::KeySelection selection, size_t budgetBytes) {
  std::vector<ckks::KeyName> uses;
  std::map<ckks::KeyName, size_t> bytesOf;
  main.walk([&](rns::KeySwitchOp k) {
    // Only the key switches this process runs (rns-partition).
    if (!runsOn(k, rank))
      return;
    ckks::KeyName name = keyName(k);
    if (!file->has(name))
      throw Error("the evaluation keys hold no " + name.describe().substr(4));
    uses.push_back(name);
    bytesOf.try_emplace(name, heldBytes(*file, name, selection));
  });
  // Reading a key takes room of its own (its file pages, a digit being
  // expanded), which the window leaves free.
  const size_t budget =
      budgetBytes - std::min(budgetBytes, roomFor(*file, selection).reading);
  window = std::make_unique<StreamWindow<ckks::KeyName, ckks::SwitchingKey>>(
      std::move(uses), std::move(bytesOf), budget,
      [file, selection](const ckks::KeyName &name) {
        return std::make_shared<const ckks::SwitchingKey>(file->read(
            name, ckks::EvalKeyFile::keepOf(name, &selection), &selection));
      });
}

const ckks::SwitchingKey &StreamedKeys::key(const ckks::KeyName &name) {
  return window->get(name, [&] { return name.describe(); });
}

size_t StreamedKeys::peakBytes() const { return window->peakBytes(); }

size_t StreamedKeys::reads() const { return window->reads(); }

} // namespace cerium::runtime
