//===- CkksInterpreter.cpp - Executing ckks programs ----------------------===//

#include "cerium/Runtime/CkksInterpreter.h"
#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Support/Error.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace cerium::runtime {

using namespace mlir;

KeyRequirements requiredKeys(func::FuncOp main, const ckks::Params &params) {
  KeyRequirements req;
  main.walk([&](Operation *op) {
    if (isa<ckks::RelinearizeOp>(op))
      req.relinearization = true;
    else if (auto r = dyn_cast<ckks::RotateOp>(op))
      req.galoisElements.push_back(
          ckks::galoisForRotation(params, r.getOffset()));
    else if (isa<ckks::ConjugateOp>(op))
      req.galoisElements.push_back(ckks::galoisForConjugation(params));
  });
  std::sort(req.galoisElements.begin(), req.galoisElements.end());
  req.galoisElements.erase(
      std::unique(req.galoisElements.begin(), req.galoisElements.end()),
      req.galoisElements.end());
  return req;
}

std::vector<ckks::Ciphertext> runCkks(func::FuncOp main, ckks::ParamsPtr params,
                                      kernels::RnsBackend &backend,
                                      const ckks::EvalKeys &keys,
                                      std::vector<ckks::Ciphertext> inputs,
                                      const OpObserver &observer) {
  if (inputs.size() != main.getNumArguments())
    throw Error("the program takes " + std::to_string(main.getNumArguments()) +
                " inputs, got " + std::to_string(inputs.size()));
  ckks::Evaluator eval(params, backend);
  ckks::Encoder encoder(params);
  llvm::DenseMap<Value, ckks::Ciphertext> cts;
  llvm::DenseMap<Value, ckks::Plaintext> pts;
  for (auto [arg, ct] : llvm::zip(main.getArguments(), inputs)) {
    auto type = cast<ckks::CiphertextType>(arg.getType());
    if (ct.level() != type.getLevel())
      throw Error("input at level " + std::to_string(ct.level()) +
                  ", the program expects level " +
                  std::to_string(type.getLevel()));
    cts[arg] = std::move(ct);
  }
  std::vector<ckks::Ciphertext> results;
  const size_t total = main.getBody().front().getOperations().size();
  size_t done = 0;
  // Liveness: each value is freed after its last use, so a run holds only
  // the ciphertexts and plaintexts still needed (what --emit stats reports
  // as the peak).
  llvm::DenseMap<Operation *, SmallVector<Value>> lastUses;
  {
    llvm::DenseMap<Value, Operation *> last;
    for (Operation &op : main.getBody().front())
      for (Value v : op.getOperands())
        last[v] = &op;
    for (auto &[v, op] : last)
      lastUses[op].push_back(v);
  }
  for (Operation &op : main.getBody().front()) {
    auto started = std::chrono::steady_clock::now();
    auto in = [&](unsigned i) -> const ckks::Ciphertext & {
      return cts.find(op.getOperand(i))->second;
    };
    auto set = [&](ckks::Ciphertext ct) {
      cts[op.getResult(0)] = std::move(ct);
    };
    llvm::TypeSwitch<Operation *>(&op)
        .Case<ckks::AddOp>([&](auto) { set(eval.add(in(0), in(1))); })
        .Case<ckks::SubOp>([&](auto) { set(eval.sub(in(0), in(1))); })
        .Case<ckks::NegateOp>([&](auto) { set(eval.negate(in(0))); })
        .Case<ckks::MulOp>([&](auto) { set(eval.multiply(in(0), in(1))); })
        .Case<ckks::RelinearizeOp>(
            [&](auto) { set(eval.relinearize(in(0), keys)); })
        .Case<ckks::RescaleOp>([&](auto) { set(eval.rescale(in(0))); })
        .Case<ckks::RotateOp>(
            [&](auto r) { set(eval.rotate(in(0), r.getOffset(), keys)); })
        .Case<ckks::ConjugateOp>(
            [&](auto) { set(eval.conjugate(in(0), keys)); })
        .Case<ckks::LevelDownOp>([&](auto l) {
          set(eval.adjustToLevel(in(0), static_cast<unsigned>(l.getLevel())));
        })
        .Case<ckks::EncodeOp>([&](ckks::EncodeOp e) {
          auto type = cast<ckks::PlaintextType>(e.getType());
          double scale =
              std::pow(params->levelScale(type.getLevel()), type.getDegree());
          std::vector<double> values(e.getValues().begin(),
                                     e.getValues().end());
          pts[e.getResult()] =
              encoder.encode(values, scale, type.getLevel(), backend);
        })
        .Case<ckks::AddPlainOp>([&](auto) {
          set(eval.addPlain(in(0), pts.find(op.getOperand(1))->second));
        })
        .Case<ckks::MulConstOp>([&](ckks::MulConstOp m) {
          auto type = cast<ckks::CiphertextType>(m.getInput().getType());
          set(eval.multiplyByConstant(in(0), m.getValue().convertToDouble(),
                                      params->levelScale(type.getLevel())));
        })
        .Case<ckks::MulPlainOp>([&](auto) {
          set(eval.mulPlain(in(0), pts.find(op.getOperand(1))->second));
        })
        .Case<func::ReturnOp>([&](auto r) {
          for (Value v : r.getOperands())
            results.push_back(cts.find(v)->second);
        })
        .Default([&](Operation *o) {
          throw Error("cannot execute '" + o->getName().getStringRef().str() +
                      "'");
        });
    for (Value dead : lastUses.lookup(&op)) {
      cts.erase(dead);
      pts.erase(dead);
    }
    if (observer)
      observer(++done, total, &op,
               std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now() - started)
                   .count());
  }
  return results;
}

} // namespace cerium::runtime
