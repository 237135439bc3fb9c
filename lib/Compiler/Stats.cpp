//===- Stats.cpp - What a compiled program costs --------------------------===//

#include "cerium/Compiler/Stats.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Runtime/CkksInterpreter.h"

#include <fmt/format.h>

#include <map>

namespace cerium {

namespace {

std::string bytes(double b) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

} // namespace

std::string statsReport(Compilation &c) {
  const ckks::Params &p = *c.params;
  mlir::func::FuncOp main = c.main();
  const double word = 4, n = double(p.degree());
  auto ctBytes = [&](mlir::Type t) {
    auto ct = mlir::cast<ckks::CiphertextType>(t);
    return double(ct.getSize()) * double(p.qCount(ct.getLevel())) * n * word;
  };
  std::map<std::string, int> counts;
  double plaintextBytes = 0, storedPlaintextBytes = 0;
  main.walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "ckks")
      ++counts[op->getName().getStringRef().str()];
    if (auto e = mlir::dyn_cast<ckks::EncodeOp>(op)) {
      auto t = mlir::cast<ckks::PlaintextType>(e.getType());
      plaintextBytes += double(p.qCount(t.getLevel())) * n * word;
      storedPlaintextBytes += double(e.getValues().size()) * 8;
    }
  });
  // Peak of the live ciphertexts, in program order (a value dies after its
  // last use).
  std::map<mlir::Operation *, size_t> position;
  size_t i = 0;
  for (mlir::Operation &op : main.getBody().front())
    position[&op] = i++;
  auto lastUse = [&](mlir::Value v) {
    size_t last = 0;
    for (mlir::Operation *u : v.getUsers())
      last = std::max(last, position[u]);
    return last;
  };
  std::vector<std::pair<size_t, double>> frees; // (position, bytes)
  double live = 0, peak = 0;
  for (mlir::BlockArgument a : main.getArguments()) {
    live += ctBytes(a.getType());
    frees.push_back({lastUse(a), ctBytes(a.getType())});
  }
  peak = live;
  i = 0;
  for (mlir::Operation &op : main.getBody().front()) {
    for (mlir::Value r : op.getResults())
      if (mlir::isa<ckks::CiphertextType>(r.getType())) {
        live += ctBytes(r.getType());
        frees.push_back({lastUse(r), ctBytes(r.getType())});
      }
    peak = std::max(peak, live);
    for (auto &[at, b] : frees)
      if (at == i && b > 0) {
        live -= b;
        b = 0;
      }
    ++i;
  }
  runtime::KeyRequirements keys = runtime::requiredKeys(main, p);
  size_t numKeys = keys.galoisElements.size() + (keys.relinearization ? 1 : 0);
  double keyBytes = double(numKeys) * double(p.digitCount(p.maxLevel())) * 2 *
                    double(p.numP() + p.numQ()) * n * word;

  std::string out = fmt::format("parameters        {}\n", p.describe());
  out += fmt::format("levels            {} (ckks.levels)\n", p.maxLevel());
  out += "ops              ";
  for (auto &[name, count] : counts)
    out += fmt::format(" {}={}", name.substr(5), count);
  out += "\n";
  out += fmt::format("bootstraps        0\n");
  out += fmt::format("evaluation keys   {} (relinearization: {}, rotations: "
                     "{}), {}\n",
                     numKeys, keys.relinearization ? "yes" : "no",
                     keys.galoisElements.size(), bytes(keyBytes));
  out += fmt::format("plaintexts        {} encoded ({} stored in the "
                     "artifact)\n",
                     bytes(plaintextBytes), bytes(storedPlaintextBytes));
  out += fmt::format("peak memory       {} ciphertexts + {} keys\n",
                     bytes(peak), bytes(keyBytes));
  return out;
}

} // namespace cerium
