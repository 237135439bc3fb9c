//===- FunctionRebuilder.cpp - 1:N lowering of straight-line functions ----===//

#include "cerium/Conversion/FunctionRebuilder.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;

namespace cerium {

LogicalResult rebuildFunction(func::FuncOp func,
                              const FunctionLowering &lowering) {
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("expected a straight-line function (one block)");
  Block &oldBlock = func.getBody().front();
  SmallVector<Type> argTypes, resultTypes;
  for (Type t : func.getArgumentTypes())
    lowering.convertType(t, argTypes);
  for (Type t : func.getResultTypes())
    lowering.convertType(t, resultTypes);

  // Built after the old block in the same region, which it then replaces.
  Block *newBlock = new Block();
  func.getBody().push_back(newBlock);
  llvm::DenseMap<Value, SmallVector<Value, 3>> lowered;
  for (BlockArgument arg : oldBlock.getArguments()) {
    SmallVector<Type> types;
    lowering.convertType(arg.getType(), types);
    SmallVector<Value, 3> values;
    for (Type t : types)
      values.push_back(newBlock->addArgument(t, arg.getLoc()));
    lowered[arg] = std::move(values);
  }
  OpBuilder builder = OpBuilder::atBlockEnd(newBlock);
  for (Operation &op : oldBlock) {
    builder.setInsertionPointToEnd(newBlock);
    SmallVector<SmallVector<Value, 3>> operands;
    for (Value v : op.getOperands())
      operands.push_back(lowered.lookup(v));
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<Value> flat;
      for (auto &values : operands)
        flat.append(values.begin(), values.end());
      func::ReturnOp::create(builder, ret.getLoc(), flat);
      continue;
    }
    FailureOr<LoweredValues> results = lowering.lowerOp(builder, &op, operands);
    if (failed(results)) {
      newBlock->dropAllReferences();
      newBlock->dropAllDefinedValueUses();
      newBlock->erase();
      return failure();
    }
    for (auto [result, values] : llvm::zip_equal(op.getResults(), *results))
      lowered[result] = values;
  }
  // Swap in the new body only once the whole function lowered.
  oldBlock.dropAllReferences();
  oldBlock.dropAllDefinedValueUses();
  oldBlock.erase();
  // Argument and result attributes describe the old values one by one; they
  // cannot follow a value that became several.
  if (argTypes.size() != func.getNumArguments())
    func.removeArgAttrsAttr();
  if (resultTypes.size() != func.getNumResults())
    func.removeResAttrsAttr();
  func.setFunctionType(
      FunctionType::get(func.getContext(), argTypes, resultTypes));
  return success();
}

} // namespace cerium
