//===- PlainValues.cpp - Plain tensors known before lowering --------------===//

#include "cerium/Dialect/FHE/Transforms/PlainValues.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/DSL/Shapes.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"

namespace cerium::fhe {

using namespace mlir;

const std::vector<double> *PlainValues::get(Value v) {
  const void *key = v.getAsOpaquePointer();
  if (auto it = cache.find(key); it != cache.end())
    return it->second ? &*it->second : nullptr;
  std::optional<std::vector<double>> values;
  Operation *def = v.getDefiningOp();
  if (auto c = dyn_cast_or_null<ConstantOp>(def)) {
    values.emplace(c.getValues().begin(), c.getValues().end());
  } else if (auto w = dyn_cast_or_null<WeightOp>(def)) {
    values =
        dsl::SafetensorsFile::open(w.getFile().str())->read(w.getName().str());
  } else if (auto t = dyn_cast_or_null<TransposeOp>(def)) {
    if (auto *in = get(t.getInput())) {
      auto s = shapeOf(t.getInput().getType());
      std::vector<int64_t> perm(t.getPerm().begin(), t.getPerm().end());
      values =
          shapes::transposeValues(shapes::Shape(s.begin(), s.end()), *in, perm);
    }
  } else if (auto n = dyn_cast_or_null<NegOp>(def)) {
    if (auto *in = get(n.getInput())) {
      values = *in;
      for (double &x : *values)
        x = -x;
    }
  }
  auto &slot = cache[key] = std::move(values);
  return slot ? &*slot : nullptr;
}

} // namespace cerium::fhe
