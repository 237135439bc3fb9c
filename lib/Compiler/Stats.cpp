//===- Stats.cpp - What a compiled program costs --------------------------===//

#include "cerium/Compiler/Stats.h"
#include "cerium/Compiler/Estimate.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/SlotValues.h"
#include "cerium/Runtime/Schedule.h"

#include <fmt/format.h>

#include <map>

namespace cerium {

std::string formatBytes(double b) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

std::string statsReport(Compilation &c) {
  const ckks::Params &p = *c.params;
  auto ckksMain = c.ckksModule->lookupSymbol<mlir::func::FuncOp>("main");
  mlir::func::FuncOp main = c.main();
  const double word = 4, n = double(p.degree());
  std::map<std::string, int> counts, kernels;
  double plaintextBytes = 0, storedPlaintextBytes = 0;
  ckksMain.walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "ckks")
      ++counts[op->getName().getStringRef().str()];
    if (auto e = mlir::dyn_cast<ckks::EncodeOp>(op)) {
      auto t = mlir::cast<ckks::PlaintextType>(e.getType());
      plaintextBytes += double(p.qCount(t.getLevel())) * n * word;
      storedPlaintextBytes += double(slotValueData(e.getValues()).bytes());
    }
  });
  for (mlir::Operation &op : main.getBody().front())
    if (!mlir::isa<rns::SliceOp, mlir::func::ReturnOp>(op))
      ++kernels[op.getName().getStringRef().str()];
  runtime::KeyRequirements keys = runtime::requiredKeys(main);
  size_t numKeys = keys.galois.size() + (keys.relinearization ? 1 : 0) +
                   (keys.encapsulation ? 2 : 0);
  double keyBytes = evalKeyBytes(p, keys);
  double arena = double(runtime::arenaBytes(main));

  std::string out = fmt::format("parameters        {}\n", p.describe());
  out += fmt::format("levels            {} (ckks.levels)\n", p.maxLevel());
  out += "ops              ";
  for (auto &[name, count] : counts)
    out += fmt::format(" {}={}", name.substr(5), count);
  out += "\nkernel calls     ";
  for (auto &[name, count] : kernels)
    out += fmt::format(" {}={}", name.substr(4), count);
  out += "\n";
  // Each with the source line it serves, the level it refreshes to and its
  // iterations (meta-bootstrapping).
  out += fmt::format("bootstraps        {}", c.bootstraps.size());
  auto listEach = [&](const char *label, auto field) {
    for (size_t i = 0; i < c.bootstraps.size(); ++i)
      out += fmt::format("{}{}", i ? ", " : label, field(c.bootstraps[i]));
  };
  listEach(" (lines ", [](const auto &b) { return b.line; });
  listEach("; to levels ", [](const auto &b) { return b.level; });
  listEach("; iterations ", [](const auto &b) { return b.iterations; });
  if (!c.bootstraps.empty() && c.bootstrapInputLevel)
    out += fmt::format("; SlotToCoeff first, inputs at level {}",
                       c.bootstrapInputLevel);
  out += c.bootstraps.empty() ? "\n" : ")\n";
  // The approximations of nonlinear functions, as the lowering chose them.
  auto approximations =
      c.ckksModule
          ? (*c.ckksModule)
                ->getAttrOfType<mlir::ArrayAttr>(fhe::kApproximationsAttr)
          : mlir::ArrayAttr();
  out += fmt::format("approximations    {}\n",
                     approximations ? approximations.size() : 0);
  if (approximations)
    for (mlir::Attribute a : approximations)
      out += fmt::format("  {}\n", mlir::cast<mlir::StringAttr>(a).getValue());
  // The layouts the lowering's assignment chose, and the conversions.
  if (c.ckksModule)
    if (auto summary =
            (*c.ckksModule)
                ->getAttrOfType<mlir::StringAttr>(fhe::kLayoutSummaryAttr)) {
      out += fmt::format("layouts           {}\n", summary.getValue().str());
      if (auto notes = (*c.ckksModule)
                           ->getAttrOfType<mlir::ArrayAttr>(fhe::kLayoutsAttr))
        for (mlir::Attribute a : notes)
          out += fmt::format("  {}\n",
                             mlir::cast<mlir::StringAttr>(a).getValue().str());
    }
  out += fmt::format(
      "evaluation keys   {} (relinearization: {}, rotations: {}{}), {} in "
      "memory whole, {} compact (cerium-run --keys; the uniform halves as "
      "seeds, as in eval.keys)\n",
      numKeys, keys.relinearization ? "yes" : "no", keys.galois.size(),
      keys.encapsulation ? ", sparse-secret encapsulation: 2" : "",
      formatBytes(keyBytes), formatBytes(keyBytes / 2));
  out += fmt::format("plaintexts        {} encoded ({} stored in the "
                     "artifact)\n",
                     formatBytes(plaintextBytes),
                     formatBytes(storedPlaintextBytes));
  out += fmt::format("peak memory       {} arena (planned) + {} keys whole "
                     "({} compact)\n",
                     formatBytes(arena), formatBytes(keyBytes),
                     formatBytes(keyBytes / 2));
  return out;
}

} // namespace cerium
